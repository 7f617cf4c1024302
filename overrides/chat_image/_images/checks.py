"""Image bytes: what format they are, whether the gateway takes them, and what a model sees.

Sniffing, the size limit and the token arithmetic need nothing beyond the standard library.
An image's pixel size is read from its header by `imagesize` (the `cli` extra) when it is
installed, else by Pillow; resizing needs Pillow (the `images` extra). Each is imported only
when asked for, so `import chat_image` never pays for them.

The resize and token figures are OpenAI's for GPT-4o-class models
(https://platform.openai.com/docs/guides/images-vision, "Calculating costs"):
`low` detail sees a 512 x 512 version of the image and costs 85 tokens; `high` detail first
fits the image within 2048 x 2048, then scales it so its short side is 768 px (neither step
ever enlarges), and costs 85 tokens plus 170 per 512 px tile of the result. Other models,
and other vendors behind OpenAI-compatible gateways, count differently.
"""

from __future__ import annotations

import io
import math
import re
from typing import TYPE_CHECKING, Final

from .._exceptions import InvalidImageError, MissingExtraError
from .._validation import check_detail, check_int

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "HEAD_BYTES",
    "LOW_DETAIL_TOKENS",
    "MAX_IMAGE_BYTES",
    "check_image_bytes",
    "check_size",
    "estimate_image_tokens",
    "fit_for_detail",
    "header_size",
    "image_size",
    "not_an_image",
    "resize_for_detail",
    "sniff_media_type",
]

# The gateway's per-image limit, "20 MB", read as MiB; it applies to the image itself, not
# to its base64 form. Checked before anything is encoded.
MAX_IMAGE_BYTES: Final = 20 * 1024 * 1024
# Enough of a file to tell the formats apart (an ISO file's brands need 32 bytes).
HEAD_BYTES: Final = 32
_FORMAT_NAMES: Final = "PNG, JPEG, GIF or WebP"
_CONVERTED: Final = frozenset(
    {"image/tiff", "image/bmp", "image/x-icon", "image/avif", "image/heic", "image/heif"}
)

# OpenAI's figures for GPT-4o-class models (see the module docstring).
LOW_DETAIL_BOX: Final = 512
HIGH_DETAIL_BOX: Final = 2048
HIGH_DETAIL_SHORT_SIDE: Final = 768
TILE: Final = 512
BASE_TOKENS: Final = 85
TOKENS_PER_TILE: Final = 170
LOW_DETAIL_TOKENS: Final = BASE_TOKENS

# What a resized image is written as: the same format, except GIF, whose 256-colour palette
# would have to be re-quantized; PNG keeps the resampled pixels exactly.
_SAVE_AS: Final[dict[str, tuple[str, str]]] = {
    "image/png": ("PNG", "image/png"),
    "image/gif": ("PNG", "image/png"),
    "image/jpeg": ("JPEG", "image/jpeg"),
    "image/webp": ("WEBP", "image/webp"),
}
_LOSSY_QUALITY: Final = 90
# `<_io.BytesIO object at 0x7f...>`, as Pillow's messages quote their input.
_OBJECT_ADDRESS: Final = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>")


def sniff_media_type(head: bytes) -> str | None:
    """The image type `head` (an image, or its first bytes) announces, or None.

    The signatures are the WHATWG MIME Sniffing Standard's "image type pattern matching"
    (https://mimesniff.spec.whatwg.org/#matching-an-image-type-pattern); TIFF, BMP, ICO,
    AVIF and HEIC/HEIF are taken too, for the image policy to convert (`_images.sniff`).
    """
    from .sniff import sniff

    found = sniff(head)
    if found in _CONVERTED:
        return found
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:14] == b"WEBPVP":
        return "image/webp"
    return None


def _named(source: str | None) -> str:
    return f"{source!r} " if source else ""


def _subject(source: str | None) -> str:
    """The file by name, or "the image" for bytes: what a message is about."""
    return repr(source) if source else "the image"


def check_image_bytes(
    data: bytes, *, field: str, source: str | None = None, check_limit: bool = True
) -> str:
    """The media type of `data`, if the gateway would take it; InvalidImageError if not."""
    media_type = sniff_media_type(data[:HEAD_BYTES])
    if media_type is None:
        raise InvalidImageError(field, not_an_image(source, data[:HEAD_BYTES]))
    if check_limit:
        check_size(len(data), field=field, source=source)
    return media_type


def check_size(size: int, *, field: str, source: str | None = None) -> None:
    if size > MAX_IMAGE_BYTES:
        raise InvalidImageError(
            field,
            f"{_named(source)}is {size:,} bytes, over the gateway's limit of "
            f"{MAX_IMAGE_BYTES:,} bytes (20 MB) per image",
        )


def not_an_image(source: str | None, head: bytes) -> str:
    what = "an empty file" if source else "empty"
    if head:
        what = f"starts with {head[:8]!r}"
    return f"{_named(source)}is not a {_FORMAT_NAMES} image ({what})"


