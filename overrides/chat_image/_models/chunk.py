"""The chunks of a streamed answer, parsed as tolerantly as `ChatCompletion` is.

Shapes follow OpenAI's `chat.completion.chunk`: each choice carries a `delta` instead of a
`message`; `usage` is filled only on the last chunk of a stream asked for with
`stream_options={"include_usage": True}`, whose `choices` is empty. Fields nobody here knows
(the `reasoning_content` or `reasoning` deltas of reasoning models behind gateways, say) are
kept in `extra`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

import attrs

from .completion import (
    ChatCompletion,
    ChatCompletionMessage,
    Function,
    Reader,
    Usage,
    _Serializable,
    function,
    usage,
)

__all__ = [
    "ChatCompletionChunk",
    "ChoiceDelta",
    "ChoiceDeltaToolCall",
    "ChunkChoice",
    "chunk_of_completion",
    "parse_chat_completion_chunk",
]


def _empty() -> Mapping[str, Any]:
    return {}


@attrs.frozen
class ChoiceDeltaToolCall(_Serializable):
    """A piece of a tool call; the pieces with the same `index` make one call."""

    index: int
    id: str | None = None
    type: str | None = None
    function: Function | None = None
    extra: Mapping[str, Any] = attrs.field(factory=_empty, repr=False)


@attrs.frozen
class ChoiceDelta(_Serializable):
    """What one chunk adds to a choice's message."""

    role: str | None = None
    content: str | None = None
    refusal: str | None = None
    tool_calls: tuple[ChoiceDeltaToolCall, ...] | None = None
    extra: Mapping[str, Any] = attrs.field(factory=_empty, repr=False)


@attrs.frozen
class ChunkChoice(_Serializable):
    index: int
    delta: ChoiceDelta
    finish_reason: str | None = None
    logprobs: Any = None
    extra: Mapping[str, Any] = attrs.field(factory=_empty, repr=False)


@attrs.frozen
class ChatCompletionChunk(_Serializable):
    id: str | None
    choices: tuple[ChunkChoice, ...]
    created: int | None = None
    model: str | None = None
    object: str | None = None
    usage: Usage | None = None
    system_fingerprint: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=_empty, repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChatCompletionChunk:
        """The chunk for decoded JSON, as `parse_chat_completion_chunk`: what `to_dict()`
        gives comes back equal."""
        return parse_chat_completion_chunk(dict(data))


_NO_DELTA = ChoiceDelta()


def _tool_call_delta(r: Reader, position: int) -> ChoiceDeltaToolCall:
    index = r.get("index", int)
    return ChoiceDeltaToolCall(
        position if index is None else index,
        r.get("id", str),
        r.get("type", str),
        function(r.reader("function")),
        r.extra(),
    )


def _delta(r: Reader | None) -> ChoiceDelta:
    if r is None:
        return _NO_DELTA
    role = r.get("role", str)
    content = r.get("content", str)
    refusal = r.get("refusal", str)
    calls = r.readers("tool_calls")
    tool_calls = (
        None
        if calls is None
        else tuple(_tool_call_delta(call, position) for position, call in enumerate(calls))
    )
    return ChoiceDelta(role, content, refusal, tool_calls, r.extra())


def _chunk_choice(r: Reader, position: int) -> ChunkChoice:
    index = r.get("index", int)
    return ChunkChoice(
        position if index is None else index,
        _delta(r.reader("delta")),
        r.get("finish_reason", str),
        r.raw("logprobs"),
        r.extra(),
    )


def parse_chat_completion_chunk(data: object) -> ChatCompletionChunk:
    """The typed chunk for decoded JSON; `ResponseShapeError` names the first bad field."""
    chunk = _common_chunk(data)
    return chunk if chunk is not None else _any_chunk(data)


