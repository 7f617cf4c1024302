"""What the fake gateway answers: `Reply`, and the bodies and stream events it renders to.

Bodies follow what OpenAI sends: a `chat.completion` object, `{"error": {...}}` for errors,
and for streams `data: {chat.completion.chunk}` events, a usage chunk with `choices: []` when
the request asked for `stream_options.include_usage`, then `data: [DONE]`.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, Literal, TypeAlias, get_args

import attrs

__all__ = [
    "CUT",
    "DEFAULT_CONTENT",
    "PING_INTERVAL",
    "STREAM_FAULTS",
    "Fault",
    "Reply",
    "error_body",
    "render_body",
    "render_events",
    "render_reply",
    "tool_call",
    "wants_stream",
]

Fault: TypeAlias = Literal[
    "close",
    "drop_mid_body",
    "hang",
    "error_event",
    "error_event_flat",
    "pings_only",
    "malformed_event",
    "cut",
]
"""How an answer goes wrong.

- `close`: read the request, close the connection without a byte of answer;
- `drop_mid_body`: send the status, headers and half the body, then close (a stream: some
  content, no finish_reason, no `[DONE]`, no end of the chunked body);
- `hang`: never answer (until the client gives up or the gateway stops);
- streams only: `error_event` (OpenAI's `data: {"error": {...}}` after some content, then the
  body ends), `error_event_flat` (vLLM's `data: {"object": "error", "message": ...}`, then
  `data: [DONE]`, as vLLM does), `pings_only` (`: ping` comments every `pause` seconds, 0.1 by
  default, and nothing else until the client goes), `malformed_event` (a data line that is not
  JSON after the first chunk; the rest follows as usual), `cut` (the whole stream, then the
  connection closes without ending the chunked body).
"""
STREAM_FAULTS: Final = frozenset(
    {"error_event", "error_event_flat", "pings_only", "malformed_event", "cut"}
)
# Faults that act on the connection or on time: no bytes stand for them.
_CONNECTION_FAULTS: Final = frozenset({"close", "drop_mid_body", "hang", "pings_only"})
DEFAULT_CONTENT: Final = "This is a test answer from the fake gateway."
# What a renderer yields to mean "close the connection now, mid-body"; an empty event
# writes nothing but still takes its pause.
CUT: Final = None
PING_INTERVAL: Final = 0.1
# Rough counts, not a tokenizer: enough for code that reads `usage` to see plausible numbers.
_IMAGE_TOKENS: Final = 85
_STATUS_ERRORS: Final[Mapping[int, tuple[str, str | None, str]]] = {
    400: ("invalid_request_error", None, "The request was invalid."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", None, "You are not allowed to use this model."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    409: ("invalid_request_error", None, "Another request is in progress."),
    422: ("invalid_request_error", None, "The request could not be processed."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached. Please try again later."),
}
_SERVER_ERROR: Final = ("server_error", None, "The server had an error processing your request.")


def _non_negative(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{attribute.name} must be a finite number >= 0, got {value!r}")


def _check_status(_: object, __: attrs.Attribute[int], value: int) -> None:
    if not (isinstance(value, int) and 100 <= value <= 599):
        raise ValueError(f"status must be an HTTP status (100 to 599), got {value!r}")


def _check_fault(instance: Reply, _: attrs.Attribute[Fault | None], value: object) -> None:
    if value is not None and value not in get_args(Fault):
        raise ValueError(f"fault must be one of {', '.join(get_args(Fault))}, got {value!r}")
    if value in STREAM_FAULTS and instance.stream is False:
        raise ValueError(f"fault {value!r} is a stream fault: it needs a streamed answer")


def _check_tool_calls(_: object, __: attrs.Attribute[Sequence[Any]], value: object) -> None:
    for index, call in enumerate(value if isinstance(value, Sequence) else [value]):
        function = call.get("function") if isinstance(call, Mapping) else None
        if not (isinstance(function, Mapping) and isinstance(function.get("name"), str)):
            raise ValueError(
                f"tool_calls[{index}] must be OpenAI's shape "
                "({'id', 'type', 'function': {'name', 'arguments'}}); tool_call() makes one"
            )


def _check_stream_body(
    instance: Reply, _: attrs.Attribute[Iterable[bytes] | None], value: object
) -> None:
    if value is None:
        return
    if isinstance(value, bytes | str) or not isinstance(value, Iterable):
        raise ValueError(f"stream_body must be an iterable of bytes, got {value!r}")
    # A sequence is checked now; any other iterable (maybe endless) item by item as it is sent.
    if isinstance(value, Sequence):
        for index, item in enumerate(value):
            if not isinstance(item, bytes):
                raise ValueError(f"stream_body[{index}] must be bytes, got {item!r}")
    if instance.stream is False or instance.body is not None:
        raise ValueError("stream_body is a streamed body: it takes neither stream=False nor body")
    if instance.fault not in (None, "cut", "close", "hang"):
        raise ValueError(f"fault {instance.fault!r} shapes rendered events, not a stream_body")


def _frozen_pieces(value: Iterable[bytes] | None) -> Iterable[bytes] | None:
    return tuple(value) if isinstance(value, list) else value


def _frozen_headers(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return dict(value or {})


@attrs.frozen(kw_only=True)
class Reply:
    """One answer of the fake gateway; every field has a default that makes a 200 completion.

    `stream=None` streams when the request asked to (`"stream": true`). A status of 400 or
    more answers `{"error": {...}}` from `message`, `error_type`, `error_code`, `error_param`
    (defaults by status). `body` replaces the rendered body (bytes or text as given, anything
    else as JSON): for answers that are not completions; it is sent as it is, never streamed.
    `stream_body` streams exactly the bytes given instead of rendered events, each item one
    HTTP chunk (an empty item sends nothing, but takes its pause): any iterable, an endless one
    runs until the client leaves or the gateway stops; an iterator is used up by the first
    answer that sends it. `delay` waits before answering; `pause` waits between stream
    events (or `stream_body` items).
    """

    content: str | None = None
    status: int = attrs.field(default=200, validator=_check_status)
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_headers)
    finish_reason: str | None = None
    tool_calls: Sequence[Mapping[str, Any]] = attrs.field(
        default=(), converter=tuple, validator=_check_tool_calls
    )
    usage: Mapping[str, Any] | bool = True
    model: str | None = None
    message: str | None = None
    error_type: str | None = None
    error_code: str | None = None
    error_param: str | None = None
    body: bytes | str | Mapping[str, Any] | Sequence[Any] | None = None
    stream: bool | None = None
    chunks: Sequence[str] | None = None
    stream_body: Iterable[bytes] | None = attrs.field(
        default=None, converter=_frozen_pieces, validator=_check_stream_body
    )
    pause: float = attrs.field(default=0.0, validator=_non_negative)
    delay: float = attrs.field(default=0.0, validator=_non_negative)
    fault: Fault | None = attrs.field(default=None, validator=_check_fault)

    def text(self) -> str | None:
        """The assistant's content: `content`, or a default unless the answer is tool calls."""
        if self.content is not None or self.tool_calls:
            return self.content
        return DEFAULT_CONTENT

    def pieces(self) -> list[str]:
        """The content as stream deltas: `chunks`, or word by word with their spaces."""
        if self.chunks is not None:
            return list(self.chunks)
        text = self.text() or ""
        words = text.split(" ")
        return [words[0], *(f" {word}" for word in words[1:])] if text else []

    def finish(self) -> str:
        return self.finish_reason or ("tool_calls" if self.tool_calls else "stop")


