"""Content parts: the union of part types the upstream spec leaves as one loose object.

The generator ignores OpenAPI discriminators, so parsing dispatches on `type` here. A part
whose type this version does not know is kept verbatim as `UnknownPart` and sent back
unchanged, rather than being forced into a class that would drop its fields.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from typing import Any, ClassVar, Final, Literal, TypeAlias

import attrs

from chat_image_api import models as api
from chat_image_api.types import UNSET

from .._exceptions import InvalidInputError
from .._images.checks import (
    LOW_DETAIL_TOKENS,
    check_image_bytes,
    check_size,
    estimate_image_tokens,
    image_size,
    resize_for_detail,
    sniff_media_type,
)
from .._images.file import ImageFile
from .._validation import (
    check_detail,
    check_estimable,
    check_extra,
    check_has,
    check_image_url,
    check_image_url_object,
    check_instance,
    check_mapping,
    check_str,
    check_unknown_part,
    validator,
)

__all__ = [
    "ContentPart",
    "ImageData",
    "ImageDetail",
    "ImagePart",
    "ImageURL",
    "TextPart",
    "UnknownPart",
    "parse_content_part",
]

ImageDetail: TypeAlias = Literal["auto", "low", "high"]


def _empty_extra() -> Mapping[str, Any]:
    return {}


def _image_url_model(
    url: str, detail: ImageDetail | None, extra: Mapping[str, Any]
) -> api.ImageUrl:
    model = api.ImageUrl(url, UNSET if detail is None else detail)
    model.additional_properties = dict(extra)
    return model


@attrs.frozen
class ImageURL:
    """Where the image is: an http(s) URL or a `data:image/...;base64,` URL."""

    url: str = attrs.field(validator=validator(check_image_url))
    detail: ImageDetail | None = attrs.field(default=None, validator=validator(check_detail))
    extra: Mapping[str, Any] = attrs.field(
        factory=_empty_extra, kw_only=True, validator=validator(check_extra), repr=False
    )

    def __repr__(self) -> str:
        # A data URL can be megabytes long: show its head only.
        url = self.url if len(self.url) <= 80 else f"{self.url[:60]}...({len(self.url)} chars)"
        return f"ImageURL(url={url!r}, detail={self.detail!r})"

    def to_api(self) -> api.ImageUrl:
        """The generated model, which owns the wire format."""
        return _image_url_model(self.url, self.detail, self.extra)

    def to_dict(self) -> dict[str, Any]:
        return self.to_api().to_dict()


def _to_bytes(value: bytes | bytearray | memoryview) -> bytes:
    # A bytearray or memoryview is copied once, so later changes to it cannot alter what is
    # sent. Anything else passes unchanged, for the validator to refuse with a message.
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return value


def _to_content(value: bytes | bytearray | memoryview | ImageFile) -> bytes | ImageFile:
    return value if isinstance(value, ImageFile) else _to_bytes(value)


def _validate_data(
    instance: ImageData, _: attrs.Attribute[bytes | ImageFile], value: object
) -> None:
    if isinstance(value, ImageFile):
        return  # checked when it was made, and again each time it is read
    data = check_instance("data", value, bytes, "bytes")
    check_image_bytes(data, field="data", source=instance.source)


@attrs.frozen(repr=False)
class ImageData:
    """An image sent inline as a `data:` URL, from bytes or from a file.

    The base64 data URL exists only when asked for (`url`, `to_dict()`). Sending does not
    build it: the client base64-encodes the image a slice at a time while the request body
    streams out. Bytes (`from_bytes`) are held as given; a file (`from_path`) is checked
    when the part is made and read while each attempt is sent, so only a slice of it is in
    memory at a time. PNG, JPEG, GIF and WebP up to 20 MB.
    """

    # Bytes, or the checked file they are read from; `data` gives the bytes either way.
    _content: bytes | ImageFile = attrs.field(
        alias="data", converter=_to_content, validator=_validate_data
    )
    detail: ImageDetail | None = attrs.field(default=None, validator=validator(check_detail))
    extra: Mapping[str, Any] = attrs.field(
        factory=_empty_extra, kw_only=True, validator=validator(check_extra)
    )
    # Where the bytes came from, for messages only.
    source: str | None = attrs.field(default=None, kw_only=True, eq=False)

    @classmethod
    def from_bytes(
        cls,
        data: bytes | bytearray | memoryview,
        detail: ImageDetail | None = None,
        *,
        resize: bool = False,
    ) -> ImageData:
        """The image in `data`; with `resize=True` (needs Pillow), scaled down for `detail`."""
        check_detail("detail", detail)
        data = _to_bytes(data)
        if not resize:
            return cls(data, detail)
        check_instance("data", data, bytes, "bytes")
        media_type = check_image_bytes(data, field="data", check_limit=False)
        resized, _ = resize_for_detail(data, media_type, detail, field="data")
        return cls(resized, detail)

    @classmethod
    def from_path(
        cls,
        path: str | os.PathLike[str],
        detail: ImageDetail | None = None,
        *,
        resize: bool = False,
    ) -> ImageData:
        """The image in the file at `path`, checked now and read while it is sent.

        The type comes from the file's first bytes. With `resize=True` (needs Pillow) the
        file is read now and the resized image kept; one already small enough is sent from
        the file, as without `resize`.
        """
        check_detail("detail", detail)
        if not resize:
            file = ImageFile.check(path)
            return cls(file, detail, source=file.path)
        # A file to be resized is checked against the limit after resizing, not before.
        file = ImageFile.check(path, check_limit=False)
        data = file.read()
        resized, _ = resize_for_detail(
            data, file.media_type, detail, field="path", source=file.path
        )
        if resized is data:
            check_size(file.size, field="path", source=file.path)
            return cls(file, detail, source=file.path)
        return cls(resized, detail, source=file.path)

    @property
    def data(self) -> bytes:
        """The image's bytes. From a file: read now, and checked to be what was checked."""
        content = self._content
        return content if isinstance(content, bytes) else content.read()

    @property
    def media_type(self) -> str:
        """`image/png`, `image/jpeg`, `image/gif` or `image/webp`, from the first bytes."""
        content = self._content
        if isinstance(content, ImageFile):
            return content.media_type
        return sniff_media_type(content) or "application/octet-stream"

    @property
    def url(self) -> str:
        """The `data:` URL. Builds a string 4/3 the image's size: sending never calls this."""
        return f"{self.data_url_head}{base64.b64encode(self.data).decode('ascii')}"

    @property
    def data_url_head(self) -> str:
        """`data:image/png;base64,`: what precedes the base64 payload in `url`."""
        return f"data:{self.media_type};base64,"

    @property
    def dimensions(self) -> tuple[int, int]:
        """Width and height in pixels, from the header (needs the `cli` or `images` extra)."""
        return image_size(self.data, source=self.source)

    def estimate_tokens(self) -> int:
        """Input tokens a GPT-4o-class model counts for this image at its `detail`.

        OpenAI's published arithmetic; "auto" and None count as "high", an upper bound.
        Other models count differently.
        """
        if self.detail == "low":
            return LOW_DETAIL_TOKENS
        width, height = self.dimensions
        return estimate_image_tokens(width, height, self.detail)

    def __repr__(self) -> str:
        content = self._content
        size = content.size if isinstance(content, ImageFile) else len(content)
        where = f" from {self.source!r}" if self.source else ""
        return f"ImageData(<{self.media_type}, {size:,} bytes{where}>, detail={self.detail!r})"

    def to_api(self) -> api.ImageUrl:
        """The generated model with the full data URL (the send path avoids building it)."""
        return _image_url_model(self.url, self.detail, self.extra)

    def to_dict(self) -> dict[str, Any]:
        return self.to_api().to_dict()


