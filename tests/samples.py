"""Small images in each format the client accepts, made on the spot.

With Pillow installed (the tests-images session) they are real, decodable images of the
size asked for; without it (the tests session) they are the format's signature followed by
filler: enough for sniffing and for the wire, which never decode an image.
"""

from __future__ import annotations

import io
import os

FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
SIGNATURES = {
    "PNG": b"\x89PNG\r\n\x1a\n",
    "JPEG": b"\xff\xd8\xff\xe0",
    "GIF": b"GIF89a",
    "WEBP": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
}


def have_pillow() -> bool:
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True


def image_bytes(fmt: str, size: tuple[int, int] = (6, 4)) -> bytes:
    if not have_pillow():
        return SIGNATURES[fmt] + bytes(range(32))
    from PIL import Image

    image = Image.new("RGB", size, (200, 120, 40))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def noise_png(size: int) -> bytes:
    """`size` bytes that sniff as PNG: for tests about size and memory, not pixels."""
    return SIGNATURES["PNG"] + os.urandom(size - len(SIGNATURES["PNG"]))
