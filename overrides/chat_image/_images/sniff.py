"""Formats told from an image's first bytes, never its name: the four a gateway takes, those
the policy converts (TIFF, BMP, ICO, AVIF, HEIC/HEIF), and PDF for page rendering.

Signatures: the WHATWG MIME Sniffing Standard for PNG, JPEG, GIF, WebP, BMP and ICO; TIFF's
byte-order header (TIFF 6.0, section 2); ISO base media files (AVIF, HEIF) by the major and
compatible brands of their `ftyp` box (ISO/IEC 14496-12, 4.3; HEIF brands from ISO/IEC 23008-12).
"""

from __future__ import annotations

from typing import Final

__all__ = ["SNIFF_BYTES", "sniff"]

# Enough for every signature here: an ftyp box's first brands fit in 32 bytes.
SNIFF_BYTES: Final = 32

_HEIC_BRANDS: Final = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"})
_HEIF_BRANDS: Final = frozenset({b"mif1", b"msf1"})
_DIB_HEADERS: Final = frozenset({12, 16, 40, 52, 56, 64, 108, 124})
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})


def _iso_brands(head: bytes) -> list[bytes]:
    """The major and compatible brands of an ftyp box at the start of `head`."""
    box_size = int.from_bytes(head[:4], "big")
    end = min(len(head), box_size if box_size >= 16 else 16)
    brands = [head[8:12]]
    brands += [head[offset : offset + 4] for offset in range(16, end - 3, 4)]
    return brands


def sniff(head: bytes) -> str | None:
    """The media type `head` (an image's first `SNIFF_BYTES` or more) announces, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:14] == b"WEBPVP":
        return "image/webp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    # "BM" alone is too weak a sign (text can start so): the DIB header's size must be one
    # of the header versions (BITMAPCOREHEADER 12 to BITMAPV5HEADER 124).
    if head.startswith(b"BM") and int.from_bytes(head[14:18], "little") in _DIB_HEADERS:
        return "image/bmp"
    if head.startswith(b"\x00\x00\x01\x00") and head[4:6] != b"\x00\x00":
        return "image/x-icon"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp":
        brands = _iso_brands(head)
        if brands[0] in _AVIF_BRANDS:
            return "image/avif"
        if brands[0] in _HEIC_BRANDS:
            return "image/heic"
        if any(brand in _AVIF_BRANDS for brand in brands):
            return "image/avif"
        if any(brand in _HEIC_BRANDS for brand in brands):
            return "image/heic"
        if any(brand in _HEIF_BRANDS for brand in brands):
            return "image/heif"
    return None