@attrs.frozen
class TextPart:
    """A `{"type": "text", "text": ...}` part."""

    type: ClassVar[Literal["text"]] = "text"
    text: str = attrs.field(validator=validator(check_str))
    extra: Mapping[str, Any] = attrs.field(
        factory=_empty_extra, kw_only=True, validator=validator(check_extra)
    )

    def to_api(self) -> api.ContentPart:
        """The generated model, which owns the wire format."""
        model = api.ContentPart(type_=self.type, text=self.text)
        model.additional_properties = dict(self.extra)
        return model

    def to_dict(self) -> dict[str, Any]:
        return self.to_api().to_dict()


@attrs.frozen
class ImagePart:
    """A `{"type": "image_url", "image_url": {"url": ..., "detail": ...}}` part."""

    type: ClassVar[Literal["image_url"]] = "image_url"
    image_url: ImageURL | ImageData = attrs.field(
        validator=validator(
            check_instance, kinds=(ImageURL, ImageData), what="an ImageURL or ImageData"
        )
    )
    extra: Mapping[str, Any] = attrs.field(
        factory=_empty_extra, kw_only=True, validator=validator(check_extra)
    )

    @classmethod
    def from_url(cls, url: str, detail: ImageDetail | None = None) -> ImagePart:
        """An image part for an http(s) or data URL."""
        return cls(ImageURL(url, detail))

    @classmethod
    def from_path(
        cls,
        path: str | os.PathLike[str],
        detail: ImageDetail | None = None,
        *,
        resize: bool = False,
    ) -> ImagePart:
        """An image part for a PNG, JPEG, GIF or WebP file, sent inline.

        The file is checked now and read in slices while the request is sent (again for a
        retry); if it changed in between, the call raises `InvalidImageError`. The type is
        sniffed from the file's first bytes, not its name. With `resize=True` (needs the
        `images` extra) the image is first scaled down to what the model uses for `detail`
        anyway. Raises `InvalidImageError` for a missing or unreadable file, anything but a
        regular file, another format, or more than 20 MB.
        """
        return cls(ImageData.from_path(path, detail, resize=resize))

    @classmethod
    def from_bytes(
        cls,
        data: bytes | bytearray | memoryview,
        detail: ImageDetail | None = None,
        *,
        resize: bool = False,
    ) -> ImagePart:
        """An image part for PNG, JPEG, GIF or WebP bytes, sent inline (see `from_path`)."""
        return cls(ImageData.from_bytes(data, detail, resize=resize))

    @classmethod
    def from_pdf(
        cls,
        path: str | os.PathLike[str] | bytes,
        pages: str | int | None = None,
        *,
        dpi: int = 150,
        detail: ImageDetail | None = None,
    ) -> list[ImagePart]:
        """One image part per page of the PDF at `path`, in page order (needs the `pdf`
        extra). `pages`: "1-3", "1,3,5", "2-" (to the end), a page number, or None for every
        page (at most 100). Each page is a PNG rendered at `dpi`, fitted like any image when
        sent. Raises InvalidInputError for an encrypted PDF or pages outside it, and
        UnsupportedImageError when pypdfium2 is not installed.
        """
        from .._images.pdf import render_pdf

        check_detail("detail", detail)
        name = "PDF" if isinstance(path, bytes) else os.fspath(path)
        return [
            cls(ImageData(page, detail, source=f"{name}#page={number}"))
            for number, page in render_pdf(path, pages, dpi=dpi)
        ]

    def estimate_tokens(self) -> int:
        """Input tokens a GPT-4o-class model counts for this image (see `ImageData`).

        Only for images sent inline: the size of an image behind a URL is not known here.
        """
        if isinstance(self.image_url, ImageData):
            return self.image_url.estimate_tokens()
        check_estimable("image_url.url", size_known=False, detail=self.image_url.detail)
        return LOW_DETAIL_TOKENS

    def to_api(self) -> api.ContentPart:
        """The generated model, which owns the wire format."""
        model = api.ContentPart(type_=self.type, image_url=self.image_url.to_api())
        model.additional_properties = dict(self.extra)
        return model

    def to_dict(self) -> dict[str, Any]:
        return self.to_api().to_dict()


