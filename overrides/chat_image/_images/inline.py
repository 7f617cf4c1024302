"""Request bodies with images sent inline, base64-encoded while httpx writes them out.

Why the generated endpoint's `json=` is not used for these: httpx encodes `json=` as
`json.dumps(...).encode()`, and the generated `to_dict()` needs the data URL as a string. For
a 20 MB image that puts the bytes (1x), the data URL (1.33x), json.dumps's copy of it
(1.33x) and its UTF-8 encoding (1.33x) in memory at once: 5x the image. Here the JSON
structure still comes from the generated model's `to_dict()`, but each inline image's
base64 payload is a short, random placeholder in it. The encoded JSON is split at the
placeholders, and the image bytes are base64-encoded a chunk at a time as the body is sent
through the generated client's own httpx client. Peak: the image once, plus a chunk; for an
image from a file, a slice of it, read from the file as it is sent (`_image_file`).

The body knows its length (base64 of n bytes is 4 * ceil(n / 3) characters), so it goes out
with a Content-Length rather than chunked, and it can be iterated again if a request is
retried: each iteration reads image files again, checking they are what they were. A file
found changed stops the body short of its Content-Length: the server never receives a
complete body that is wrong, and the caller gets the `InvalidImageError`.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Final

import attrs

from .._models.content import ImageData, ImagePart, ImageURL
from .._models.messages import Message
from .file import ImageFile

__all__ = ["InlineBody", "InlineImages"]

# Base64 works in 3-byte groups: slices of a multiple of 3 bytes encode to strings that
# concatenate to the encoding of the whole. 192 KiB of image per 256 KiB chunk of body.
_RAW_SLICE: Final = 3 * 64 * 1024
# Files are read in smaller slices: a slice, its base64 and what the socket has not taken yet
# are all an attempt holds, and many attempts may be in flight at once. 64 KiB of body each.
_FILE_SLICE: Final = 3 * 16 * 1024
# Small JSON pieces are merged into the chunks next to them up to this size.
_CHUNK: Final = 64 * 1024
# Bodies up to this size are sent as one bytes object: fewer writes, no streaming wrapper.
_STREAM_ABOVE: Final = 4 * 64 * 1024
_INDEX_DIGITS: Final = 8


def _b64_length(size: int) -> int:
    return 4 * -(-size // 3)


def _size(image: bytes | ImageFile) -> int:
    return image.size if isinstance(image, ImageFile) else len(image)


class InlineImages:
    """Swaps inline images for placeholders while messages become generated models."""

    def __init__(self) -> None:
        self.images: list[ImageData] = []
        self._nonce = ""

    def swap(self, message: Message) -> Message:
        """`message`, with each inline image's payload a placeholder (the same if none)."""
        content = message.content
        if not isinstance(content, tuple) or not any(
            isinstance(part, ImagePart) and isinstance(part.image_url, ImageData)
            for part in content
        ):
            return message
        parts = tuple(
            self._placeholder(part)
            if isinstance(part, ImagePart) and isinstance(part.image_url, ImageData)
            else part
            for part in content
        )
        return attrs.evolve(message, content=parts)

    def _placeholder(self, part: ImagePart) -> ImagePart:
        image = part.image_url
        assert isinstance(image, ImageData)
        if not self._nonce:
            # Hex only: json.dumps writes it as is, and nothing a caller sends contains it.
            self._nonce = os.urandom(12).hex()
        token = f"{self._nonce}{len(self.images):0{_INDEX_DIGITS}x}"
        self.images.append(image)
        url = ImageURL(image.data_url_head + token, image.detail, extra=image.extra)
        return ImagePart(url, extra=part.extra)

    def encode(self, json_body: Mapping[str, Any]) -> bytes | InlineBody:
        """The body for the generated model's `to_dict()`, with the images in place."""
        # The same encoding httpx uses for `json=`.
        text = json.dumps(json_body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        pieces = text.encode("utf-8").split(self._nonce.encode("ascii"))
        if len(pieces) != len(self.images) + 1:
            raise RuntimeError(f"{len(pieces) - 1} image placeholders for {len(self.images)}")
        joints = [pieces[0]]
        for index, piece in enumerate(pieces[1:]):
            if int(piece[:_INDEX_DIGITS], 16) != index:
                raise RuntimeError(f"image placeholder {index} is out of place")
            joints.append(piece[_INDEX_DIGITS:])
        # Private access within the package: the bytes, or the checked file to read them from.
        images = tuple(image._content for image in self.images)
        files = [image for image in images if isinstance(image, ImageFile)]
        for file in files:
            # Before anything is sent: a file changed since its part was made is refused here.
            file.verify()
        body = InlineBody(tuple(joints), images)
        if body.length <= _STREAM_ABOVE and not files:
            return b"".join(body)
        # Streamed, even when small, so that each attempt reads and checks its files again.
        return body


class InlineBody:
    """JSON text with images between its pieces: `joints[0] image[0] joints[1] ...`.

    Iterable any number of times, in chunks of 64 to 256 KiB; `aiter()` for httpx's
    AsyncClient, which takes only async iterables.
    """

    def __init__(self, joints: tuple[bytes, ...], images: tuple[bytes | ImageFile, ...]) -> None:
        self._joints = joints
        self._images = images
        self.length = sum(map(len, joints)) + sum(_b64_length(_size(image)) for image in images)

    def _segments(self) -> Iterator[bytes]:
        for joint, image in zip(self._joints, self._images, strict=False):
            yield joint
            if isinstance(image, ImageFile):
                # Each slice is read when the previous one has been sent; the last only
                # after the file is checked again (see `ImageFile.slices`).
                for piece in image.slices(_FILE_SLICE):
                    yield base64.b64encode(piece)
                continue
            view = memoryview(image)
            for start in range(0, len(view), _RAW_SLICE):
                yield base64.b64encode(view[start : start + _RAW_SLICE])
        yield self._joints[-1]

    def __iter__(self) -> Iterator[bytes]:
        # Merge the small JSON pieces into the base64 chunks next to them.
        pending: list[bytes] = []
        size = 0
        for segment in self._segments():
            pending.append(segment)
            size += len(segment)
            if size >= _CHUNK:
                yield pending[0] if len(pending) == 1 else b"".join(pending)
                pending, size = [], 0
        if pending:
            yield b"".join(pending)

    def aiter(self) -> _AsyncInlineBody:
        return _AsyncInlineBody(self)


class _AsyncInlineBody:
    """The same body as an async iterable (and not a sync one, or httpx would pick that)."""

    def __init__(self, body: InlineBody) -> None:
        self._body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._body:
            yield chunk
