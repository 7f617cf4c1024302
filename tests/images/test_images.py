"""Images from files, bytes and URLs, sent end to end to a real server on 127.0.0.1.

These run with and without Pillow: nothing here decodes an image.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest

from chat_image import (
    MAX_IMAGE_BYTES,
    ImageData,
    ImagePart,
    InvalidImageError,
    InvalidInputError,
    TextPart,
    UserMessage,
    estimate_image_tokens,
)
from samples import FORMATS, MEDIA_TYPES, image_bytes, noise_png


def sent_images(body: dict) -> list[tuple[str, bytes, str | None]]:
    """(media type, image bytes, detail) for each inline image in a received body."""
    found = []
    for message in body["messages"]:
        for part in message["content"] if isinstance(message["content"], list) else []:
            if part["type"] != "image_url" or not part["image_url"]["url"].startswith("data:"):
                continue
            head, payload = part["image_url"]["url"].split(",", 1)
            media_type = head.removeprefix("data:").removesuffix(";base64")
            found.append((media_type, base64.b64decode(payload), part["image_url"].get("detail")))
    return found


@pytest.mark.parametrize("fmt", FORMATS)
def test_from_path_sniffs_the_type_from_content_not_name_and_sends_it(
    fmt, tmp_path, client, server
):
    data = image_bytes(fmt)
    path = tmp_path / "photo.txt"  # a misleading name: the first bytes decide
    path.write_bytes(data)

    client.chat.completions.create(
        model="gpt-4o",
        messages=[UserMessage([TextPart("What is this?"), ImagePart.from_path(path, "low")])],
        max_tokens=300,
    )

    assert sent_images(server.last.json) == [(MEDIA_TYPES[fmt], data, "low")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_from_bytes_sends_each_format(fmt, client, server):
    data = image_bytes(fmt)
    client.chat.completions.create(
        model="gpt-4o", messages=[UserMessage([ImagePart.from_bytes(data)])], max_tokens=300
    )
    body = server.last.json
    assert sent_images(body) == [(MEDIA_TYPES[fmt], data, None)]
    assert "detail" not in body["messages"][0]["content"][0]["image_url"]


def test_url_path_and_bytes_parts_mix_in_one_request(tmp_path, client, server):
    png, gif = image_bytes("PNG"), image_bytes("GIF")
    (tmp_path / "a.png").write_bytes(png)
    url = "https://example.com/boardwalk.jpg"
    client.chat.completions.create(
        model="gpt-4o",
        messages=[
            UserMessage([TextPart("First"), ImagePart.from_path(tmp_path / "a.png", "high")]),
            {"role": "assistant", "content": "Seen."},
            UserMessage([ImagePart.from_url(url, "auto"), ImagePart.from_bytes(gif, "low")]),
        ],
        max_tokens=300,
    )
    body = server.last.json
    assert sent_images(body) == [("image/png", png, "high"), ("image/gif", gif, "low")]
    assert body["messages"][2]["content"][0] == {
        "type": "image_url",
        "image_url": {"url": url, "detail": "auto"},
    }


def test_the_body_is_the_json_of_the_parts_to_dict(client, server):
    """The streamed body says exactly what the generated model's to_dict() says."""
    part = ImagePart.from_bytes(image_bytes("JPEG"), "high")
    message = UserMessage([TextPart("Describe"), part], name="ann")
    client.chat.completions.create(model="gpt-4o", messages=[message], max_tokens=300, seed=7)
    expected = {"model": "gpt-4o", "messages": [message.to_dict()], "max_tokens": 300, "seed": 7}
    assert server.last.json == expected
    assert server.last.headers["Content-Length"] == str(len(server.last.body))
    assert server.last.headers["Content-Type"] == "application/json"


def test_image_data_shows_its_type_and_size_not_its_payload(tmp_path):
    path = tmp_path / "cat.gif"
    path.write_bytes(image_bytes("GIF"))
    image = ImageData.from_path(path, "low")
    assert image.media_type == "image/gif"
    assert repr(image) == (
        f"ImageData(<image/gif, {path.stat().st_size:,} bytes from {str(path)!r}>, detail='low')"
    )
    assert image.url == "data:image/gif;base64," + base64.b64encode(path.read_bytes()).decode()
    assert image.data == path.read_bytes()
    # A part from a file is its file as checked, not its bytes: reading it is no __eq__'s job.
    assert image == ImageData.from_path(path, "low")
    assert image != ImageData.from_bytes(path.read_bytes(), "low")


