"""Gateway behaviours around `response_format`, for testing structured-output code.

Real gateways refuse a format with their own messages, drop it and answer prose, answer in
fences or after a think block, or put the JSON in `reasoning_content`. `refuse_format`
answers as a named gateway does; `json_reply` presents JSON as such a gateway would.
Messages are quoted from each project's error (see `FORMAT_REFUSALS`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Mapping
from typing import Any, Final, Literal, TypeAlias

from ._gateway import Responder
from ._recorded import RecordedRequest
from ._replies import Reply

__all__ = [
    "FORMAT_REFUSALS",
    "JsonStyle",
    "format_type",
    "json_reply",
    "refuse_format",
]

FORMAT_REFUSALS: Final[Mapping[str, tuple[int, str, str | None]]] = {
    # name: (status, message, param)
    "openai": (
        400,
        "Invalid parameter: 'response_format' of type 'json_schema' is not supported with "
        "this model. Learn more about supported models at the Structured Outputs guide: "
        "https://platform.openai.com/docs/guides/structured-outputs",
        "response_format",
    ),
    "openai-json-object": (
        400,
        "Invalid parameter: 'response_format' of type 'json_object' is not supported with "
        "this model.",
        "response_format",
    ),
    "deepseek": (400, "This response_format type is unavailable now", None),
    "deepseek-422": (422, "response_format.type `json_schema` is unavailable now", None),
    "volcengine": (
        400,
        "The parameter response_format.type specified in the request are not valid: invalid "
        "value: json_schema, supported values are: json_object and text",
        "response_format.type",
    ),
    "anthropic": (400, "response_format.json_schema.strict: Input should be True", None),
    "vllm-xgrammar": (
        400,
        "The provided JSON schema contains features not supported by xgrammar.",
        None,
    ),
    "gemini": (
        400,
        'Invalid JSON payload received. Unknown name "additionalProperties" at '
        "'generation_config.response_schema.properties[0].value': Cannot find field.",
        None,
    ),
    "llama-cpp": (400, "Failed to initialize samplers: failed to parse grammar", None),
}
"""The refusals `refuse_format` plays, by gateway: status, message, and `param`."""

JsonStyle: TypeAlias = Literal[
    "plain",
    "fenced",
    "fenced-tilde",
    "fenced-untagged",
    "prose",
    "think",
    "reasoning_content",
    "double_encoded",
    "wrapped",
]


def format_type(request: RecordedRequest) -> str | None:
    """The `response_format.type` a request asked for (None without one)."""
    try:
        body = json.loads(request.body) if request.body else None
    except ValueError:
        return None
    response_format = body.get("response_format") if isinstance(body, dict) else None
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    return kind if isinstance(kind, str) else None


def refuse_format(
    gateway: str = "openai", *, types: Collection[str] = ("json_schema",)
) -> Responder:
    """A responder refusing requests whose `response_format.type` is in `types`, with
    `gateway`'s status and message (a key of `FORMAT_REFUSALS`); other requests are left to
    the queue. Set it as `fake_gateway.responder`."""
    if gateway not in FORMAT_REFUSALS:
        raise ValueError(f"gateway must be one of {', '.join(FORMAT_REFUSALS)}, got {gateway!r}")
    status, message, param = FORMAT_REFUSALS[gateway]

    def respond(request: RecordedRequest) -> Reply | None:
        if format_type(request) in types:
            return Reply(status=status, message=message, error_param=param)
        return None

    return respond


def _fenced(text: str, fence: str, tag: str) -> str:
    return f"{fence}{tag}\n{text}\n{fence}"


def json_reply(
    data: Any, style: JsonStyle = "plain", *, name: str = "Response", **reply: Any
) -> Reply:
    """A `Reply` answering `data` as JSON the way `style` says a gateway does it:
    `plain`, in code fences tagged json (`fenced`), `~~~` (`fenced-tilde`), untagged fences,
    with prose around it, after a `<think>` block, only in `reasoning_content` with
    `content: null` (not streamed), as a JSON string holding JSON (`double_encoded`), or
    wrapped in a one-key object named `name` (`wrapped`). `reply` are other Reply fields;
    `reasoning_content` with `stream=True` streams the JSON as `reasoning_content` deltas."""
    text = json.dumps(data, ensure_ascii=False)
    if style == "reasoning_content":
        if reply.pop("stream", None):
            return Reply(stream_body=_reasoning_events(text, reply.get("model")), **reply)
        return Reply(body=_reasoning_body(text, reply.get("model")), **reply)
    content = {
        "plain": text,
        "fenced": _fenced(text, "```", "json"),
        "fenced-tilde": _fenced(text, "~~~", "json"),
        "fenced-untagged": _fenced(text, "```", ""),
        "prose": f"Here is the data you asked for:\n\n{text}\n\nLet me know if you need more.",
        "think": f"<think>The user wants JSON. {{maybe}} I will answer.</think>\n{text}",
        "double_encoded": json.dumps(text),
        "wrapped": json.dumps({name: data}, ensure_ascii=False),
    }[style]
    return Reply(content=content, **reply)


def _reasoning_body(text: str, model: str | None) -> dict[str, Any]:
    message = {"role": "assistant", "content": None, "reasoning_content": text}
    return {
        "id": "chatcmpl-fake-reasoning",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model or "fake-model",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30},
    }


def _reasoning_events(text: str, model: str | None) -> list[bytes]:
    """A stream whose JSON comes only as `reasoning_content` deltas, as vLLM's reasoning
    parsers send it, then a finish with no content."""
    base = {
        "id": "chatcmpl-fake-reasoning",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model or "fake-model",
    }

    def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return f"data: {json.dumps({**base, 'choices': [choice]})}\n\n".encode()

    pieces = [text[i : i + 8] for i in range(0, len(text), 8)]
    return [
        event({"role": "assistant", "content": None}),
        *(event({"reasoning_content": piece}) for piece in pieces),
        event({}, "stop"),
        b"data: [DONE]\n\n",
    ]