def tool_call(
    name: str, arguments: Mapping[str, Any] | str, *, id: str | None = None
) -> dict[str, Any]:
    """A tool call as OpenAI sends it; dict arguments are encoded as the JSON string it uses."""
    encoded = arguments if isinstance(arguments, str) else json.dumps(arguments)
    # Derived from the call, so a test's expected values do not change from run to run.
    call_id = id or "call_" + hashlib.sha256(f"{name}\0{encoded}".encode()).hexdigest()[:24]
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": encoded}}


def wants_stream(reply: Reply, request: Any) -> bool:
    """Whether to answer with a stream: the reply says so, or it leaves it to the request."""
    if reply.stream_body is not None:
        return True
    if reply.status >= 400 or reply.body is not None:
        return False
    if reply.stream is not None:
        return reply.stream
    return reply.fault in STREAM_FAULTS or (
        isinstance(request, dict) and request.get("stream") is True
    )


def error_body(reply: Reply) -> dict[str, Any]:
    kind, code, message = _STATUS_ERRORS.get(reply.status, _SERVER_ERROR)
    error = {
        "message": reply.message or message,
        "type": reply.error_type or kind,
        "param": reply.error_param,
        "code": reply.error_code or code,
    }
    return {"error": error}


def _raw(body: bytes | str | Mapping[str, Any] | Sequence[Any]) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


def _prompt_tokens(request: Any) -> int:
    """Words of text and a low-detail image's 85 tokens per image: rough, but it moves."""
    messages = request.get("messages") if isinstance(request, dict) else None
    count = 0
    for message in messages if isinstance(messages, list) else []:
        content = message.get("content") if isinstance(message, dict) else None
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
        for part in parts if isinstance(parts, list) else []:
            if not isinstance(part, dict):
                continue
            if part.get("type") == "image_url":
                count += _IMAGE_TOKENS
            elif isinstance(part.get("text"), str):
                count += len(part["text"].split())
    return max(count, 1)


