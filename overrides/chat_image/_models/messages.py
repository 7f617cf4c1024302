"""Chat messages: system, user and assistant, with string or part-list content."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Final, Literal, TypeAlias

import attrs

from chat_image_api import models as api
from chat_image_api.types import UNSET

from .._exceptions import InvalidInputError
from .content import (
    ContentPart,
    ImageData,
    ImageDetail,
    ImagePart,
    TextPart,
    _validate_extra,
    parse_content_part,
)

__all__ = [
    "AssistantMessage",
    "Message",
    "Role",
    "SystemMessage",
    "UserMessage",
    "is_url",
    "parse_message",
    "prompt_messages",
]

Role: TypeAlias = Literal["system", "user", "assistant"]
Content: TypeAlias = str | tuple[ContentPart, ...]


def _to_content(value: str | Iterable[ContentPart | Mapping[str, Any]]) -> Content:
    """Strings stay strings; any iterable of typed parts or part dicts becomes a tuple of parts."""
    if isinstance(value, str):
        return value
    if type(value) is not list and (
        isinstance(value, bytes | Mapping) or not isinstance(value, Iterable)
    ):
        raise InvalidInputError(
            "content", f"expected a string or a list of parts, got {type(value).__name__}"
        )
    parts = []
    for index, item in enumerate(value):
        try:
            parts.append(parse_content_part(item))
        except InvalidInputError as exc:
            raise exc.under(f"content[{index}]") from None
    if not parts:
        raise InvalidInputError("content", "an empty list of parts; give at least one part")
    return tuple(parts)


def _to_optional_content(
    value: str | Iterable[ContentPart | Mapping[str, Any]] | None,
) -> Content | None:
    return None if value is None else _to_content(value)


def _validate_name(_: object, __: attrs.Attribute[str | None], value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise InvalidInputError("name", f"expected a string, got {type(value).__name__}")


def _empty_extra() -> Mapping[str, Any]:
    return {}


def _message_to_api(
    role: str, content: Content | None, name: str | None, extra: Mapping[str, Any]
) -> api.ChatMessage:
    """The generated model, which owns the wire format."""
    if content is None or isinstance(content, str):
        model = api.ChatMessage(role=role, content=UNSET if content is None else content)
    else:
        model = api.ChatMessage(role=role, content=[part.to_api() for part in content])
    model.additional_properties = dict(extra)
    if content is None:
        # An assistant turn without text (a refusal, say) still says so explicitly.
        model.additional_properties["content"] = None
    if name is not None:
        model.additional_properties["name"] = name
    return model


@attrs.frozen
class _RequiredContentMessage:
    role: ClassVar[str]
    content: Content = attrs.field(converter=_to_content)
    name: str | None = attrs.field(default=None, validator=_validate_name)
    extra: Mapping[str, Any] = attrs.field(
        factory=_empty_extra, kw_only=True, validator=_validate_extra
    )

    def to_api(self) -> api.ChatMessage:
        return _message_to_api(self.role, self.content, self.name, self.extra)

    def to_dict(self) -> dict[str, Any]:
        return self.to_api().to_dict()


@attrs.frozen
class SystemMessage(_RequiredContentMessage):
    """Instructions for the model."""

    role: ClassVar[Literal["system"]] = "system"


@attrs.frozen
class UserMessage(_RequiredContentMessage):
    """What the user says: text, images, or both."""

    role: ClassVar[Literal["user"]] = "user"


@attrs.frozen
class AssistantMessage:
    """An earlier answer of the model, replayed as conversation history."""

    role: ClassVar[Literal["assistant"]] = "assistant"
    content: Content | None = attrs.field(default=None, converter=_to_optional_content)
    name: str | None = attrs.field(default=None, validator=_validate_name)
    extra: Mapping[str, Any] = attrs.field(
        factory=_empty_extra, kw_only=True, validator=_validate_extra
    )

    def to_api(self) -> api.ChatMessage:
        return _message_to_api(self.role, self.content, self.name, self.extra)

    def to_dict(self) -> dict[str, Any]:
        return self.to_api().to_dict()


Message: TypeAlias = SystemMessage | UserMessage | AssistantMessage
_BY_ROLE: Final[dict[str, type[SystemMessage] | type[UserMessage] | type[AssistantMessage]]] = {
    "system": SystemMessage,
    "user": UserMessage,
    "assistant": AssistantMessage,
}


def parse_message(data: object) -> Message:
    """The typed message for a message dict as the `openai` SDK takes it; typed ones pass."""
    if isinstance(data, SystemMessage | UserMessage | AssistantMessage):
        return data
    if type(data) is not dict and not isinstance(data, Mapping):
        raise InvalidInputError("", f"expected a message object or dict, got {type(data).__name__}")
    role = data.get("role")
    if role is None:
        raise InvalidInputError("role", "missing")
    cls = _BY_ROLE.get(role) if isinstance(role, str) else None
    if cls is None:
        raise InvalidInputError("role", f"{role!r} is not one of 'system', 'user', 'assistant'")
    extra = {key: value for key, value in data.items() if key not in ("role", "content", "name")}
    if "content" not in data and cls is not AssistantMessage:
        raise InvalidInputError("content", "missing")
    return cls(data.get("content"), data.get("name"), extra=extra)  # type: ignore[arg-type]


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
                raise InvalidInputError("image", f"{name!r}: {exc.problem}") from None
            raise
    messages: list[Message] = [SystemMessage(system)] if system else []
    messages.append(UserMessage(parts))
    return messages
