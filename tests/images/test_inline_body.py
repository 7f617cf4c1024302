"""Inline images are base64-encoded while the body streams out, not built up front."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import tracemalloc

import pytest
from test_images import sent_images

from chat_image import AsyncChatImage, ChatImage, ImagePart, TextPart, UserMessage
from chat_image._images.inline import InlineBody, InlineImages
from chat_image.testing import FakeGateway
from conftest import API_KEY, backend_kwargs
from samples import image_bytes, noise_png


def test_a_large_image_is_streamed_with_a_content_length(client, server):
    big, small = noise_png(3 * 1024 * 1024 + 1), image_bytes("WEBP")
    client.chat.completions.create(
        model="gpt-4o",
        messages=[
            UserMessage([ImagePart.from_bytes(big), TextPart("and"), ImagePart.from_bytes(small)])
        ],
        max_tokens=300,
    )
    sent = server.last
    assert "Transfer-Encoding" not in sent.headers
    assert int(sent.headers["Content-Length"]) == len(sent.body) > 4 * 1024 * 1024
    assert sent_images(sent.json) == [("image/png", big, None), ("image/webp", small, None)]


def test_async_client_streams_large_and_small_images(server, backend):
    big, small = noise_png(1024 * 1024), image_bytes("GIF")

    async def main() -> None:
        kwargs = backend_kwargs(backend)
        async with AsyncChatImage(api_key=API_KEY, base_url=server.url, **kwargs) as chat:
            for data in (big, small):
                await chat.chat.completions.create(
                    model="gpt-4o",
                    messages=[UserMessage([ImagePart.from_bytes(data)])],
                    max_tokens=9,
                )

    asyncio.run(main())
    assert [sent_images(r.json) for r in server.requests] == [
        [("image/png", big, None)],
        [("image/gif", small, None)],
    ]
    for sent in server.requests:  # streamed or not, each with its length, never chunked
        assert "Transfer-Encoding" not in sent.headers
        assert int(sent.headers["Content-Length"]) == len(sent.body)


def test_a_streamed_body_can_be_sent_again():
    """A retry re-sends the same request: the body must not be a one-shot generator."""
    images = [os.urandom(700_000), os.urandom(5)]
    body = InlineBody((b'{"a":"', b'","b":"', b'"}'), tuple(images))
    first, second = b"".join(body), b"".join(body)
    assert first == second
    assert len(first) == body.length
    assert json.loads(first) == {
        "a": base64.b64encode(images[0]).decode(),
        "b": base64.b64encode(images[1]).decode(),
    }
    assert max(len(chunk) for chunk in body) <= 512 * 1024


def test_placeholders_that_do_not_survive_encoding_are_an_error():
    inline = InlineImages()
    inline.swap(UserMessage([ImagePart.from_bytes(image_bytes("PNG"))]))
    with pytest.raises(RuntimeError, match="placeholders"):
        inline.encode({"messages": []})


def test_sending_an_image_from_a_file_holds_it_about_once(tmp_path):
    """Reading and sending 8 MiB allocates little beyond the 8 MiB of file content.

    Not a timing: tracemalloc counts Python's allocations, the same on every run. The server
    runs in this process too, so it is told not to keep the body. With httpx's json= the
    peak would be about 5x the image (bytes, data URL, json.dumps's copy, its encoding).
    """
    size = 8 * 1024 * 1024
    path = tmp_path / "big.png"
    path.write_bytes(noise_png(size))
    with (
        FakeGateway(api_key=API_KEY, keep_bodies=False) as server,
        ChatImage(api_key=API_KEY, base_url=server.url) as client,
    ):
        client.chat.completions.create(model="m", messages=[UserMessage("warm")], max_tokens=1)
        tracemalloc.start()
        try:
            message = UserMessage([TextPart("What is this?"), ImagePart.from_path(path)])
            client.chat.completions.create(model="m", messages=[message], max_tokens=1)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    assert peak < 1.25 * size, f"peak {peak / size:.2f}x the image"
    expected = {"model": "m", "messages": [message.to_dict()], "max_tokens": 1}
    encoded = json.dumps(expected, separators=(",", ":")).encode()
    assert (server.last.size, server.last.sha256) == (
        len(encoded),
        hashlib.sha256(encoded).hexdigest(),
    )
