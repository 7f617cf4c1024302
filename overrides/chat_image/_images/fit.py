"""The pixel work, with Pillow: decode (first frame), turn upright, scale, and encode to fit.

Used only when an image needs it (a format to convert, an animation, an EXIF orientation, or
a limit it is over); an image within every limit never comes here. The output is JPEG, or
PNG where there is alpha, unless the source format is taken and only its size changes. Too
many bytes: lower JPEG/WebP quality a step at a time, then scale down by a quarter and try
again, until it fits or the image would be smaller than `_SMALLEST` px.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Final

import attrs

from .._exceptions import InvalidImageError
from .errors import ImageLimitError, UnsupportedImageError

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["Fitted", "Target", "fit_pixels", "fitted_size", "require_pillow"]

_QUALITIES: Final = (90, 80, 70, 60, 50, 40)
_SCALE_STEP: Final = 0.75
_SMALLEST: Final = 32
_KEEPS_FORMAT: Final = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


@attrs.frozen
class Target:
    """What the pixels must fit: edges in px, bytes of the encoded image, and the formats."""

    long_edge: int | None
    short_edge: int | None
    max_bytes: int | None
    formats: frozenset[str]
    keep_metadata: bool = False


@attrs.frozen
class Fitted:
    data: bytes
    media_type: str
    width: int
    height: int
    actions: tuple[str, ...]


def fitted_size(
    width: int, height: int, long_edge: int | None, short_edge: int | None
) -> tuple[int, int]:
    """`width` x `height` scaled down (aspect kept, never enlarged) within both edges."""
    scale = 1.0
    if long_edge is not None:
        scale = min(scale, long_edge / max(width, height))
    if short_edge is not None:
        scale = min(scale, short_edge / min(width, height))
    if scale >= 1.0:
        return width, height
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))


def require_pillow(what: str, *, field: str, source: str | None) -> None:
    """UnsupportedImageError naming the `images` extra, unless Pillow can be imported."""
    try:
        import PIL  # noqa: F401
    except ImportError:
        subject = repr(source) if source else "the image"
        raise UnsupportedImageError(
            field,
            f"{subject} needs {what}, which needs Pillow: pip install 'chat-image[images]'",
            extra="images",
        ) from None


def _register_decoder(media_type: str, *, field: str, subject: str) -> None:
    if media_type in ("image/heic", "image/heif"):
        try:
            import pillow_heif
        except ImportError:
            raise UnsupportedImageError(
                field,
                f"{subject} is HEIC/HEIF, which needs pillow-heif: pip install 'chat-image[heif]'",
                extra="heif",
            ) from None
        pillow_heif.register_heif_opener()
    elif media_type == "image/avif":
        from PIL import features

        if not features.check("avif"):
            raise UnsupportedImageError(
                field,
                f"{subject} is AVIF, which needs a Pillow built with AVIF (Pillow 11.3 or "
                "later): pip install -U 'chat-image[images]'",
                extra="images",
            )


def _open(data: bytes, media_type: str, *, field: str, subject: str) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    _register_decoder(media_type, field=field, subject=subject)
    try:
        return Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise InvalidImageError(
            field, f"{subject} cannot be decoded: Pillow does not recognise its content"
        ) from None
    except (Image.DecompressionBombError, OSError, ValueError) as exc:
        raise InvalidImageError(field, f"{subject} cannot be decoded: {exc}") from None


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _normalized(image: Image.Image, alpha: bool) -> Image.Image:
    """The frame in a mode JPEG (no alpha) or PNG (alpha) writes directly."""
    if alpha:
        return image if image.mode in ("RGBA", "LA") else image.convert("RGBA")
    return image if image.mode in ("RGB", "L") else image.convert("RGB")


def _encode(
    image: Image.Image, fmt: str, quality: int | None, icc: bytes | None, exif: bytes | None
) -> bytes:
    options: dict[str, object] = {}
    if quality is not None:
        options["quality"] = quality
    if icc:
        options["icc_profile"] = icc
    if exif:
        options["exif"] = exif
    if fmt == "PNG":
        options["optimize"] = False
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def fit_pixels(
    data: bytes,
    media_type: str,
    target: Target,
    *,
    field: str,
    source: str | None,
    reasons: tuple[str, ...] = (),
) -> Fitted:
    """`data` decoded, upright, within `target` (needs Pillow; `reasons` are actions already
    decided, e.g. "converted"). ImageLimitError when no step makes it fit."""
    subject = repr(source) if source else "the image"
    require_pillow(", ".join(reasons) or "fitting", field=field, source=source)
    from PIL import Image, ImageOps

    actions = list(reasons)
    with _open(data, media_type, field=field, subject=subject) as opened:
        try:
            animated = getattr(opened, "n_frames", 1) > 1
            if animated and "first_frame" not in actions:
                actions.append("first_frame")
            icc = opened.info.get("icc_profile")
            orientation = opened.getexif().get(0x0112, 1)
            width, height = opened.size
            if orientation in (5, 6, 7, 8):
                width, height = height, width
            box = fitted_size(width, height, target.long_edge, target.short_edge)
            if opened.format == "JPEG" and box != (width, height):
                # libjpeg decodes at 1/2, 1/4 or 1/8 scale: less time and memory for a big photo.
                wanted = box if orientation not in (5, 6, 7, 8) else (box[1], box[0])
                opened.draft("RGB", wanted)
            opened.seek(0)
            frame = opened.convert("RGBA") if opened.mode == "P" and _has_alpha(opened) else opened
            frame.load()
            if orientation in range(2, 9):
                frame = ImageOps.exif_transpose(frame)
                if "oriented" not in actions:
                    actions.append("oriented")
            exif: bytes | None = None
            if target.keep_metadata:
                kept = frame.getexif()
                kept.pop(0x0112, None)
                exif = kept.tobytes() if len(kept) else None
            alpha = _has_alpha(frame)
            keeps = (
                media_type in target.formats
                and media_type in _KEEPS_FORMAT
                and not animated
                and not (media_type == "image/jpeg" and alpha)
            )
            if keeps:
                fmt = _KEEPS_FORMAT[media_type]
            else:
                fmt = "PNG" if alpha or "image/jpeg" not in target.formats else "JPEG"
                if "image/png" not in target.formats:
                    fmt = "JPEG"
                if fmt == "JPEG":
                    alpha = False
            frame = _normalized(frame, alpha) if fmt != "WEBP" else frame
            size = box
            while True:
                scaled = frame
                if size != frame.size:
                    scaled = frame.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
                formats = [fmt]
                if fmt == "PNG" and not alpha and "image/jpeg" in target.formats:
                    formats.append("JPEG")  # a photo as PNG: JPEG is the next step down
                for step_format in formats:
                    qualities: tuple[int | None, ...] = (
                        (None,) if step_format == "PNG" else _QUALITIES
                    )
                    for quality in qualities:
                        encoded = _encode(scaled, step_format, quality, icc, exif)
                        if target.max_bytes is None or len(encoded) <= target.max_bytes:
                            return _result(
                                encoded,
                                step_format,
                                scaled,
                                (width, height),
                                quality,
                                media_type,
                                actions,
                            )
                smaller = (math.floor(size[0] * _SCALE_STEP), math.floor(size[1] * _SCALE_STEP))
                if min(smaller) < _SMALLEST:
                    raise ImageLimitError(
                        field,
                        f"{subject} cannot be made to fit {target.max_bytes:,} bytes: still "
                        f"{len(encoded):,} bytes at {size[0]}x{size[1]} px and the lowest quality",
                        limit="max_bytes",
                        allowed=target.max_bytes or 0,
                        measured=len(encoded),
                    )
                size = smaller
        except InvalidImageError:
            raise
        except (OSError, ValueError) as exc:
            raise InvalidImageError(field, f"{subject} cannot be converted: {exc}") from None


def _result(
    encoded: bytes,
    fmt: str,
    scaled: Image.Image,
    original: tuple[int, int],
    quality: int | None,
    media_type: str,
    actions: list[str],
) -> Fitted:
    new_type = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}[fmt]
    if new_type != media_type and "converted" not in actions:
        actions.append("converted")
    if scaled.size != original:
        actions.append("resized")
    if quality is not None and quality < _QUALITIES[0]:
        actions.append("recompressed")
    if not actions:
        actions.append("reencoded")
    return Fitted(encoded, new_type, scaled.width, scaled.height, tuple(actions))