# A stream is hundreds of chunks of one shape, where the general parser would spend more
# than `json.loads` does: the shape of almost every chunk (known keys only, a text delta) is
# read here directly, and anything else goes to the general parser, which says what is wrong.
_CHUNK_KEYS: Final = frozenset(
    ("id", "object", "created", "model", "system_fingerprint", "choices", "usage")
)
_CHOICE_KEYS: Final = frozenset(("index", "delta", "finish_reason", "logprobs"))
_DELTA_KEYS: Final = frozenset(("role", "content", "refusal"))
_NOTHING_EXTRA: Final[Mapping[str, Any]] = MappingProxyType({})


def _common_chunk(data: object) -> ChatCompletionChunk | None:
    if type(data) is not dict or not data.keys() <= _CHUNK_KEYS:
        return None
    get = data.get
    items = get("choices")
    chunk_id = get("id")
    created = get("created")
    model = get("model")
    kind = get("object")
    fingerprint = get("system_fingerprint")
    if (
        type(items) is not list
        or get("usage") is not None
        or not (chunk_id is None or type(chunk_id) is str)
        or not (created is None or type(created) is int)
        or not (model is None or type(model) is str)
        or not (kind is None or type(kind) is str)
        or not (fingerprint is None or type(fingerprint) is str)
    ):
        return None
    choices = []
    for item in items:
        choice = _common_choice(item)
        if choice is None:
            return None
        choices.append(choice)
    return ChatCompletionChunk(
        chunk_id, tuple(choices), created, model, kind, None, fingerprint, _NOTHING_EXTRA
    )


def _common_choice(item: object) -> ChunkChoice | None:
    if type(item) is not dict or not item.keys() <= _CHOICE_KEYS:
        return None
    get = item.get
    index = get("index")
    delta = get("delta")
    finish = get("finish_reason")
    if (
        type(index) is not int
        or type(delta) is not dict
        or not delta.keys() <= _DELTA_KEYS
        or not (finish is None or type(finish) is str)
    ):
        return None
    role = delta.get("role")
    content = delta.get("content")
    refusal = delta.get("refusal")
    if (
        not (role is None or type(role) is str)
        or not (content is None or type(content) is str)
        or not (refusal is None or type(refusal) is str)
    ):
        return None
    return ChunkChoice(
        index,
        ChoiceDelta(role, content, refusal, None, _NOTHING_EXTRA),
        finish,
        get("logprobs"),
        _NOTHING_EXTRA,
    )


def _any_chunk(data: object) -> ChatCompletionChunk:
    r = Reader(data, "")
    choices = r.readers("choices", required=True)
    assert choices is not None
    return ChatCompletionChunk(
        r.get("id", str),
        tuple(_chunk_choice(choice, position) for position, choice in enumerate(choices)),
        r.get("created", int),
        r.get("model", str),
        r.get("object", str),
        usage(r.reader("usage")),
        r.get("system_fingerprint", str),
        r.extra(),
    )


def _delta_of(message: ChatCompletionMessage) -> ChoiceDelta:
    tool_calls = None
    if message.tool_calls is not None:
        tool_calls = tuple(
            ChoiceDeltaToolCall(position, call.id, call.type, call.function, call.extra)
            for position, call in enumerate(message.tool_calls)
        )
    return ChoiceDelta(message.role, message.content, message.refusal, tool_calls, message.extra)


def chunk_of_completion(completion: ChatCompletion) -> ChatCompletionChunk:
    """The one chunk that carries a whole completion: what a gateway that ignored `stream`
    answered, so that a caller's loop over the stream still sees it."""
    return ChatCompletionChunk(
        completion.id,
        tuple(
            ChunkChoice(
                choice.index,
                _delta_of(choice.message),
                choice.finish_reason,
                choice.logprobs,
                choice.extra,
            )
            for choice in completion.choices
        ),
        completion.created,
        completion.model,
        "chat.completion.chunk",
        completion.usage,
        completion.system_fingerprint,
        completion.extra,
    )
