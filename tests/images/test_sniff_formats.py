"""Formats told from bytes, never names."""

from __future__ import annotations

import pytest

from chat_image._images.sniff import sniff


@pytest.mark.parametrize(
    ("head", "media_type"),
    [
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff\xe1", "image/jpeg"),
        (b"GIF89a", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8L", "image/webp"),
        (b"II*\x00", "image/tiff"),
        (b"MM\x00*", "image/tiff"),
        (b"BM" + bytes(12) + b"\x28\x00\x00\x00", "image/bmp"),
        (b"BM\x00\x00", None),
        (b"BMW is a car" + bytes(8), None),
        (b"\x00\x00\x01\x00\x01\x00", "image/x-icon"),
        (b"\x00\x00\x01\x00\x00\x00", None),
        (b"%PDF-1.7", "application/pdf"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1", "image/avif"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "image/heic"),
        (b"\x00\x00\x00\x14ftypmif1\x00\x00\x00\x00mif1", "image/heif"),
        (b"\x00\x00\x00\x14ftypisom\x00\x00\x00\x00isom", None),
        (b"hello", None),
    ],
)
def test_sniff(head, media_type):
    assert sniff(head) == media_type