# The part types with classes of their own: an UnknownPart of one of these is refused.
_KNOWN_TYPES: Final[dict[str, type[TextPart] | type[ImagePart]]] = {
    "text": TextPart,
    "image_url": ImagePart,
}


@attrs.frozen
class UnknownPart:
    """A part of a type this version does not model, kept exactly as given."""

    data: Mapping[str, Any] = attrs.field(
        validator=validator(check_unknown_part, known=_KNOWN_TYPES)
    )

    @property
    def type(self) -> str:
        part_type: str = self.data["type"]
        return part_type

    def to_api(self) -> api.ContentPart:
        """The generated model, with every field but `type` carried verbatim."""
        model = api.ContentPart(type_=self.type)
        model.additional_properties = {k: v for k, v in self.data.items() if k != "type"}
        return model

    def to_dict(self) -> dict[str, Any]:
        return self.to_api().to_dict()


ContentPart: TypeAlias = TextPart | ImagePart | UnknownPart


def _extra(data: Mapping[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in known}


def _parse_image_url(data: object) -> ImageURL:
    data = check_image_url_object("image_url", data)
    try:
        return ImageURL(data["url"], data.get("detail"), extra=_extra(data, ("url", "detail")))
    except InvalidInputError as exc:
        raise exc.under("image_url") from None


def parse_content_part(data: object) -> ContentPart:
    """The typed part for a part object (a dict as OpenAI's SDK takes, or a parsed JSON part).

    Typed parts pass through, so callers can mix both forms.
    """
    if isinstance(data, TextPart | ImagePart | UnknownPart):
        return data
    data = check_mapping("", data, what="a TextPart, ImagePart or part dict")
    part_type = data.get("type")
    if part_type == "text":
        return TextPart(check_has(data, "text"), extra=_extra(data, ("type", "text")))
    if part_type == "image_url":
        return ImagePart(
            _parse_image_url(check_has(data, "image_url")),
            extra=_extra(data, ("type", "image_url")),
        )
    return UnknownPart(data)