def fit_for_detail(width: int, height: int, detail: str | None) -> tuple[int, int]:
    """The size a GPT-4o-class model works on for `detail`; None and "auto" count as "high".

    "auto" lets the model choose; assuming "high" never loses what the model could use, and
    makes token estimates an upper bound.
    """
    w, h = float(width), float(height)
    if detail == "low":
        scale = min(1.0, LOW_DETAIL_BOX / max(w, h))
        w, h = w * scale, h * scale
    else:
        scale = min(1.0, HIGH_DETAIL_BOX / max(w, h))
        w, h = w * scale, h * scale
        scale = min(1.0, HIGH_DETAIL_SHORT_SIDE / min(w, h))
        w, h = w * scale, h * scale
    return max(1, round(w)), max(1, round(h))


def estimate_image_tokens(width: int, height: int, detail: str | None = "auto") -> int:
    """Input tokens a GPT-4o-class model counts for a `width` x `height` image.

    `low` is a flat 85; `high` (and "auto" or None, as an upper bound) is 85 plus 170 for
    each 512 px tile of the image as the model scales it. Other models count differently.
    """
    check_int("width", width, minimum=1)
    check_int("height", height, minimum=1)
    check_detail("detail", detail)
    if detail == "low":
        return LOW_DETAIL_TOKENS
    w, h = fit_for_detail(width, height, detail)
    return BASE_TOKENS + TOKENS_PER_TILE * math.ceil(w / TILE) * math.ceil(h / TILE)


def _require_pillow(feature: str) -> None:
    try:
        import PIL  # noqa: F401
    except ImportError:
        raise MissingExtraError(feature, "images", "Pillow") from None


def _open(data: bytes, *, field: str, source: str | None) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    try:
        return Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        # Pillow's own message names its buffer object by address, which helps nobody.
        raise InvalidImageError(
            field, f"{_subject(source)} cannot be decoded: Pillow does not recognise its content"
        ) from None
    except Image.DecompressionBombError as exc:
        raise InvalidImageError(field, f"{_subject(source)} cannot be decoded: {exc}") from None


def header_size(head: io.BufferedIOBase) -> tuple[int, int] | None:
    """Width and height read from an image's header by `imagesize` (the `cli` extra), or None
    when it is not installed or cannot tell. Reads only the first bytes of `head`."""
    try:
        import imagesize
    except ImportError:
        return None
    # A file object only: imagesize would fetch an http(s) string, and open bytes as a path.
    width, height = imagesize.get(head)
    if not (isinstance(width, int) and isinstance(height, int)) or width <= 0 or height <= 0:
        return None
    return width, height


def image_size(data: bytes, *, field: str = "data", source: str | None = None) -> tuple[int, int]:
    """Width and height in pixels, from the image's header (imagesize, else Pillow)."""
    size = header_size(io.BytesIO(data))
    if size is not None:
        return size
    _require_pillow("Reading an image's size")
    with _open(data, field=field, source=source) as image:
        width, height = image.size
    return width, height


def resize_for_detail(
    data: bytes,
    media_type: str,
    detail: str | None,
    *,
    field: str = "data",
    source: str | None = None,
) -> tuple[bytes, str]:
    """The image scaled down to what the model would use for `detail` (needs Pillow).

    An image already within that size comes back as the same bytes, untouched. A scaled one
    is rotated upright first (its EXIF orientation would not survive re-encoding) and
    written in its own format (JPEG and WebP at quality 90), except GIF, which becomes PNG.
    """
    _require_pillow("Resizing an image")
    from PIL import ImageOps

    with _open(data, field=field, source=source) as image:
        # The target is the same whichever way the EXIF tag turns the image: the boxes are
        # square and only the short side is fixed.
        width, height = image.size
        if fit_for_detail(width, height, detail) == (width, height):
            return data, media_type
        try:
            upright = ImageOps.exif_transpose(image)
            box = fit_for_detail(upright.width, upright.height, detail)
            if upright.mode in ("P", "PA", "1"):
                has_alpha = upright.mode == "PA" or "transparency" in upright.info
                upright = upright.convert("RGBA" if has_alpha else "RGB")
            upright.thumbnail(box, reducing_gap=3.0)
            save_format, new_media_type = _SAVE_AS.get(media_type, ("PNG", "image/png"))
            options: dict[str, object] = {}
            if save_format in ("JPEG", "WEBP"):
                options["quality"] = _LOSSY_QUALITY
            if save_format == "JPEG" and upright.mode not in ("L", "RGB", "CMYK"):
                upright = upright.convert("RGB")
            icc_profile = image.info.get("icc_profile")
            if icc_profile:
                options["icc_profile"] = icc_profile
            out = io.BytesIO()
            upright.save(out, format=save_format, **options)
        except (OSError, ValueError) as exc:
            reason = _OBJECT_ADDRESS.sub("the image", str(exc))
            raise InvalidImageError(
                field, f"{_subject(source)} cannot be resized: {reason}"
            ) from None
    resized = out.getvalue()
    return resized, new_media_type
