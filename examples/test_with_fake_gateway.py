"""Testing code that uses chat-image, with the `fake_gateway` fixture (no conftest needed).

Installing the package and pytest is all it takes (`pip install . pytest` in a clone of
chat-image; `pip install chat-image pytest` once it is published): the fixtures come with it.
"""

import asyncio

import httpx
import pytest

import chat_image
from chat_image import ImagePart, TextPart, UserMessage
from chat_image.testing import FakeGateway

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32  # stands in for a real image file


def describe(client: chat_image.ChatImage, image: bytes) -> str:
    """The code under test: asks the model about an image."""
    completion = client.chat.completions.create(
        model="gpt-4o",
        messages=[UserMessage([TextPart("What is in this image?"), ImagePart.from_bytes(image)])],
        max_tokens=300,
    )
    return completion.choices[0].message.content or ""


def test_queued_answers(fake_gateway: FakeGateway, fake_gateway_client: chat_image.ChatImage):
    fake_gateway.queue(content="Two cats on a sofa.")
    assert describe(fake_gateway_client, PNG) == "Two cats on a sofa."


def test_what_was_sent(fake_gateway: FakeGateway, fake_gateway_client: chat_image.ChatImage):
    describe(fake_gateway_client, PNG)
    request = fake_gateway.requests[-1]
    assert request.json["max_tokens"] == 300
    assert request.images[0].data == PNG  # decoded from the data URL
    assert request.headers["Authorization"] == "Bearer [masked]"


def test_a_rate_limit_is_retried(
    fake_gateway: FakeGateway, fake_gateway_client: chat_image.ChatImage
):
    fake_gateway.queue(status=429, headers={"Retry-After": "0"})
    fake_gateway.queue(content="Two cats on a sofa.")
    assert describe(fake_gateway_client, PNG) == "Two cats on a sofa."
    assert fake_gateway.count == 2  # the fixture's client retries without waiting


def test_errors_reach_your_code(
    fake_gateway: FakeGateway, fake_gateway_client: chat_image.ChatImage
):
    fake_gateway.queue(status=400, message="Image too small", headers={"x-request-id": "req_1"})
    with pytest.raises(chat_image.BadRequestError) as err:
        describe(fake_gateway_client, PNG)
    assert err.value.request_id == "req_1"


def test_a_streamed_answer(fake_gateway: FakeGateway, fake_gateway_client: chat_image.ChatImage):
    fake_gateway.queue(content="Two cats on a sofa.", stream=True)
    with fake_gateway_client.chat.completions.create(
        model="gpt-4o", messages=[UserMessage("What is on the sofa?")], max_tokens=20, stream=True
    ) as stream:
        pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
        completion = stream.get_final_completion()
    assert len(pieces) > 1  # word by word, as the gateway streams
    assert "".join(pieces) == completion.choices[0].message.content == "Two cats on a sofa."
    assert fake_gateway.last.json["stream"] is True


def test_async(fake_gateway: FakeGateway, fake_gateway_async_client: chat_image.AsyncChatImage):
    fake_gateway.queue(content="A dog.")

    async def main() -> str:
        async with fake_gateway_async_client as client:
            completion = await client.chat.completions.create(
                model="gpt-4o", messages=[UserMessage("Describe a dog.")], max_tokens=20
            )
        return completion.choices[0].message.content or ""

    assert asyncio.run(main()) == "A dog."


def test_a_request_the_gateway_would_refuse(fake_gateway: FakeGateway):
    # Code that builds requests by hand gets the gateway's 400, naming the field.
    response = httpx.post(
        f"{fake_gateway.base_url}/chat/completions",
        headers={"Authorization": f"Bearer {fake_gateway.api_key}"},
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]},
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "max_tokens"
