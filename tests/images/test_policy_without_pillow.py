"""The image policy without Pillow: metadata still stripped in the file's structure (the
orientation kept as the only tag), sizes checked from headers, and a clear error naming the
extra wherever pixels would have to change. Run by the tests session (no Pillow)."""

from __future__ import annotations

import importlib.util
import struct

import pytest
from pictures_raw import jpeg, png, segments

from chat_image import (
    ChatImage,
    ImageLimitError,
    ImageLimits,
    ImagePart,
    ImagePolicy,
    TextPart,
    UnsupportedImageError,
    UserMessage,
)
from chat_image._images.metadata import minimal_exif, tiff_orientation
from conftest import API_KEY
from samples import image_bytes

pytestmark = pytest.mark.no_pillow


def test_this_environment_has_no_pillow():
    assert importlib.util.find_spec("PIL") is None, "run these in the tests session (no Pillow)"


def _create(server, *parts, **create):
    with ChatImage(api_key=API_KEY, base_url=server.url) as client:
        return client.chat.completions.create(
            model="m", messages=[UserMessage([TextPart("hi"), *parts])], max_tokens=5, **create
        )


def _sent(server) -> bytes:
    import base64

    url = server.last.json["messages"][0]["content"][1]["image_url"]["url"]
    return base64.b64decode(url.split(",", 1)[1])


def test_a_jpeg_loses_its_metadata_but_keeps_icc_and_orientation(server, tmp_path):
    original = jpeg(orientation=6)
    path = tmp_path / "phone.jpg"
    path.write_bytes(original)
    _create(server, ImagePart.from_path(path))
    kept = segments(_sent(server))
    markers = [marker for marker, _ in kept]
    assert 0xFE not in markers  # the comment
    assert 0xED not in markers  # IPTC
    icc = [body for marker, body in kept if marker == 0xE2]
    assert icc == [b"ICC_PROFILE\x00\x01\x01fake-profile"]
    [exif] = [body for marker, body in kept if marker == 0xE1]
    assert exif == b"Exif\x00\x00" + minimal_exif(6)
    assert tiff_orientation(exif[6:]) == 6
    assert b"GPS" not in _sent(server)
    assert _sent(server).endswith(b"scan-data\xff\xd9")


def test_a_png_loses_its_text_chunks(server):
    original = png()
    _create(server, ImagePart.from_bytes(original))
    sent = _sent(server)
    assert b"tEXt" not in sent
    assert b"home" not in sent
    assert b"iCCP" in sent
    assert b"IDAT" in sent


def test_a_clean_image_is_sent_byte_for_byte(server):
    original = png(text=False)
    _create(server, ImagePart.from_bytes(original))
    assert _sent(server) == original


def test_keep_sends_the_file_as_it_is(server):
    original = jpeg(orientation=6)
    _create(server, ImagePart.from_bytes(original), images=ImagePolicy(metadata="keep"))
    assert _sent(server) == original


def test_a_tiff_needs_pillow_and_says_so_before_sending(server, tmp_path):
    path = tmp_path / "scan.tif"
    path.write_bytes(b"II*\x00" + bytes(64))
    with pytest.raises(UnsupportedImageError) as caught:
        _create(server, ImagePart.from_path(path))
    assert caught.value.extra == "images"
    assert "pip install 'chat-image[images]'" in str(caught.value)
    assert str(path) in str(caught.value)
    assert server.count == 0


def test_too_many_pixels_for_anthropic_needs_pillow(server):
    wide = jpeg(size=(9000, 100), orientation=1)
    with pytest.raises(UnsupportedImageError, match=r"chat-image\[images\]"):
        _create(server, ImagePart.from_bytes(wide), images="anthropic")
    assert server.count == 0


def test_openai_scales_server_side_so_a_big_photo_goes_as_it_is(server):
    wide = jpeg(size=(4000, 3000), orientation=1)
    _create(server, ImagePart.from_bytes(wide))
    assert b"GPS" not in _sent(server)
    assert server.count == 1


def test_limits_on_counts_hold_without_pillow(server):
    with pytest.raises(ImageLimitError):
        _create(
            server,
            ImagePart.from_bytes(image_bytes("PNG")),
            ImagePart.from_bytes(image_bytes("PNG")),
            images=ImagePolicy(limits=ImageLimits.profile("vllm")),
        )
    assert server.count == 0


def test_a_jpeg_over_the_byte_budget_needs_pillow(server):
    big = jpeg(padding=200_000)
    with pytest.raises(UnsupportedImageError) as caught:
        _create(server, ImagePart.from_bytes(big), images=ImageLimits(max_bytes=100_000))
    assert "recompressed" in str(caught.value)
    assert server.count == 0


def test_the_orientation_block_is_what_a_reader_expects():
    block = minimal_exif(8)
    assert block[:4] == b"MM\x00*"
    (count,) = struct.unpack(">H", block[8:10])
    assert count == 1
