"""The chat completion object, parsed strictly where it matters and tolerantly elsewhere.

The upstream spec declares the 200 body as `{}`, so this shape follows what OpenAI documents
and OpenAI-compatible servers send: `choices` and each choice's `message` are required,
everything else may be missing, and fields nobody here knows are kept in `extra`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any, Final, TypeVar

import attrs

__all__ = [
    "ChatCompletion",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "Choice",
    "CompletionTokensDetails",
    "Function",
    "PromptTokensDetails",
    "ResponseShapeError",
    "Usage",
    "parse_chat_completion",
]

_T = TypeVar("_T")


class ResponseShapeError(ValueError):
    """The JSON is not a chat completion; `path` says where (e.g. `choices[0].message`)."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path else problem)


def _empty() -> Mapping[str, Any]:
    return {}


def to_json_value(value: object) -> Any:
    """A response object as the JSON value it was read from: its fields, then the fields
    nobody here knows (`extra`) beside them; fields that are None are left out, as a
    server leaves them out or sends null, except a message's `content`."""
    kind = type(value)
    if attrs.has(kind):
        out: dict[str, Any] = {}
        for field in attrs.fields(kind):
            item = getattr(value, field.name)
            if field.name == "extra":
                continue
            if item is None and not (field.name == "content" and field.metadata.get("null")):
                continue
            out[field.name] = to_json_value(item)
        # Copies: the dict is the caller's to change, the object stays as it was.
        out.update(copy.deepcopy(dict(getattr(value, "extra", None) or {})))
        return out
    if isinstance(value, tuple | list):
        return [to_json_value(item) for item in value]
    return copy.deepcopy(value) if isinstance(value, dict) else value


class _Serializable:
    """`to_dict()` and `to_json()` for the response objects, as the `openai` package has."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """The object as the JSON it stands for (a new dict; None fields left out)."""
        out: dict[str, Any] = to_json_value(self)
        return out

    def to_json(self, *, indent: int | None = 2) -> str:
        """`to_dict()` as JSON text; `from_dict(json.loads(text))` gives the object back."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


@attrs.frozen
class PromptTokensDetails(_Serializable):
    cached_tokens: int | None = None
    audio_tokens: int | None = None
    extra: Mapping[str, Any] = attrs.field(factory=_empty, repr=False)


@attrs.frozen
class CompletionTokensDetails(_Serializable):
    reasoning_tokens: int | None = None
    audio_tokens: int | None = None
    accepted_prediction_tokens: int | None = None
    rejected_prediction_tokens: int | None = None
    extra: Mapping[str, Any] = attrs.field(factory=_empty, repr=False)


@attrs.frozen
class Usage(_Serializable):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None
    extra: Mapping[str, Any] = attrs.field(factory=_empty, repr=False)


@attrs.frozen
class Function(_Serializable):
    """The function a tool call names, and its arguments as the JSON text the model wrote."""

    name: str | None = None
    arguments: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=_empty, repr=False)


@attrs.frozen
class ChatCompletionMessageToolCall(_Serializable):
    id: str | None = None
    type: str | None = None
    function: Function | None = None
    extra: Mapping[str, Any] = attrs.field(factory=_empty, repr=False)


@attrs.frozen
class ChatCompletionMessage(_Serializable):
    role: str
    # Kept as null in `to_dict()`: an assistant turn with tool calls says it has no text.
    content: str | None = attrs.field(default=None, metadata={"null": True})
    refusal: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=_empty, repr=False)
    # After `extra`, so that the positional order of the fields above stays as it was.
    tool_calls: tuple[ChatCompletionMessageToolCall, ...] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChatCompletionMessage:
        """The message for decoded JSON (what `to_dict()` gives); `ResponseShapeError`
        names the first bad field."""
        return _message(Reader(dict(data), ""))


@attrs.frozen
class Choice(_Serializable):
    index: int
    message: ChatCompletionMessage
    finish_reason: str | None = None
    logprobs: Any = None
    extra: Mapping[str, Any] = attrs.field(factory=_empty, repr=False)


