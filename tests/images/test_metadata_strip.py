"""Metadata removed at the container level: the pixels' bytes untouched, ICC kept."""

from __future__ import annotations

import io

import pytest
from pictures import encode, metadata_of, opened, srgb_profile, upright

from chat_image._images.metadata import minimal_exif, read_pieces, scan, tiff_orientation
from chat_image._images.sniff import sniff

pytestmark = pytest.mark.pillow


def _strip(data: bytes, *, keep_orientation: bool = False):
    layout = scan(
        sniff(data), lambda o, n: data[o : o + n], len(data), keep_orientation=keep_orientation
    )
    assert layout.pieces is not None
    return layout, read_pieces(layout.pieces, lambda o, n: data[o : o + n])


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_gps_device_dates_xmp_and_comments_go_and_icc_stays(fmt):
    original = encode(upright((64, 48), noise=True), fmt)
    before = metadata_of(original)
    assert before["gps"]
    assert before["device"]
    assert before["xmp"]
    assert before["icc"]
    layout, stripped = _strip(original)
    assert layout.removed
    after = metadata_of(stripped)
    assert after["exif_tags"] == []
    assert not after["gps"]
    assert not after["device"]
    assert not after["xmp"]
    assert not after["comment"]
    assert after["icc"] == srgb_profile()
    # The pixels are the same, decoded: nothing was re-encoded.
    assert opened(stripped).tobytes() == opened(original).tobytes()
    assert (layout.width, layout.height) == (64, 48)


def test_an_image_without_metadata_comes_back_whole():
    out = io.BytesIO()
    upright((20, 10)).save(out, format="PNG")
    data = out.getvalue()
    layout = scan("image/png", lambda o, n: data[o : o + n], len(data), keep_orientation=False)
    assert not layout.removed
    assert layout.pieces == ((0, len(data)),)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_without_pillow_the_orientation_is_the_one_tag_kept(fmt):
    original = encode(upright((40, 30)), fmt, orientation=6)
    layout, stripped = _strip(original, keep_orientation=True)
    assert layout.orientation == 6
    assert (layout.width, layout.height) == (30, 40)  # stored sideways
    assert opened(stripped).getexif() == {0x0112: 6}
    assert not metadata_of(stripped)["gps"]


def test_a_jpeg_keeps_only_its_primary_picture():
    from PIL import Image

    primary = encode(upright((32, 32)), "JPEG")
    # Pillow writes an MPF block and appends the second picture for multi-frame JPEG saves.
    out = io.BytesIO()
    frames = [upright((32, 32)), upright((16, 16))]
    frames[0].save(out, format="MPO", save_all=True, append_images=frames[1:], exif=b"")
    mpo = out.getvalue()
    _layout, stripped = _strip(mpo)
    assert len(stripped) < len(mpo)
    image = Image.open(io.BytesIO(stripped))
    assert getattr(image, "n_frames", 1) == 1
    assert image.size == (32, 32)
    assert primary  # the plain JPEG path is covered above


def test_animation_and_sizes_are_read_from_headers():
    from PIL import Image

    frames = [upright((12, 8)), upright((12, 8)).transpose(Image.Transpose.ROTATE_180)]
    for fmt in ("GIF", "WEBP", "PNG"):
        out = io.BytesIO()
        frames[0].save(out, format=fmt, save_all=True, append_images=frames[1:], duration=100)
        data = out.getvalue()
        layout = scan(
            sniff(data), lambda o, n, d=data: d[o : o + n], len(data), keep_orientation=False
        )
        assert layout.animated, fmt
        assert (layout.width, layout.height) == (12, 8), fmt
    still = io.BytesIO()
    frames[0].save(still, format="GIF")
    data = still.getvalue()
    assert not scan(
        "image/gif", lambda o, n: data[o : o + n], len(data), keep_orientation=False
    ).animated


def test_orientation_blocks_round_trip():
    for orientation in range(1, 9):
        assert tiff_orientation(minimal_exif(orientation)) == orientation


def test_a_malformed_container_is_left_alone():
    data = b"\xff\xd8\xff\xe0" + bytes(range(32))
    layout = scan("image/jpeg", lambda o, n: data[o : o + n], len(data), keep_orientation=False)
    assert layout.pieces is None
