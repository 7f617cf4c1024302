"""The image policy applied to a request's messages: the one place image parts are fitted.

`apply_policy` takes the messages as the caller gave them and returns them as they will be
sent, with a report for each image. Per image: the format is sniffed; an image within every
limit goes out as it is, only without its metadata (`metadata.scan`'s pieces, streamed from
the file for an image from a file); one that needs pixel work (a conversion, a first frame,
an orientation, a size) goes through `fit.fit_pixels`. Then the request: the image count,
the many-images rule, and the total of inline bytes. Everything here happens before anything
is sent, and does no network I/O: URLs to inline are fetched first (`urls_to_fetch`, then
`fetch.fetch_images` or its async twin) and handed in.
"""

from __future__ import annotations

import binascii
import functools
import importlib.util
import os
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from .._exceptions import InvalidImageError
from .._models.content import ImageData, ImagePart, ImageURL
from .._models.messages import Message
from .errors import ImageLimitError
from .file import ImageFile
from .fit import Target, fit_pixels, fitted_size, require_pillow
from .limits import ImageLimits, ImagePolicy
from .metadata import Layout, read_pieces, scan
from .sniff import SNIFF_BYTES, sniff
from .stripped import StrippedFile

__all__ = [
    "ImageReport",
    "PreparedImages",
    "apply_policy",
    "b64_size",
    "raw_budget",
    "urls_to_fetch",
]