def _usage(reply: Reply, request: Any) -> dict[str, Any] | None:
    if reply.usage is False:
        return None
    if isinstance(reply.usage, Mapping):
        given = dict(reply.usage)
        if "total_tokens" not in given:
            given["total_tokens"] = given.get("prompt_tokens", 0) + given.get(
                "completion_tokens", 0
            )
        return given
    arguments = sum(len(call["function"].get("arguments", "")) // 4 for call in reply.tool_calls)
    prompt, completion = _prompt_tokens(request), max(len(reply.pieces()) + arguments, 1)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _model(reply: Reply, request: Any) -> str:
    asked = request.get("model") if isinstance(request, dict) else None
    return reply.model or (asked if isinstance(asked, str) else "fake-model")


def render_body(reply: Reply, request: Any, serial: int) -> bytes:
    """The whole body of a non-streamed answer."""
    if reply.body is not None:
        return _raw(reply.body)
    if reply.status >= 400:
        return json.dumps(error_body(reply)).encode()
    message: dict[str, Any] = {"role": "assistant", "content": reply.text(), "refusal": None}
    if reply.tool_calls:
        message["tool_calls"] = [dict(call) for call in reply.tool_calls]
    completion: dict[str, Any] = {
        "id": f"chatcmpl-fake{serial}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": _model(reply, request),
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": reply.finish()}
        ],
        "system_fingerprint": "fp_fakegateway",
    }
    usage = _usage(reply, request)
    if usage is not None:
        completion["usage"] = usage
    return json.dumps(completion).encode()


def _event(data: Mapping[str, Any] | str) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    return f"data: {text}\n\n".encode()


def _tool_deltas(reply: Reply) -> Iterator[dict[str, Any]]:
    for index, call in enumerate(reply.tool_calls):
        function = call["function"]
        head = {"index": index, "id": call.get("id"), "type": call.get("type", "function")}
        yield {"tool_calls": [{**head, "function": {"name": function["name"], "arguments": ""}}]}
        arguments = str(function.get("arguments", ""))
        half = len(arguments) // 2
        for piece in (arguments[:half], arguments[half:]):
            if piece:
                yield {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}


def render_events(reply: Reply, request: Any, serial: int) -> Iterator[bytes | None]:
    """The events of a streamed answer, faults included; `CUT` means close the connection."""
    if reply.stream_body is not None:
        yield from _given_pieces(reply.stream_body)
    else:
        yield from _rendered_events(reply, request, serial)
    if reply.fault == "cut":
        yield CUT


def _given_pieces(pieces: Iterable[bytes]) -> Iterator[bytes]:
    for index, piece in enumerate(pieces):
        if not isinstance(piece, bytes):
            raise TypeError(f"stream_body item {index} must be bytes, got {piece!r}")
        yield piece


def _rendered_events(reply: Reply, request: Any, serial: int) -> Iterator[bytes | None]:
    if reply.fault == "pings_only":
        while True:
            yield b": ping\n\n"
    include_usage = (
        isinstance(request, dict)
        and isinstance(request.get("stream_options"), dict)
        and request["stream_options"].get("include_usage") is True
    )
    base: dict[str, Any] = {
        "id": f"chatcmpl-fake{serial}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": _model(reply, request),
        "system_fingerprint": "fp_fakegateway",
    }
    if include_usage:
        base["usage"] = None

    def chunk(delta: Mapping[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return _event({**base, "choices": [choice]})

    text = reply.text()
    pieces = reply.pieces()
    deltas: list[dict[str, Any]] = [{"content": piece} for piece in pieces]
    deltas += list(_tool_deltas(reply))
    yield chunk({"role": "assistant", "content": "" if text is not None else None, "refusal": None})
    if reply.fault in ("drop_mid_body", "error_event", "error_event_flat"):
        for delta in deltas[: len(deltas) // 2]:
            yield chunk(delta)
        if reply.fault == "drop_mid_body":
            yield CUT
        elif reply.fault == "error_event":
            yield _event(error_body(attrs.evolve(reply, status=500)))
        else:
            message = reply.message or _SERVER_ERROR[2]
            flat = {"object": "error", "message": message, "type": "InternalServerError"}
            yield _event({**flat, "param": None, "code": 500})
            yield _event("[DONE]")
        return
    if reply.fault == "malformed_event":
        yield b'data: {"id": "chatcmpl-broken", "choices": [{"delta": {"content": "\n\n'
    for delta in deltas:
        yield chunk(delta)
    yield chunk({}, reply.finish())
    usage = _usage(reply, request)
    if include_usage and usage is not None:
        yield _event({**base, "choices": [], "usage": usage})
    yield _event("[DONE]")


def render_reply(reply: Reply, request: Mapping[str, Any] | None = None) -> tuple[bytes, ...]:
    """The body the fake gateway sends for `reply`: one piece, or a stream's events in order.

    For serving the kit's answers from another server (the benchmark's, say). `request` is
    the request's JSON: it decides whether to stream (when `reply.stream` is None), and the
    model and usage echoed. Faults on the connection (`close`, `drop_mid_body`, `hang`,
    `pings_only`, `cut`) have no bytes to stand for them, and raise ValueError.
    """
    if reply.fault in _CONNECTION_FAULTS or reply.fault == "cut":
        raise ValueError(f"fault {reply.fault!r} acts on the connection: it has no body to render")
    if wants_stream(reply, request):
        return tuple(event for event in render_events(reply, request, 1) if event is not CUT)
    return (render_body(reply, request, 1),)
