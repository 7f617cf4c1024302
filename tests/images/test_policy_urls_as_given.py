"""Image URLs the gateway fetches itself skip the policy's work: `sent_as_given` must agree
with `apply_policy` on which messages it leaves alone, and the limits still hold."""

from __future__ import annotations

import asyncio

import pytest

from chat_image import AsyncChatImage, ChatImage, ImagePart, ImagePolicy, TextPart, UserMessage
from chat_image._images.errors import ImageLimitError
from chat_image._images.limits import ImageLimits
from chat_image._images.policy import apply_policy, sent_as_given
from chat_image.testing import FakeGateway

URL = "https://example.test/boardwalk.jpg"
PNG_DATA_URL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQ"
    "DwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _message(*urls: str) -> UserMessage:
    return UserMessage([TextPart("what is this?"), *(ImagePart.from_url(url) for url in urls)])


@pytest.mark.parametrize(
    ("messages", "policy", "expected"),
    [
        ([_message(URL)], ImagePolicy(), True),
        ([_message(URL, URL)], ImagePolicy(), True),
        ([_message(URL)], ImagePolicy(urls="auto"), True),
        ([_message(URL)], ImagePolicy(urls="inline"), False),
        ([_message(PNG_DATA_URL)], ImagePolicy(), False),
        ([_message(URL, PNG_DATA_URL)], ImagePolicy(), False),
        ([_message(URL, URL)], ImagePolicy(limits=ImageLimits(max_images=1)), False),
    ],
)
def test_sent_as_given_agrees_with_apply_policy(messages, policy, expected):
    assert sent_as_given(messages, policy) is expected
    if expected:
        prepared = apply_policy(messages, policy)
        assert prepared.messages == tuple(messages)
        assert prepared.reports == ()


def test_too_many_image_urls_are_still_refused_before_sending():
    two = [_message(URL, URL)]
    with FakeGateway() as gateway:
        client = ChatImage(api_key=gateway.api_key, base_url=gateway.url, images="vllm")
        with pytest.raises(ImageLimitError, match="max_images"):
            client.chat.completions.create(model="m", messages=two, max_tokens=5)

        async def main() -> None:
            async with AsyncChatImage(
                api_key=gateway.api_key, base_url=gateway.url, images="vllm"
            ) as aclient:
                await aclient.chat.completions.create(model="m", messages=two, max_tokens=5)

        with pytest.raises(ImageLimitError, match="max_images"):
            asyncio.run(main())
        client.close()
        assert gateway.requests == []


def test_an_image_url_goes_out_as_written():
    messages = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": URL}}]}]
    with (
        FakeGateway() as gateway,
        ChatImage(api_key=gateway.api_key, base_url=gateway.url) as client,
    ):
        client.chat.completions.create(model="m", messages=messages, max_tokens=5)
    sent = gateway.requests[0].json["messages"][0]["content"][0]
    assert sent == {"type": "image_url", "image_url": {"url": URL}}
