"""Chat messages for a whole conversation: system, developer, user, assistant (with its tool
calls) and tool, with string or part-list content.

`parse_message` also takes the `ChatCompletionMessage` a call returned, so a program appends
the answer to `messages` as it is, as with the `openai` package.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, TypeAlias

import attrs

from chat_image_api import models as api
from chat_image_api.types import UNSET

from .._exceptions import InvalidInputError
from .._validation import (
    check_content,
    check_extra,
    check_given,
    check_has,
    check_instance,
    check_items,
    check_json,
    check_mapping,
    check_nonempty,
    check_one_of,
    check_optional_str,
    check_text_parts,
    check_tool_call,
    check_tool_call_id,
    relabel,
    validator,
)
from .content import (
    ContentPart,
    ImageData,
    ImageDetail,
    ImagePart,
    TextPart,
    parse_content_part,
)

if TYPE_CHECKING:
    from .completion import ChatCompletionMessage, ChatCompletionMessageToolCall

__all__ = [
    "AssistantMessage",
    "DeveloperMessage",
    "Message",
    "Role",
    "SystemMessage",
    "ToolMessage",
    "UserMessage",
    "is_url",
    "parse_message",
    "prompt_messages",
]

Role: TypeAlias = Literal["system", "developer", "user", "assistant", "tool"]
Content: TypeAlias = str | tuple[ContentPart, ...]


def _to_content(value: str | Iterable[ContentPart | Mapping[str, Any]]) -> Content:
    """Strings stay strings; any iterable of typed parts or part dicts becomes a tuple of parts."""
    checked = check_content("content", value)
    if isinstance(checked, str):
        return checked
    parts = []
    for index, item in enumerate(checked):
        try:
            parts.append(parse_content_part(item))
        except InvalidInputError as exc:
            raise exc.under(f"content[{index}]") from None
    return tuple(check_nonempty("content", parts, "part"))


def _to_optional_content(
    value: str | Iterable[ContentPart | Mapping[str, Any]] | None,
) -> Content | None:
    return None if value is None else _to_content(value)


def _empty_extra() -> Mapping[str, Any]:
    return {}


def _message_to_api(
    role: str,
    content: Content | None,
    name: str | None,
    extra: Mapping[str, Any],
    *,
    tool_call_id: str | None = None,
    tool_calls: tuple[ChatCompletionMessageToolCall, ...] | None = None,
) -> api.ChatMessage:
    """The generated model, which owns the wire format."""
    model = api.ChatMessage(
        role=role,
        # An assistant turn without text (tool calls, a refusal) says so: `"content": null`.
        content=content
        if content is None or isinstance(content, str)
        else [part.to_api() for part in content],
        name=UNSET if name is None else name,
        tool_call_id=UNSET if tool_call_id is None else tool_call_id,
        tool_calls=UNSET if tool_calls is None else [_tool_call_to_api(c) for c in tool_calls],
    )
    model.additional_properties = dict(extra)
    return model


def _to_json(message: Any, indent: int | None) -> str:
    return json.dumps(message.to_dict(), indent=indent, ensure_ascii=False)


@attrs.frozen
class _RequiredContentMessage:
    role: ClassVar[str]
    content: Content = attrs.field(converter=_to_content)
    name: str | None = attrs.field(default=None, validator=validator(check_optional_str))
    extra: Mapping[str, Any] = attrs.field(
        factory=_empty_extra, kw_only=True, validator=validator(check_extra)
    )

    def to_api(self) -> api.ChatMessage:
        return _message_to_api(self.role, self.content, self.name, self.extra)

    def to_dict(self) -> dict[str, Any]:
        return self.to_api().to_dict()

    def to_json(self, *, indent: int | None = 2) -> str:
        """The message as the JSON it is sent as."""
        return _to_json(self, indent)


@attrs.frozen
class SystemMessage(_RequiredContentMessage):
    """Instructions for the model."""

    role: ClassVar[Literal["system"]] = "system"


@attrs.frozen
class DeveloperMessage(_RequiredContentMessage):
    """Instructions for the model, as OpenAI's newer models name them (the system role's
    successor; a gateway that predates it may refuse it)."""

    role: ClassVar[Literal["developer"]] = "developer"


@attrs.frozen
class UserMessage(_RequiredContentMessage):
    """What the user says: text, images, or both."""

    role: ClassVar[Literal["user"]] = "user"


def _to_tool_calls(value: object) -> tuple[ChatCompletionMessageToolCall, ...] | None:
    """Tool calls as the answer's typed ones: from those, or from OpenAI's dicts."""
    from .completion import ChatCompletionMessageToolCall, Function

    if value is None:
        return None
    calls = []
    for index, item in enumerate(check_items("tool_calls", value, "a list of tool calls")):
        where = f"tool_calls[{index}]"
        if isinstance(item, ChatCompletionMessageToolCall):
            call = item
        elif isinstance(item, Mapping):
            function = item.get("function")
            if function is not None:
                check_mapping(f"{where}.function", function)
            function = function or {}
            arguments = function.get("arguments")
            if isinstance(arguments, Mapping):
                # What the model writes is JSON text; a dict of arguments is encoded as such.
                check_json(f"{where}.function.arguments", arguments)
                arguments = json.dumps(arguments)
            known = ("name", "arguments")
            call = ChatCompletionMessageToolCall(
                item.get("id"),
                item.get("type"),
                Function(
                    function.get("name"),
                    arguments,
                    {key: v for key, v in function.items() if key not in known},
                )
                if "function" in item
                else None,
                {key: v for key, v in item.items() if key not in ("id", "type", "function")},
            )
        else:
            call = check_instance(
                where, item, ChatCompletionMessageToolCall, "a tool call or its dict"
            )
        check_tool_call(where, call)
        calls.append(call)
    return tuple(calls)


def _tool_call_to_api(call: ChatCompletionMessageToolCall) -> api.MessageToolCall:
    assert call.id is not None
    assert call.function is not None
    assert call.function.name is not None
    assert call.function.arguments is not None
    function = api.MessageToolCallFunction(call.function.name, call.function.arguments)
    function.additional_properties = dict(call.function.extra)
    model = api.MessageToolCall(call.id, "function", function)
    model.additional_properties = dict(call.extra)
    return model


@attrs.frozen
class AssistantMessage:
    """An earlier answer of the model, replayed as conversation history: its text, or the
    tool calls it asked for (each a `ChatCompletionMessageToolCall` or OpenAI's dict)."""

    role: ClassVar[Literal["assistant"]] = "assistant"
    content: Content | None = attrs.field(default=None, converter=_to_optional_content)
    name: str | None = attrs.field(default=None, validator=validator(check_optional_str))
    tool_calls: tuple[ChatCompletionMessageToolCall, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_to_tool_calls
    )
    extra: Mapping[str, Any] = attrs.field(
        factory=_empty_extra, kw_only=True, validator=validator(check_extra)
    )

    def to_api(self) -> api.ChatMessage:
        return _message_to_api(
            self.role, self.content, self.name, self.extra, tool_calls=self.tool_calls
        )

    def to_dict(self) -> dict[str, Any]:
        return self.to_api().to_dict()

    def to_json(self, *, indent: int | None = 2) -> str:
        """The message as the JSON it is sent as."""
        return _to_json(self, indent)


def _to_tool_content(value: str | Iterable[ContentPart | Mapping[str, Any]]) -> Content:
    content = _to_content(value)
    if not isinstance(content, str):
        check_text_parts("content", content, ImagePart)
    return content


@attrs.frozen
class ToolMessage:
    """The result of one tool call, sent back after the assistant turn that asked for it:
    `ToolMessage(call.id, "18 C, sunny")`."""

    role: ClassVar[Literal["tool"]] = "tool"
    tool_call_id: str = attrs.field(validator=validator(check_tool_call_id))
    content: Content = attrs.field(converter=_to_tool_content)
    extra: Mapping[str, Any] = attrs.field(
        factory=_empty_extra, kw_only=True, validator=validator(check_extra)
    )

    def to_api(self) -> api.ChatMessage:
        return _message_to_api(
            self.role, self.content, None, self.extra, tool_call_id=self.tool_call_id
        )

    def to_dict(self) -> dict[str, Any]:
        return self.to_api().to_dict()

    def to_json(self, *, indent: int | None = 2) -> str:
        """The message as the JSON it is sent as."""
        return _to_json(self, indent)


Message: TypeAlias = SystemMessage | DeveloperMessage | UserMessage | AssistantMessage | ToolMessage
_CONTENT_ROLES: Final[
    dict[str, type[SystemMessage] | type[DeveloperMessage] | type[UserMessage]]
] = {
    "system": SystemMessage,
    "developer": DeveloperMessage,
    "user": UserMessage,
}
# The roles a message dict may have, as a refusal lists them; two have classes of their own.
_ROLES: Final = ("system", "developer", "user", "assistant", "tool")
_ASSISTANT_KEYS: Final = frozenset({"role", "content", "name", "tool_calls"})
_TOOL_KEYS: Final = frozenset({"role", "content", "tool_call_id"})
_TYPED: Final = (SystemMessage, DeveloperMessage, UserMessage, AssistantMessage, ToolMessage)


def _from_answer(message: ChatCompletionMessage) -> AssistantMessage:
    """The assistant turn a returned message stands for. What a gateway added beside it
    (`reasoning_content`, say) is not sent back: some refuse it in a request."""
    extra = {} if message.refusal is None else {"refusal": message.refusal}
    return AssistantMessage(message.content, tool_calls=message.tool_calls, extra=extra)


def parse_message(data: object) -> Message:
    """The typed message for a message dict as the `openai` SDK takes it, or for the
    `ChatCompletionMessage` a call returned; typed ones pass."""
    if isinstance(data, _TYPED):
        return data
    if type(data) is not dict and not isinstance(data, Mapping):
        from .completion import ChatCompletionMessage

        if isinstance(data, ChatCompletionMessage):
            return _from_answer(data)
    data = check_mapping("", data, what="a message object or dict")
    role = check_given("role", data.get("role"))
    if role == "assistant":
        extra = {key: value for key, value in data.items() if key not in _ASSISTANT_KEYS}
        return AssistantMessage(
            data.get("content"), data.get("name"), tool_calls=data.get("tool_calls"), extra=extra
        )
    if role == "tool":
        tool_call_id = check_has(data, "tool_call_id")
        content = check_has(data, "content")
        extra = {key: value for key, value in data.items() if key not in _TOOL_KEYS}
        return ToolMessage(tool_call_id, content, extra=extra)
    cls = _CONTENT_ROLES[check_one_of("role", role, _ROLES)]
    extra = {key: value for key, value in data.items() if key not in ("role", "content", "name")}
    return cls(check_has(data, "content"), data.get("name"), extra=extra)


# What marks an image source as a URL rather than a local path.
URL_PREFIXES: Final = ("http://", "https://", "data:")


def is_url(image: str) -> bool:
    """Whether `image` is sent as a URL (http(s) or data:) rather than read from a path."""
    return image.startswith(URL_PREFIXES)


def _is_pdf(image: str | bytes) -> bool:
    """Whether `image` is a PDF: its bytes, or the file at a path, start with `%PDF-`."""
    if isinstance(image, bytes):
        return image.startswith(b"%PDF-")
    if is_url(image):
        return False
    try:
        with open(image, "rb") as file:
            return file.read(5) == b"%PDF-"
    except OSError:
        return False  # ImagePart.from_path says what is wrong with it


def prompt_messages(
    prompt: str,
    images: Iterable[tuple[str, str | bytes]],
    *,
    system: str | None = None,
    detail: ImageDetail | None = None,
    resize: bool = False,
    pdf_pages: str | None = None,
) -> list[Message]:
    """The messages for "ask `prompt` about these images": one system message if given, then
    one user message with the text and the images in order.

    `images` pairs a name for errors with the image: a URL (http(s) or data:), a path, or the
    bytes already read. The command line and the batch runner both build their requests here.
    A PDF (by its first bytes) becomes one image part per page, `pdf_pages` of them.
    """
    parts: list[ContentPart] = [TextPart(prompt)]
    for name, image in images:
        try:
            if _is_pdf(image):
                parts.extend(ImagePart.from_pdf(image, pdf_pages, detail=detail))
            elif isinstance(image, bytes):
                parts.append(ImagePart(ImageData.from_bytes(image, detail, resize=resize)))
            elif is_url(image):
                parts.append(ImagePart.from_url(image, detail))
            else:
                parts.append(ImagePart.from_path(image, detail, resize=resize))
        except InvalidInputError as exc:
            if isinstance(image, bytes):
                raise relabel(exc, "image", about=repr(name)) from None
            raise
    messages: list[Message] = [SystemMessage(system)] if system else []
    messages.append(UserMessage(parts))
    return messages
