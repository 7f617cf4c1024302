"""Images made in the test with Pillow: noise for byte size, a mark for orientation, EXIF with
GPS, an ICC profile, XMP and comments; and what the gateway received, decoded."""

from __future__ import annotations

import base64
import functools
import io
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

# Collected in every session: Pillow is imported where it is used, so a module importing
# these helpers can be collected (and its pillow-marked tests deselected) without it.


def store_as(orientation: int) -> Image.Transpose:
    """How to store an upright image under `orientation` (what exif_transpose undoes)."""
    from PIL import Image

    return {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }[orientation]


RED = (255, 0, 0)
GPS_IFD = 0x8825


@functools.cache
def srgb_profile() -> bytes:
    """An sRGB ICC profile; made once, as its header records the time it was made."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def upright(size: tuple[int, int], *, noise: bool = False, alpha: bool = False) -> Image.Image:
    """A grey image with a red mark in its top-left corner (noise makes it big as a file)."""
    from PIL import Image

    width, height = size
    mode = "RGBA" if alpha else "RGB"
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(width * height * 3)).convert(mode)
    else:
        image = Image.new(mode, size, (128, 128, 128, 128) if alpha else (128, 128, 128))
    mark = max(4, min(width, height) // 5)
    image.paste(Image.new(mode, (mark, mark), (*RED, 255) if alpha else RED), (0, 0))
    return image


def exif_block(orientation: int = 1, *, gps: bool = True) -> Image.Exif:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15 Pro"  # Model
    exif[0x0132] = "2026:12:06 10:00:00"  # DateTime
    if orientation != 1:
        exif[0x0112] = orientation
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    return exif


def encode(
    image: Image.Image,
    fmt: str,
    *,
    orientation: int = 1,
    gps: bool = True,
    icc: bool = True,
    xmp: bool = True,
    comment: bool = True,
    quality: int = 92,
) -> bytes:
    """`image` (upright) stored under `orientation`, with the metadata a phone writes."""
    stored = image.transpose(store_as(orientation)) if orientation != 1 else image
    options: dict[str, Any] = {"exif": exif_block(orientation, gps=gps).tobytes()}
    if icc:
        options["icc_profile"] = srgb_profile()
    if fmt == "JPEG":
        options["quality"] = quality
        if comment:
            options["comment"] = b"taken at home"
    if xmp and fmt in ("JPEG", "WEBP"):
        options["xmp"] = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">home</x:xmpmeta>'
    if fmt == "WEBP":
        options["quality"] = quality
    if fmt == "PNG":
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        if comment:
            info.add_text("Comment", "taken at home")
        if xmp:
            info.add_itxt(
                "XML:com.adobe.xmp", '<x:xmpmeta xmlns:x="adobe:ns:meta/">home</x:xmpmeta>'
            )
        options["pnginfo"] = info
    out = io.BytesIO()
    stored.save(out, format=fmt, **options)
    return out.getvalue()


def sent_images(json_body: dict[str, Any]) -> list[tuple[str, bytes]]:
    """(media type, bytes) of each inline image in a request body, in order."""
    found = []
    for message in json_body["messages"]:
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for part in content:
            if part.get("type") != "image_url":
                continue
            url = part["image_url"]["url"]
            if url.startswith("data:"):
                head, payload = url.split(",", 1)
                found.append((head[5:].split(";")[0], base64.b64decode(payload)))
            else:
                found.append(("url", url.encode()))
    return found


def opened(data: bytes) -> Image.Image:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def has_red_corner(image: Image.Image) -> bool:
    """The mark is top-left (and the other corners are not red)."""
    rgb = image.convert("RGB")
    width, height = rgb.size

    def red(xy: tuple[int, int]) -> bool:
        r, g, b = rgb.getpixel(xy)  # type: ignore[misc]
        return r > 200 and g < 60 and b < 60

    corners = [(1, 1), (width - 2, 1), (1, height - 2), (width - 2, height - 2)]
    return red(corners[0]) and not any(red(xy) for xy in corners[1:])


def metadata_of(data: bytes) -> dict[str, Any]:
    """What metadata survived: EXIF tags, GPS, XMP, comments, text chunks, ICC."""
    image = opened(data)
    exif = image.getexif()
    info = image.info
    return {
        "exif_tags": sorted(int(tag) for tag in exif),
        "gps": bool(exif.get_ifd(GPS_IFD)),
        "xmp": bool(info.get("xmp")) or b"xmpmeta" in data,
        "comment": "comment" in info or "Comment" in info or b"taken at home" in data,
        "icc": info.get("icc_profile"),
        "device": b"PhoneMaker" in data or b"Phone 15 Pro" in data,
    }
