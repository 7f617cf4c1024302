"""With the `images` extra: resizing to what the model uses, and token estimates from pixels.

Run by the tests-images session, which installs Pillow. Images are generated at known sizes.
"""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING

import pytest

from chat_image import (
    MAX_IMAGE_BYTES,
    ImageData,
    ImagePart,
    InvalidImageError,
    estimate_image_tokens,
)
from samples import FORMATS, MEDIA_TYPES

if TYPE_CHECKING:
    from PIL import Image

# Collected in both sessions, so Pillow is imported inside the tests: the tests session
# deselects them, and where they are selected a missing Pillow fails them, not skips them.
pytestmark = pytest.mark.pillow


def _image(size: tuple[int, int], fmt: str = "PNG", mode: str = "RGB", **save: object) -> bytes:
    from PIL import Image

    image = Image.new(mode, size, "teal" if mode != "P" else 3)
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def _decoded(data: bytes) -> Image.Image:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(
    ("size", "detail", "expected"),
    [
        # low: within 512 x 512, aspect kept.
        ((1024, 768), "low", (512, 384)),
        ((800, 2000), "low", (205, 512)),
        # high: within 2048 x 2048, then the short side down to 768.
        ((4096, 2048), "high", (1536, 768)),
        ((1024, 1024), "high", (768, 768)),
        ((3000, 1000), "high", (2048, 683)),  # short side already under 768 after step 1
        ((1000, 3000), "auto", (683, 2048)),  # auto is resized as high
        ((2000, 1000), None, (1536, 768)),
    ],
)
def test_resize_to_what_the_model_uses(size, detail, expected):
    part = ImagePart.from_bytes(_image(size), detail, resize=True)
    assert _decoded(part.image_url.data).size == expected  # type: ignore[union-attr]
    assert part.image_url.dimensions == expected  # type: ignore[union-attr]
    assert part.image_url.detail == detail


@pytest.mark.parametrize(("size", "detail"), [((512, 300), "low"), ((1200, 768), "high")])
def test_an_image_already_small_enough_is_left_byte_for_byte(size, detail):
    data = _image(size, "JPEG", quality=70)
    assert ImageData.from_bytes(data, detail, resize=True).data == data


@pytest.mark.parametrize("fmt", FORMATS)
def test_resized_images_keep_their_format_except_gif(fmt, tmp_path):
    path = tmp_path / f"big.{fmt.lower()}"
    path.write_bytes(_image((1600, 1200), fmt))
    image = ImageData.from_path(path, "low", resize=True)
    expected = "image/png" if fmt == "GIF" else MEDIA_TYPES[fmt]
    assert image.media_type == expected
    decoded = _decoded(image.data)
    assert decoded.format == ("PNG" if fmt == "GIF" else fmt)
    assert decoded.size == (512, 384)


def test_resizing_turns_the_image_upright_first():
    from PIL import Image

    # Stored 2000 x 1000 with an EXIF tag saying "rotate 90 degrees": it shows as 1000 x 2000.
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _image((2000, 1000), "JPEG", exif=exif.tobytes())
    resized = _decoded(ImageData.from_bytes(data, "high", resize=True).data)
    assert resized.size == (768, 1536)
    assert resized.getexif().get(0x0112) in (None, 1)


def test_palette_images_with_transparency_resize_smoothly():
    data = _image((1400, 1400), "PNG", mode="P", transparency=0)
    resized = _decoded(ImageData.from_bytes(data, "low", resize=True).data)
    assert resized.size == (512, 512)
    assert resized.mode == "RGBA"


def test_resizing_brings_an_image_over_the_limit_within_it(tmp_path):
    from PIL import Image

    side = 2700  # random pixels do not compress: over 20 MB as a PNG
    noise = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    path = tmp_path / "noise.png"
    noise.save(path, compress_level=0)
    assert path.stat().st_size > MAX_IMAGE_BYTES

    with pytest.raises(InvalidImageError, match="over the gateway's limit"):
        ImagePart.from_path(path, "high")
    part = ImagePart.from_path(path, "high", resize=True)
    assert part.image_url.dimensions == (768, 768)  # type: ignore[union-attr]


def test_a_corrupt_image_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(_image((600, 600))[:60])
    with pytest.raises(InvalidImageError) as caught:
        ImagePart.from_path(path, "low", resize=True)
    assert caught.value.field == "path"
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("size", "detail", "tokens"),
    [
        ((1024, 1024), "high", 765),
        ((2048, 4096), "high", 1105),
        ((2048, 4096), "low", 85),
        ((200, 100), "high", 255),
        ((1600, 1200), "auto", 85 + 170 * 4),  # -> 1024 x 768: 2 x 2 tiles
    ],
)
def test_token_estimates_for_generated_images(size, detail, tokens):
    data = _image(size)
    assert ImagePart.from_bytes(data, detail).estimate_tokens() == tokens
    # What the model would do anyway: resizing first does not change the count.
    assert ImagePart.from_bytes(data, detail, resize=True).estimate_tokens() == tokens
    assert estimate_image_tokens(*size, detail) == tokens


def test_resized_images_are_sent(client, server):
    part = ImagePart.from_bytes(_image((3000, 1500), "WEBP"), "high", resize=True)
    client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": [part]}], max_tokens=9
    )
    url = server.last.json["messages"][0]["content"][0]["image_url"]["url"]
    assert url.startswith("data:image/webp;base64,")
    assert url == part.image_url.url
