"""An image's layout read from its container, and its metadata removed there, pixels untouched.

`scan` walks a JPEG's segments, a PNG's chunks or a WebP's RIFF chunks, reading only their
headers (and the few small segments it must look into: EXIF for the orientation, MPF for
where a JPEG's primary image ends). It returns the pixel size, the EXIF orientation, whether
the image is animated, and the image without its metadata as `pieces`: byte ranges of the
original and a few short literal blocks. Nothing is decoded and nothing re-encoded.

What goes: EXIF (GPS, device, dates, embedded thumbnails), XMP, IPTC/Photoshop blocks,
comments, PNG text chunks and times, MPF's appended pictures (depth and gain maps). What
stays: everything the pixels need, and the ICC colour profile. Without Pillow to turn an
image upright, an orientation other than 1 stays too, as the only EXIF tag left, so a viewer
that honours it still shows the image upright.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from typing import Final, TypeAlias

import attrs

__all__ = ["Layout", "Piece", "Reader", "minimal_exif", "pieces_size", "read_pieces", "scan"]

# (offset, length) of the original, or literal bytes.
Piece: TypeAlias = tuple[int, int] | bytes
# read_at(offset, size): up to `size` bytes from `offset` (fewer only at the end).
Reader: TypeAlias = Callable[[int, int], bytes]

_ORIENTATION_TAG: Final = 0x0112
# JPEG markers that stand alone (no length): TEM, RSTn, SOI.
_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD8), 0xD8})
_SOF: Final = frozenset(
    {*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), 0xCD, 0xCE, 0xCF}
)
# PNG ancillary chunks that change how pixels look (or animate them); the rest is metadata.
_PNG_KEEP: Final = frozenset(
    {
        b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"pHYs", b"bKGD",
        b"hIST", b"sPLT", b"cICP", b"mDCV", b"cLLI", b"mDCv", b"cLLi",
        b"acTL", b"fcTL", b"fdAT",
    }
)  # fmt: skip
# WebP chunks the image is made of; EXIF, XMP and anything unknown go.
_WEBP_KEEP: Final = frozenset({b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L"})
_VP8X_EXIF: Final = 0x08
_VP8X_XMP: Final = 0x04
_VP8X_ANIMATION: Final = 0x02


@attrs.frozen
class Layout:
    """What `scan` read: pixel size, orientation (1 when none), animation, and the pieces of
    the image without its metadata (`None` where this format is not stripped here)."""

    media_type: str
    width: int | None = None
    height: int | None = None
    orientation: int = 1
    animated: bool = False
    pieces: tuple[Piece, ...] | None = None
    removed: bool = False


def pieces_size(pieces: tuple[Piece, ...]) -> int:
    return sum(len(piece) if isinstance(piece, bytes) else piece[1] for piece in pieces)


def read_pieces(pieces: tuple[Piece, ...], read_at: Reader) -> bytes:
    """The pieces joined into bytes (for an image held in memory)."""
    return b"".join(
        piece if isinstance(piece, bytes) else read_at(piece[0], piece[1]) for piece in pieces
    )


class _Truncated(Exception):
    """The container ended before its structure said it would."""


def _exact(read_at: Reader, offset: int, size: int) -> bytes:
    data = read_at(offset, size)
    if len(data) != size:
        raise _Truncated
    return data


def _merge(pieces: list[Piece]) -> tuple[Piece, ...]:
    merged: list[Piece] = []
    for piece in pieces:
        last = merged[-1] if merged else None
        if isinstance(piece, tuple) and isinstance(last, tuple) and sum(last) == piece[0]:
            merged[-1] = (last[0], last[1] + piece[1])
        elif not (isinstance(piece, tuple) and piece[1] == 0):
            merged.append(piece)
    return tuple(merged)


def tiff_orientation(tiff: bytes) -> int:
    """The Orientation tag of IFD0 in a TIFF-structured EXIF block; 1 if absent or invalid."""
    if tiff[:4] not in (b"II*\x00", b"MM\x00*"):
        return 1
    order = "<" if tiff[:2] == b"II" else ">"
    try:
        (ifd,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, ifd)
        for index in range(count):
            tag, kind, _, value = struct.unpack_from(order + "HHI4s", tiff, ifd + 2 + 12 * index)
            if tag == _ORIENTATION_TAG and kind == 3:
                (orientation,) = struct.unpack_from(order + "H", value)
                return orientation if 1 <= orientation <= 8 else 1
    except struct.error:
        return 1
    return 1


def minimal_exif(orientation: int) -> bytes:
    """A TIFF-structured EXIF block holding the Orientation tag and nothing else."""
    entry = struct.pack(">HHIH2x", _ORIENTATION_TAG, 3, 1, orientation)
    return b"MM\x00*" + struct.pack(">IH", 8, 1) + entry + struct.pack(">I", 0)


def scan(media_type: str, read_at: Reader, size: int, *, keep_orientation: bool) -> Layout:
    """The layout of the image of `size` bytes that `read_at` reads.

    `keep_orientation`: keep an orientation other than 1 in the stripped pieces (when nothing
    will turn the pixels upright). A container cut short or malformed gives a layout without
    pieces: the image is then sent as it is, and the gateway judges it.
    """
    scanners = {"image/jpeg": _scan_jpeg, "image/png": _scan_png, "image/webp": _scan_webp}
    try:
        if media_type == "image/gif":
            return _scan_gif(read_at, size)
        if media_type not in scanners:
            return Layout(media_type)
        layout = scanners[media_type](read_at, size, keep_orientation)
    except (_Truncated, struct.error, ValueError, IndexError):
        return Layout(media_type)
    pieces = layout.pieces or ()
    if any(isinstance(p, tuple) and (p[0] < 0 or p[1] < 0 or sum(p) > size) for p in pieces):
        return Layout(media_type)  # the structure points outside the file: malformed
    if not layout.removed:
        return attrs.evolve(layout, pieces=((0, size),))
    return layout


def _scan_jpeg(read_at: Reader, size: int, keep_orientation: bool) -> Layout:
    pieces: list[Piece] = [(0, 2)]
    width = height = None
    orientation = 1
    removed = False
    end = size
    pos = 2
    scanned = False
    while pos < size:
        head = _exact(read_at, pos, 2)
        if head[0] != 0xFF:
            raise ValueError("not at a JPEG marker")
        marker = head[1]
        if marker == 0xFF:  # a fill byte before the marker
            pos += 1
            continue
        if marker in _STANDALONE:
            pieces.append((pos, 2))
            pos += 2
            continue
        if marker == 0xDA or marker == 0xD9:
            # Start of scan (or an image with none): the rest is the entropy-coded image.
            pieces.append((pos, end - pos))
            scanned = True
            break
        (length,) = struct.unpack(">H", _exact(read_at, pos + 2, 2))
        segment = (pos, 2 + length)
        keep = True
        if marker in _SOF:
            sof = _exact(read_at, pos + 4, 5)
            height, width = struct.unpack(">HH", sof[1:5])
        elif marker == 0xE1:  # EXIF or XMP
            payload = _exact(read_at, pos + 4, length - 2)
            if payload.startswith(b"Exif\x00\x00"):
                orientation = tiff_orientation(payload[6:])
            keep = False
        elif marker == 0xE2:  # ICC profile (kept), MPF (dropped) or FlashPix
            payload = _exact(read_at, pos + 4, length - 2)
            keep = payload.startswith(b"ICC_PROFILE\x00")
            if payload.startswith(b"MPF\x00"):
                end = _mpf_primary_end(payload[4:], size)
        elif marker == 0xE0:  # JFIF (kept) or a JFXX thumbnail (dropped)
            keep = _exact(read_at, pos + 4, 5) == b"JFIF\x00"
        elif marker == 0xEE:  # Adobe: says how the colour channels are coded
            keep = True
        elif 0xE3 <= marker <= 0xEF or marker == 0xFE:  # other APPn (IPTC in APP13), COM
            keep = False
        if keep:
            pieces.append(segment)
        else:
            removed = True
        pos += 2 + length
    if end < size:
        removed = True
    if width is None or not scanned:
        raise ValueError("no frame header, or no image data")
    if keep_orientation and orientation != 1:
        tiff = b"Exif\x00\x00" + minimal_exif(orientation)
        pieces.insert(1, b"\xff\xe1" + struct.pack(">H", 2 + len(tiff)) + tiff)
    return Layout("image/jpeg", width, height, orientation, False, _merge(pieces), removed)


def _mpf_primary_end(mpf: bytes, size: int) -> int:
    """Where the primary image of a multi-picture JPEG ends: its MP Entry's size (CIPA DC-007)."""
    order = "<" if mpf[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(order + "I", mpf, 4)
    (count,) = struct.unpack_from(order + "H", mpf, ifd)
    for index in range(count):
        tag, _, number, value = struct.unpack_from(order + "HHII", mpf, ifd + 2 + 12 * index)
        if tag == 0xB002 and number >= 16:  # MP Entry: 16 bytes an image, primary first
            (primary_size,) = struct.unpack_from(order + "I", mpf, value + 4)
            if 0 < primary_size <= size:
                return int(primary_size)
    return size


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _scan_png(read_at: Reader, size: int, keep_orientation: bool) -> Layout:
    pieces: list[Piece] = [(0, 8)]
    width = height = None
    orientation = 1
    animated = False
    removed = False
    pos = 8
    ended = False
    while pos < size:
        length, kind = struct.unpack(">I4s", _exact(read_at, pos, 8))
        if pos == 8 and kind != b"IHDR":
            raise ValueError("a PNG starts with its IHDR chunk")
        if pos + 12 + length > size:
            raise _Truncated
        chunk = (pos, 12 + length)
        if kind == b"IHDR":
            width, height = struct.unpack(">II", _exact(read_at, pos + 8, 8))
        if kind == b"acTL":
            (frames,) = struct.unpack(">I", _exact(read_at, pos + 8, 4))
            animated = frames > 1
        if kind == b"eXIf":
            orientation = tiff_orientation(_exact(read_at, pos + 8, length))
        critical = not (kind[0] & 0x20)
        if critical or kind in _PNG_KEEP:
            pieces.append(chunk)
        else:
            removed = True
        pos += 12 + length
        if kind == b"IEND":
            ended = True
            if pos < size:
                removed = True  # data after the end: nothing a decoder reads
            break
    if not ended:
        raise _Truncated
    if keep_orientation and orientation != 1:
        # After IHDR (always the first chunk, 25 bytes): where eXIf may stand.
        pieces.insert(2, _png_chunk(b"eXIf", minimal_exif(orientation)))
    return Layout("image/png", width, height, orientation, animated, _merge(pieces), removed)


def _vp8_size(kind: bytes, payload: bytes) -> tuple[int, int] | None:
    if kind == b"VP8 " and payload[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", payload[6:10])
        return width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L" and payload[:1] == b"\x2f":
        (bits,) = struct.unpack("<I", payload[1:5])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _scan_webp(read_at: Reader, size: int, keep_orientation: bool) -> Layout:
    (riff_size,) = struct.unpack("<I", _exact(read_at, 4, 4))
    end = min(size, 8 + riff_size)
    kept: list[Piece] = []
    width = height = None
    orientation = 1
    animated = False
    removed = end < size
    vp8x: bytes | None = None
    image = False
    pos = 12
    while pos + 8 <= end:
        kind, length = struct.unpack("<4sI", _exact(read_at, pos, 8))
        padded = length + (length & 1)
        if pos + 8 + length > end:
            raise _Truncated
        image = image or kind in (b"VP8 ", b"VP8L", b"ANMF")
        if kind == b"VP8X":
            vp8x = _exact(read_at, pos + 8, length)
            animated = bool(vp8x[0] & _VP8X_ANIMATION)
            width = 1 + int.from_bytes(vp8x[4:7], "little")
            height = 1 + int.from_bytes(vp8x[7:10], "little")
        elif kind in (b"VP8 ", b"VP8L") and width is None:
            found = _vp8_size(kind, _exact(read_at, pos + 8, min(length, 10)))
            if found:
                width, height = found
        elif kind == b"EXIF":
            exif = _exact(read_at, pos + 8, length)
            orientation = tiff_orientation(exif.removeprefix(b"Exif\x00\x00"))
        if kind in _WEBP_KEEP and kind != b"VP8X":
            kept.append((pos, 8 + padded))
        elif kind != b"VP8X":
            removed = True
        pos += 8 + padded
    if not image or pos < end - 1:
        raise ValueError("no image chunk, or chunks that do not fill the file")
    keep_exif = keep_orientation and orientation != 1
    if keep_exif:
        exif = minimal_exif(orientation)
        kept.append(struct.pack("<4sI", b"EXIF", len(exif)) + exif)
    if vp8x is not None:
        flags = vp8x[0] & ~(_VP8X_EXIF | _VP8X_XMP)
        if keep_exif:
            flags |= _VP8X_EXIF
        kept.insert(0, struct.pack("<4sI", b"VP8X", len(vp8x)) + bytes([flags]) + vp8x[1:])
    body_size = pieces_size(tuple(kept))
    header = b"RIFF" + struct.pack("<I", 4 + body_size) + b"WEBP"
    return Layout(
        "image/webp",
        width,
        height,
        orientation,
        animated,
        _merge([header, *kept]),
        removed,
    )


class _Buffered:
    """Sequential reads over `read_at`, 64 KiB at a time (a GIF is walked a byte at a time)."""

    def __init__(self, read_at: Reader, pos: int) -> None:
        self._read_at = read_at
        self._buffer = b""
        self._start = pos
        self.pos = pos

    def take(self, size: int) -> bytes:
        offset = self.pos - self._start
        if offset + size > len(self._buffer):
            self._start = self.pos
            self._buffer = self._read_at(self.pos, max(size, 64 * 1024))
            offset = 0
            if len(self._buffer) < size:
                raise _Truncated
        self.pos += size
        return self._buffer[offset : offset + size]

    def skip_sub_blocks(self) -> None:
        while True:
            (length,) = self.take(1)
            if not length:
                return
            self.take(length)


def _scan_gif(read_at: Reader, size: int) -> Layout:
    """Pixel size, and whether a second frame follows the first (GIF89a's block structure)."""
    header = _exact(read_at, 0, 13)
    width, height = struct.unpack("<HH", header[6:10])
    flags = header[10]
    stream = _Buffered(read_at, 13)
    if flags & 0x80:
        stream.take(3 << ((flags & 7) + 1))
    frames = 0
    while frames < 2:
        (introducer,) = stream.take(1)
        if introducer == 0x3B:  # trailer
            break
        if introducer == 0x21:  # extension: label, then sub-blocks
            stream.take(1)
            stream.skip_sub_blocks()
        elif introducer == 0x2C:  # image descriptor
            frames += 1
            descriptor = stream.take(9)
            if descriptor[8] & 0x80:
                stream.take(3 << ((descriptor[8] & 7) + 1))
            stream.take(1)  # LZW minimum code size
            stream.skip_sub_blocks()
        else:
            break
    return Layout("image/gif", width, height, 1, frames > 1)