_SCANNED: Final = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def b64_size(size: int) -> int:
    """Characters of base64 for `size` bytes."""
    return 4 * -(-size // 3)


def raw_budget(limits: ImageLimits) -> int | None:
    """The most bytes an image may have under `max_bytes` and `max_base64_bytes`."""
    caps = [limits.max_bytes]
    if limits.max_base64_bytes is not None:
        caps.append(3 * (limits.max_base64_bytes // 4))
    present = [cap for cap in caps if cap is not None]
    return min(present) if present else None


@functools.cache
def _pillow() -> bool:
    """Whether Pillow can be imported (looked up once: a lookup walks sys.path)."""
    return importlib.util.find_spec("PIL") is not None


@attrs.frozen
class ImageReport:
    """What was done to one image: `actions` (e.g. "stripped", "oriented", "resized",
    "converted", "first_frame", "recompressed", "inlined"), its type, bytes and pixels before
    and after. `where` is its place in the request (`messages[0].content[1]`)."""

    where: str
    source: str | None
    actions: tuple[str, ...]
    media_type_before: str
    media_type_after: str
    bytes_before: int
    bytes_after: int
    size_before: tuple[int, int] | None = None
    size_after: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "source": self.source,
            "actions": list(self.actions),
            "media_type": [self.media_type_before, self.media_type_after],
            "bytes": [self.bytes_before, self.bytes_after],
            "pixels": [
                list(self.size_before) if self.size_before else None,
                list(self.size_after) if self.size_after else None,
            ],
        }


@attrs.frozen
class PreparedImages:
    messages: tuple[Message, ...]
    reports: tuple[ImageReport, ...]


class _Base64Text:
    """A data URL's base64 payload, decoded only where read: a scan reads a few headers, and
    an image that needs nothing is sent as the caller wrote it, never decoded whole."""

    def __init__(self, payload: str) -> None:
        self._payload = payload
        self._whole: bytes | None = None
        padding = len(payload) - len(payload.rstrip("="))
        if len(payload) % 4 or not payload.isascii() or any(c in payload for c in " \r\n\t"):
            self._whole = binascii.a2b_base64(payload)  # unusual text: decoded once, whole
        self.size = len(self._whole) if self._whole is not None else len(payload) // 4 * 3 - padding

    def read_at(self, offset: int, size: int) -> bytes:
        if self._whole is not None:
            return self._whole[offset : offset + size]
        first = offset // 3
        text = self._payload[first * 4 : -(-(offset + size) // 3) * 4]
        skip = offset - first * 3
        return binascii.a2b_base64(text)[skip : skip + size]

    def read(self) -> bytes:
        if self._whole is None:
            self._whole = binascii.a2b_base64(self._payload)
        return self._whole


@attrs.frozen
class _Source:
    """One inline image as found: its bytes, file or data URL text, type and layout."""

    content: bytes | ImageFile | _Base64Text
    media_type: str
    layout: Layout

    @property
    def size(self) -> int:
        return len(self.content) if isinstance(self.content, bytes) else self.content.size

    def read(self) -> bytes:
        return self.content if isinstance(self.content, bytes) else self.content.read()


def _layout_of(
    content: bytes | ImageFile | _Base64Text, media_type: str, keep_orientation: bool
) -> Layout:
    if media_type not in _SCANNED:
        return Layout(media_type)
    if isinstance(content, _Base64Text):
        return scan(media_type, content.read_at, content.size, keep_orientation=keep_orientation)
    if isinstance(content, bytes):
        view = memoryview(content)

        def read_at(offset: int, size: int) -> bytes:
            return bytes(view[offset : offset + size])

        return scan(media_type, read_at, len(content), keep_orientation=keep_orientation)
    # Opened as a send opens it: a file changed since its part was made is refused so.
    fd = content._open_unchanged()
    try:

        def read_file(offset: int, size: int) -> bytes:
            return os.pread(fd, size, offset)

        return scan(media_type, read_file, content.size, keep_orientation=keep_orientation)
    finally:
        os.close(fd)


def _sent_content(source: _Source, strip: bool) -> bytes | ImageFile | _Base64Text:
    """The image as sent when its pixels need nothing: without metadata, or as it is."""
    pieces = source.layout.pieces
    if not strip or pieces is None or (not source.layout.removed and not _has_literals(pieces)):
        return source.content
    if isinstance(source.content, ImageFile):
        return StrippedFile.of(source.content, pieces)
    data = source.read()
    return read_pieces(pieces, lambda offset, size: data[offset : offset + size])


def _has_literals(pieces: tuple[Any, ...]) -> bool:
    return any(isinstance(piece, bytes) for piece in pieces)


def _content_size(content: bytes | ImageFile | _Base64Text) -> int:
    return len(content) if isinstance(content, bytes) else content.size


def _data_url_text(url: str) -> _Base64Text | None:
    head, sep, payload = url.partition(",")
    if not sep or not head.lower().endswith(";base64"):
        return None
    try:
        # Lenient (strict mode costs 10x): a part that needs nothing is sent as the caller
        # wrote it, so the gateway still judges the original text.
        return _Base64Text(payload)
    except (binascii.Error, ValueError):
        return None


def _image_parts(messages: Sequence[Message]) -> list[tuple[int, int, ImagePart]]:
    found = []
    for m_index, message in enumerate(messages):
        content = message.content
        if isinstance(content, tuple):
            for p_index, part in enumerate(content):
                if isinstance(part, ImagePart):
                    found.append((m_index, p_index, part))
    return found


def urls_to_fetch(messages: Sequence[Message], policy: ImagePolicy) -> list[str]:
    """The http(s) image URLs `apply_policy` will want downloaded (none unless "inline")."""
    if policy.urls != "inline":
        return []
    urls = []
    for _, _, part in _image_parts(messages):
        image = part.image_url
        if (
            isinstance(image, ImageURL)
            and image.url[:8].lower().startswith(("http://", "https:/"))
            and image.url not in urls
        ):
            urls.append(image.url)
    return urls


@attrs.frozen
class _Found:
    """One image part to prepare: where it is, what it came as, and its bytes or file."""

    key: tuple[int, int]
    part: ImagePart
    source: _Source
    inlined: bool

    @property
    def where(self) -> str:
        return f"messages[{self.key[0]}].content[{self.key[1]}]"

    @property
    def origin(self) -> str | None:
        image = self.part.image_url
        if isinstance(image, ImageData):
            return image.source
        return _shown_url(image.url) if self.inlined else None


def sent_as_given(messages: Sequence[Message], policy: ImagePolicy) -> bool:
    """Whether `apply_policy` would leave every image of `messages` as it is: image URLs the
    gateway fetches itself (no data URLs, no files, none to inline), within `max_images`.
    Most calls with images are like this; they skip the policy's work."""
    if policy.urls == "inline":
        return False
    count = 0
    for message in messages:
        content = message.content
        if isinstance(content, tuple):
            for part in content:
                if isinstance(part, ImagePart):
                    image = part.image_url
                    if not isinstance(image, ImageURL) or image.url[:5].lower() == "data:":
                        return False
                    count += 1
    limit = policy.limits.max_images
    return limit is None or count <= limit


def apply_policy(
    messages: Sequence[Message],
    policy: ImagePolicy,
    *,
    fetched: Mapping[str, bytes] | None = None,
) -> PreparedImages:
    """`messages` with every image as it will be sent under `policy`, and what was done.

    Raises ImageLimitError (too many images, an image or the request that cannot fit),
    UnsupportedImageError (a decoder to install) or InvalidImageError, naming the image.
    """
    limits = policy.limits
    parts = _image_parts(messages)
    if limits.max_images is not None and len(parts) > limits.max_images:
        raise ImageLimitError(
            "messages",
            f"{len(parts)} images in one request, over the limit of {limits.max_images} "
            "(max_images)",
            limit="max_images",
            allowed=limits.max_images,
            measured=len(parts),
        )
    fitter = _Fitter(policy, limits.long_edge_for(len(parts)))
    found = [
        item
        for m_index, p_index, part in parts
        if (item := _find((m_index, p_index), part, fetched or {}, fitter.pillow)) is not None
    ]
    results = {item.key: fitter.prepare(item, raw_budget(limits)) for item in found}
    cap = limits.max_request_bytes
    total = sum(b64_size(report.bytes_after) for _, report in results.values())
    if cap is not None and total > cap:
        # Over the request's total: each image gets an equal share, the largest refitted.
        share = 3 * ((cap // len(found)) // 4)
        budget = raw_budget(limits)
        own = share if budget is None else min(budget, share)
        for item in found:
            if results[item.key][1].bytes_after > own:
                results[item.key] = fitter.prepare(item, own, forced=True)
        total = sum(b64_size(report.bytes_after) for _, report in results.values())
        if total > cap:
            raise ImageLimitError(
                "messages",
                f"the request's inline images are {total:,} bytes of base64, over the limit "
                f"of {cap:,} (max_request_bytes)",
                limit="max_request_bytes",
                allowed=cap,
                measured=total,
            )
    new_messages = list(messages)
    for item in found:
        new_part = results[item.key][0]
        if new_part is item.part:
            continue
        m_index, p_index = item.key
        message = new_messages[m_index]
        content = message.content
        assert isinstance(content, tuple)
        new_content = (*content[:p_index], new_part, *content[p_index + 1 :])
        new_messages[m_index] = attrs.evolve(message, content=new_content)
    reports = tuple(results[item.key][1] for item in found)
    return PreparedImages(tuple(new_messages), reports)


def _find(
    key: tuple[int, int], part: ImagePart, fetched: Mapping[str, bytes], pillow: bool
) -> _Found | None:
    """The image of `part` to prepare, or None for a URL passed as it is."""
    image = part.image_url
    inlined = False
    content: bytes | ImageFile | _Base64Text
    if isinstance(image, ImageURL):
        url = image.url
        data: bytes | _Base64Text | None
        if url[:5].lower() == "data:":
            data = _data_url_text(url)
        else:
            data = fetched.get(url)
            inlined = data is not None
        if data is None:
            return None  # passed as it is: the gateway fetches (or judges) it
        content = data
    else:
        content = image._content
    if isinstance(content, ImageFile):
        media_type: str | None = content.media_type
    elif isinstance(content, _Base64Text):
        media_type = sniff(content.read_at(0, SNIFF_BYTES))
    else:
        media_type = sniff(content[:SNIFF_BYTES])
    if media_type is None:
        if isinstance(image, ImageURL) and not inlined:
            return None  # a data URL this client does not read: the gateway judges it
        where = f"messages[{key[0]}].content[{key[1]}]"
        raise InvalidImageError(where, "the downloaded bytes are not an image this client reads")
    layout = _layout_of(content, media_type, keep_orientation=not pillow)
    return _Found(key, part, _Source(content, media_type, layout), inlined)


class _Fitter:
    """Prepares one image at a time under a policy and the request's long-edge cap."""

    def __init__(self, policy: ImagePolicy, long_edge: int | None) -> None:
        self.policy = policy
        self.long_edge = long_edge
        self.strip = policy.metadata == "strip"
        self.pillow = _pillow()

    def prepare(
        self, item: _Found, budget: int | None, *, forced: bool = False
    ) -> tuple[ImagePart, ImageReport]:
        limits = self.policy.limits
        source = item.source
        layout = source.layout
        media_type = source.media_type
        size_before = (layout.width, layout.height) if layout.width and layout.height else None
        if size_before and layout.orientation in (5, 6, 7, 8):
            size_before = (size_before[1], size_before[0])
        done = ["inlined"] if item.inlined else []
        reasons: list[str] = []
        if media_type not in limits.formats:
            reasons.append("converted")
        elif self.strip and media_type in ("image/heic", "image/heif"):
            reasons.append("stripped")  # no container-level strip for HEIF: re-encoded
        if layout.animated:
            reasons.append("first_frame")
        if self.pillow and layout.orientation != 1:
            reasons.append("oriented")
        over_edges = (
            size_before is not None
            and fitted_size(*size_before, self.long_edge, limits.max_short_edge) != size_before
        )
        if over_edges and (self.pillow or not limits.server_scales):
            reasons.append("resized")
        report = functools.partial(
            ImageReport,
            item.where,
            item.origin,
            media_type_before=media_type,
            bytes_before=source.size,
            size_before=size_before,
        )
        if not reasons and not forced:
            sent = _sent_content(source, self.strip)
            sent_size = _content_size(sent)
            if budget is None or sent_size <= budget:
                actions = (*done, "stripped") if sent is not source.content else tuple(done)
                if sent is source.content and not item.inlined:
                    part = item.part  # byte for byte, as the caller gave it
                else:
                    whole = sent.read() if isinstance(sent, _Base64Text) else sent
                    part = self._part(item, whole)
                return part, report(
                    actions=actions,
                    media_type_after=media_type,
                    bytes_after=sent_size,
                    size_after=size_before,
                )
            reasons.append("recompressed")
        if not self.pillow:
            require_pillow(", ".join(reasons), field=item.where, source=item.origin)
        target = Target(
            long_edge=self.long_edge,
            short_edge=limits.max_short_edge,
            max_bytes=budget,
            formats=limits.formats,
            keep_metadata=not self.strip,
        )
        try:
            fitted = fit_pixels(
                source.read(), media_type, target, field=item.where, source=item.origin
            )
        except ImageLimitError as exc:
            raise self._limit_error(item, exc) from None
        fit_actions = [*done, *fitted.actions]
        if self.strip and layout.removed:
            fit_actions.append("stripped")
        return self._part(item, fitted.data), report(
            actions=tuple(fit_actions),
            media_type_after=fitted.media_type,
            bytes_after=len(fitted.data),
            size_after=(fitted.width, fitted.height),
        )

    def _part(self, item: _Found, content: bytes | ImageFile) -> ImagePart:
        image = item.part.image_url
        data = ImageData(content, image.detail, extra=image.extra, source=item.origin)
        return ImagePart(data, extra=item.part.extra)

    def _limit_error(self, item: _Found, exc: ImageLimitError) -> ImageLimitError:
        limits = self.policy.limits
        subject = _subject(item.origin)
        if limits.max_base64_bytes is not None:
            measured = b64_size(exc.measured)
            return ImageLimitError(
                item.where,
                f"{subject} cannot be made to fit {limits.max_base64_bytes:,} bytes of base64 "
                f"(max_base64_bytes): still {measured:,} at the smallest step",
                limit="max_base64_bytes",
                allowed=limits.max_base64_bytes,
                measured=measured,
            )
        return exc


def _subject(source: str | None) -> str:
    return repr(source) if source else "the image"


def _shown_url(url: str) -> str:
    from .fetch import redact_url

    return redact_url(url)
