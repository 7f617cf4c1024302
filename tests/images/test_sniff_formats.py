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


def test_a_data_url_is_read_in_pieces_as_decoded_whole():
    import base64
    import os

    from chat_image._images.policy import _Base64Text

    for size in (0, 1, 2, 3, 100, 1001):
        data = os.urandom(size)
        text = _Base64Text(base64.b64encode(data).decode())
        assert text.size == size
        for offset in range(0, size + 2, 7):
            for length in (1, 2, 3, 5, 64):
                assert text.read_at(offset, length) == data[offset : offset + length]
        assert text.read() == data
    wrapped = _Base64Text(base64.encodebytes(os.urandom(200)).decode())  # with newlines
    assert wrapped.size == 200