@attrs.frozen
class ChatCompletion(_Serializable):
    id: str | None
    choices: tuple[Choice, ...]
    created: int | None = None
    model: str | None = None
    object: str | None = None
    usage: Usage | None = None
    system_fingerprint: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=_empty, repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChatCompletion:
        """The completion for decoded JSON, as `parse_chat_completion`: what `to_dict()`
        gives comes back equal."""
        return parse_chat_completion(dict(data))


class Reader:
    """Typed access to one JSON object, remembering which keys were consumed."""

    __slots__ = ("_data", "_path", "_seen")

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, dict):
            raise ResponseShapeError(path, f"expected an object, got {_json_type(data)}")
        self._data: dict[str, Any] = data
        self._path = path
        self._seen: set[str] = set()

    def _child(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def get(self, key: str, kind: type[_T], *, required: bool = False) -> _T | None:
        self._seen.add(key)
        value = self._data.get(key)
        if type(value) is kind:  # the common case, and the fast one: not bool for int
            return value
        if value is None:
            if required:
                raise ResponseShapeError(self._child(key), "missing")
            return None
        # bool is an int in Python but never a count in JSON.
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        if kind is int and isinstance(value, float) and value.is_integer():
            return int(value)  # type: ignore[return-value]
        raise ResponseShapeError(
            self._child(key), f"expected {_KIND_NAMES[kind]}, got {_json_type(value)}"
        )

    def reader(self, key: str, *, required: bool = False) -> Reader | None:
        value = self.get(key, dict, required=required)
        return None if value is None else Reader(value, self._child(key))

    def readers(self, key: str, *, required: bool = False) -> list[Reader] | None:
        """A reader for each object in the array at `key`; None when it is missing."""
        items = self.get(key, list, required=required)
        if items is None:
            return None
        path = self._child(key)
        return [Reader(item, f"{path}[{position}]") for position, item in enumerate(items)]

    def extra(self) -> Mapping[str, Any]:
        return {key: value for key, value in self._data.items() if key not in self._seen}

    def raw(self, key: str) -> Any:
        self._seen.add(key)
        return self._data.get(key)


_KIND_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    dict: "an object",
    list: "an array",
}


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return _KIND_NAMES.get(type(value), type(value).__name__)


def _prompt_details(r: Reader | None) -> PromptTokensDetails | None:
    if r is None:
        return None
    return PromptTokensDetails(r.get("cached_tokens", int), r.get("audio_tokens", int), r.extra())


def _completion_details(r: Reader | None) -> CompletionTokensDetails | None:
    if r is None:
        return None
    return CompletionTokensDetails(
        r.get("reasoning_tokens", int),
        r.get("audio_tokens", int),
        r.get("accepted_prediction_tokens", int),
        r.get("rejected_prediction_tokens", int),
        r.extra(),
    )


def usage(r: Reader | None) -> Usage | None:
    if r is None:
        return None
    return Usage(
        r.get("prompt_tokens", int),
        r.get("completion_tokens", int),
        r.get("total_tokens", int),
        _prompt_details(r.reader("prompt_tokens_details")),
        _completion_details(r.reader("completion_tokens_details")),
        r.extra(),
    )


def function(r: Reader | None) -> Function | None:
    """A tool call's `function` object (also used for the deltas of a stream)."""
    if r is None:
        return None
    return Function(r.get("name", str), r.get("arguments", str), r.extra())


def _tool_call(r: Reader) -> ChatCompletionMessageToolCall:
    return ChatCompletionMessageToolCall(
        r.get("id", str), r.get("type", str), function(r.reader("function")), r.extra()
    )


def _message(r: Reader) -> ChatCompletionMessage:
    role = r.get("role", str) or "assistant"
    content = r.get("content", str)
    refusal = r.get("refusal", str)
    calls = r.readers("tool_calls")
    tool_calls = None if calls is None else tuple(_tool_call(call) for call in calls)
    return ChatCompletionMessage(role, content, refusal, r.extra(), tool_calls)


def _choice(r: Reader, position: int) -> Choice:
    message = r.reader("message", required=True)
    assert message is not None
    index = r.get("index", int)
    return Choice(
        position if index is None else index,
        _message(message),
        r.get("finish_reason", str),
        r.raw("logprobs"),
        r.extra(),
    )


