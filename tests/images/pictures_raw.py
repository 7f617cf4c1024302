"""Images built byte by byte, without Pillow: containers with metadata in known places, for
the tests that run without the images extra (nothing here is ever decoded)."""

from __future__ import annotations

import struct
import zlib


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def _exif(orientation: int) -> bytes:
    """A big-endian TIFF block: Orientation, Make, and a GPS IFD pointer with a GPS tag."""
    entries = [
        (0x010F, 2, 4, b"GPS\x00"),  # Make: 4 ASCII bytes fit in the entry
        (0x0112, 3, 1, struct.pack(">H2x", orientation)),
        (0x8825, 4, 1, struct.pack(">I", 8 + 2 + 3 * 12 + 4)),
    ]
    ifd = struct.pack(">H", len(entries))
    ifd += b"".join(
        struct.pack(">HHI", tag, kind, count) + value for tag, kind, count, value in entries
    )
    ifd += struct.pack(">I", 0)
    gps = (
        struct.pack(">H", 1)
        + struct.pack(">HHI", 1, 2, 2)
        + b"N\x00\x00\x00"
        + struct.pack(">I", 0)
    )
    return b"MM\x00*" + struct.pack(">I", 8) + ifd + gps


def jpeg(*, orientation: int = 1, size: tuple[int, int] = (100, 50), padding: int = 0) -> bytes:
    width, height = size
    return b"".join(
        [
            b"\xff\xd8",
            _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            _segment(0xE1, b"Exif\x00\x00" + _exif(orientation)),
            _segment(0xE2, b"ICC_PROFILE\x00\x01\x01fake-profile"),
            _segment(0xED, b"Photoshop 3.0\x00IPTC home"),
            _segment(0xFE, b"taken at home"),
            _segment(0xDB, bytes(65)),
            _segment(0xC0, struct.pack(">BHHB", 8, height, width, 3) + bytes(9)),
            _segment(0xDA, bytes(10)),
            b"scan-data" * (1 + padding // 9),
            b"\xff\xd9",
        ]
    )


def segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, body) of each JPEG segment before the scan."""
    found = []
    pos = 2
    while data[pos + 1] != 0xDA:
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        found.append((data[pos + 1], data[pos + 4 : pos + 2 + length]))
        pos += 2 + length
    return found


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(*, text: bool = True) -> bytes:
    chunks = [
        _chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 3, 8, 2, 0, 0, 0)),
        _chunk(b"iCCP", b"profile\x00\x00" + zlib.compress(b"fake-profile")),
    ]
    if text:
        chunks.append(_chunk(b"tEXt", b"Comment\x00taken at home"))
    chunks += [_chunk(b"IDAT", zlib.compress(bytes(4 * 3 * 3 + 3))), _chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)