def test_bytearray_and_memoryview_are_copied_once():
    data = bytearray(image_bytes("PNG"))
    image = ImageData.from_bytes(memoryview(data))
    data[20] ^= 0xFF
    assert image.data != bytes(data)


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        (b"", "empty"),
        (b"%PDF-1.7\n", "starts with b'%PDF-1.7'"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "starts with b'<svg xml'"),
        (b"BM\x00\x00", "starts with b'BM"),  # BMP: an image, but not one the gateway takes
    ],
)
def test_other_content_is_refused_naming_the_file(content, shown, tmp_path):
    path = tmp_path / "picture.png"
    path.write_bytes(content)
    with pytest.raises(InvalidImageError) as caught:
        ImagePart.from_path(path)
    assert caught.value.field == "path"
    assert str(path) in str(caught.value)
    assert "is not a PNG, JPEG, GIF or WebP image" in str(caught.value)
    assert shown in str(caught.value)


def test_other_bytes_are_refused():
    with pytest.raises(InvalidImageError) as caught:
        ImagePart.from_bytes(b"GIF88a not quite")
    assert caught.value.field == "data"
    assert isinstance(caught.value, InvalidInputError)


def test_a_missing_file_and_a_directory_are_refused(tmp_path):
    with pytest.raises(InvalidImageError, match="no such file") as caught:
        ImagePart.from_path(tmp_path / "nope.jpg")
    assert str(tmp_path / "nope.jpg") in str(caught.value)
    with pytest.raises(InvalidImageError, match="is a directory"):
        ImagePart.from_path(tmp_path)


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.png"
    with path.open("wb") as file:
        file.write(image_bytes("PNG"))
        file.truncate(MAX_IMAGE_BYTES + 1)  # sparse: no disk and, if refused first, no memory
    with pytest.raises(InvalidImageError, match="over the gateway's limit") as caught:
        ImagePart.from_path(path)
    assert str(path) in str(caught.value)
    assert f"{MAX_IMAGE_BYTES + 1:,} bytes" in str(caught.value)


def test_a_file_at_the_limit_is_accepted(tmp_path):
    path = tmp_path / "max.png"
    with path.open("wb") as file:
        file.write(image_bytes("PNG"))
        file.truncate(MAX_IMAGE_BYTES)
    assert len(ImagePart.from_path(path).image_url.data) == MAX_IMAGE_BYTES  # type: ignore[union-attr]


def test_bytes_over_the_limit_are_refused():
    with pytest.raises(InvalidImageError, match="over the gateway's limit") as caught:
        ImagePart.from_bytes(noise_png(MAX_IMAGE_BYTES + 1))
    assert caught.value.field == "data"


def test_a_bad_detail_is_refused_before_the_file_is_read(tmp_path):
    with pytest.raises(InvalidInputError) as caught:
        ImagePart.from_path(tmp_path / "not-even-there.png", "max")  # type: ignore[arg-type]
    assert caught.value.field == "detail"


def test_an_inline_image_error_inside_messages_names_where():
    with pytest.raises(InvalidInputError) as caught:
        UserMessage([TextPart("x"), ImagePart(ImageData(b"nope"))])
    assert caught.value.field == "data"


@pytest.mark.parametrize(
    ("width", "height", "detail", "tokens"),
    [
        # OpenAI's worked examples for GPT-4o (images-vision guide, "Calculating costs").
        (1024, 1024, "high", 765),  # -> 768 x 768: 4 tiles
        (2048, 4096, "high", 1105),  # -> 1024 x 2048 -> 768 x 1536: 6 tiles
        (4096, 8192, "low", 85),
        # Neither step enlarges: a small image is one tile.
        (300, 200, "high", 255),
        (512, 512, "high", 255),
        (513, 512, "high", 425),
        # "auto" and None are counted as "high": an upper bound.
        (1024, 1024, "auto", 765),
        (1024, 1024, None, 765),
        (10_000, 100, "high", 85 + 170 * 4),  # -> 2048 x 20: 4 tiles in a row
    ],
)
def test_token_estimates_follow_openais_arithmetic(width, height, detail, tokens):
    assert estimate_image_tokens(width, height, detail) == tokens


@pytest.mark.parametrize(
    ("args", "field"), [((0, 5), "width"), ((5, -1), "height"), ((5, 5, "max"), "detail")]
)
def test_token_estimates_refuse_nonsense(args, field):
    with pytest.raises(InvalidInputError) as caught:
        estimate_image_tokens(*args)
    assert caught.value.field == field


def test_low_detail_estimates_need_no_pixel_size():
    assert ImagePart.from_bytes(image_bytes("PNG"), "low").estimate_tokens() == 85
    assert ImagePart.from_url("https://example.com/a.png", "low").estimate_tokens() == 85


def test_a_url_images_size_is_unknown():
    with pytest.raises(InvalidInputError, match="not known") as caught:
        ImagePart.from_url("https://example.com/a.png", "high").estimate_tokens()
    assert caught.value.field == "image_url.url"


def test_importing_the_package_does_not_import_pillow():
    code = "import sys, chat_image; assert 'PIL' not in sys.modules, 'PIL imported'"
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ})
