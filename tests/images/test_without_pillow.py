"""Without the `images` extra: everything but resizing and pixel sizes works.

Run by the tests session, whose environment has no Pillow; the first test proves it.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from chat_image import ImagePart, MissingExtraError, TextPart, UserMessage
from samples import image_bytes

pytestmark = pytest.mark.no_pillow


def test_this_environment_has_no_pillow():
    assert importlib.util.find_spec("PIL") is None, "run these in the tests session (no Pillow)"


def test_images_are_sent_without_pillow(client, server):
    client.chat.completions.create(
        model="gpt-4o",
        messages=[UserMessage([TextPart("hi"), ImagePart.from_bytes(image_bytes("JPEG"), "high")])],
        max_tokens=300,
    )
    url = server.last.json["messages"][0]["content"][1]["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")


def test_resizing_says_which_extra_to_install(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(image_bytes("PNG"))
    for make in (
        lambda: ImagePart.from_path(path, "low", resize=True),
        lambda: ImagePart.from_bytes(image_bytes("PNG"), resize=True),
    ):
        with pytest.raises(MissingExtraError) as caught:
            make()
        assert "pip install 'chat-image[images]'" in str(caught.value)
        assert isinstance(caught.value, ImportError)
        assert caught.value.name == "Pillow"


def test_a_high_detail_estimate_needs_the_pixel_size(monkeypatch):
    # Without imagesize (the cli extra) as well: nothing can read the pixel size.
    monkeypatch.setitem(sys.modules, "imagesize", None)
    with pytest.raises(MissingExtraError, match=r"chat-image\[images\]"):
        ImagePart.from_bytes(image_bytes("GIF"), "high").estimate_tokens()