def parse_chat_completion(data: object) -> ChatCompletion:
    """The typed completion for decoded JSON; `ResponseShapeError` names the first bad field."""
    completion = _common_completion(data)
    return completion if completion is not None else _any_completion(data)


# Almost every answer has one shape: text messages, plain token counts, maybe a few fields
# nobody here knows (kept in `extra`). It is read here directly, about twice as fast as the
# general reader below (which tracks every key it reads, for the extras and the error paths);
# anything else goes to the general reader, which says what is wrong.
# tests/models/test_completion_parser.py holds the two to agreement.
_COMPLETION_KEYS: Final = frozenset(
    ("id", "object", "created", "model", "system_fingerprint", "choices", "usage")
)
_CHOICE_KEYS: Final = frozenset(("index", "message", "finish_reason", "logprobs"))
_MESSAGE_KEYS: Final = frozenset(("role", "content", "refusal", "tool_calls"))
_USAGE_KEYS: Final = frozenset(("prompt_tokens", "completion_tokens", "total_tokens"))


def _extra(data: dict[str, Any], known: frozenset[str]) -> dict[str, Any]:
    if data.keys() <= known:
        return {}
    return {key: value for key, value in data.items() if key not in known}


def _str_or_none(value: object) -> bool:
    return value is None or type(value) is str


def _int_or_none(value: object) -> bool:
    return value is None or type(value) is int


def _common_completion(data: object) -> ChatCompletion | None:
    if type(data) is not dict:
        return None
    get = data.get
    items = get("choices")
    completion_id = get("id")
    created = get("created")
    model = get("model")
    kind = get("object")
    fingerprint = get("system_fingerprint")
    if (
        type(items) is not list
        or not _str_or_none(completion_id)
        or not _int_or_none(created)
        or not _str_or_none(model)
        or not _str_or_none(kind)
        or not _str_or_none(fingerprint)
    ):
        return None
    counts = get("usage")
    tokens: Usage | None = None
    if counts is not None:
        if type(counts) is not dict or not counts.keys() <= _USAGE_KEYS:
            return None
        prompt = counts.get("prompt_tokens")
        completion = counts.get("completion_tokens")
        total = counts.get("total_tokens")
        if not (_int_or_none(prompt) and _int_or_none(completion) and _int_or_none(total)):
            return None
        tokens = Usage(prompt, completion, total, None, None, {})
    choices = []
    for position, item in enumerate(items):
        choice = _common_choice(item, position)
        if choice is None:
            return None
        choices.append(choice)
    return ChatCompletion(
        completion_id,
        tuple(choices),
        created,
        model,
        kind,
        tokens,
        fingerprint,
        _extra(data, _COMPLETION_KEYS),
    )


def _common_choice(item: object, position: int) -> Choice | None:
    if type(item) is not dict:
        return None
    get = item.get
    index = get("index")
    message = get("message")
    finish = get("finish_reason")
    if not _int_or_none(index) or type(message) is not dict or not _str_or_none(finish):
        return None
    role = message.get("role")
    content = message.get("content")
    refusal = message.get("refusal")
    if not (
        _str_or_none(role)
        and _str_or_none(content)
        and _str_or_none(refusal)
        and message.get("tool_calls") is None  # tool calls: the general reader
    ):
        return None
    return Choice(
        position if index is None else index,
        ChatCompletionMessage(
            role or "assistant", content, refusal, _extra(message, _MESSAGE_KEYS), None
        ),
        finish,
        get("logprobs"),
        _extra(item, _CHOICE_KEYS),
    )


def _any_completion(data: object) -> ChatCompletion:
    """The general reader: every field checked, unknown ones kept in `extra`."""
    r = Reader(data, "")
    items = r.get("choices", list, required=True)
    assert items is not None
    choices = tuple(
        _choice(Reader(item, f"choices[{position}]"), position)
        for position, item in enumerate(items)
    )
    return ChatCompletion(
        r.get("id", str),
        choices,
        r.get("created", int),
        r.get("model", str),
        r.get("object", str),
        usage(r.reader("usage")),
        r.get("system_fingerprint", str),
        r.extra(),
    )
