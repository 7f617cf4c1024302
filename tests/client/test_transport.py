"""RetryTransport: the same retry policy for the generated client and any httpx client."""

from __future__ import annotations

import asyncio
import gzip
import json

import httpx
import pytest

from chat_image import (
    AsyncChatImage,
    ChatImage,
    InvalidInputError,
    RetryPolicy,
    RetryTransport,
    UserMessage,
)
from chat_image.testing import FakeGateway, Reply
from chat_image_api import AuthenticatedClient
from chat_image_api.api.chat import create_chat_completion
from chat_image_api.models import ChatCompletionRequest, ChatMessage
from completions import completion
from conftest import API_KEY

BODY = ChatCompletionRequest(
    model="gpt-4o", messages=[ChatMessage(role="user", content="hi")], max_tokens=3
)


def test_generated_client_retries_through_the_transport(server):
    server.queue(Reply(status=503), Reply(status=429), Reply(body=completion()))
    sleeps: list[float] = []
    transport = RetryTransport(sleep=sleeps.append, policy=RetryPolicy(random=lambda: 0.0))
    api = AuthenticatedClient(
        base_url=server.url, token=API_KEY, httpx_args={"transport": transport}
    )
    with api:
        response = create_chat_completion.sync_detailed(client=api, body=BODY)
    assert response.status_code == 200
    assert json.loads(response.content)["id"] == "chatcmpl-AbC123"
    assert server.count == 3
    assert sleeps == [0.5, 1.0]


def test_generated_async_client_retries_through_the_same_transport(server):
    server.queue(Reply(fault="close"), Reply(fault="drop_mid_body"), Reply(body=completion()))
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    transport = RetryTransport(async_sleep=record)
    api = AuthenticatedClient(
        base_url=server.url, token=API_KEY, httpx_args={"transport": transport}
    )

    async def main() -> httpx.Response:
        async with api:
            detailed = await create_chat_completion.asyncio_detailed(client=api, body=BODY)
            return httpx.Response(detailed.status_code, content=detailed.content)

    assert asyncio.run(main()).status_code == 200
    assert server.count == 3
    assert len(sleeps) == 2


def test_transport_gives_up_with_the_last_outcome(lenient_server):
    lenient_server.default = Reply(status=500, message="boom")
    with httpx.Client(transport=RetryTransport(max_retries=1, sleep=lambda _: None)) as http:
        response = http.post(lenient_server.url + "/v1/chat/completions", json={})
    assert response.status_code == 500
    assert response.json()["error"]["message"] == "boom"
    assert lenient_server.count == 2
    lenient_server.default = Reply(fault="close")
    with (
        httpx.Client(transport=RetryTransport(max_retries=1, sleep=lambda _: None)) as http,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        http.post(lenient_server.url + "/v1/chat/completions", json={})
    assert lenient_server.count == 4


def test_transport_does_not_retry_a_400(lenient_server):
    lenient_server.default = Reply(status=400)
    with httpx.Client(transport=RetryTransport(sleep=lambda _: None)) as http:
        assert http.post(lenient_server.url + "/x", json={}).status_code == 400
    assert lenient_server.count == 1


def test_a_request_carries_its_own_retry_budget(lenient_server):
    lenient_server.default = Reply(status=503)
    with httpx.Client(transport=RetryTransport(max_retries=0, sleep=lambda _: None)) as http:
        request = http.build_request(
            "POST", lenient_server.url + "/x", json={}, extensions={"chat_image.max_retries": 3}
        )
        assert http.send(request).status_code == 503
        assert lenient_server.count == 4
        request = http.build_request(
            "POST", lenient_server.url + "/x", json={}, extensions={"chat_image.max_retries": -1}
        )
        with pytest.raises(InvalidInputError, match=r"chat_image\.max_retries"):
            http.send(request)
    assert lenient_server.count == 4


def test_a_streamed_request_body_is_sent_whole_on_every_attempt(lenient_server):
    lenient_server.queue(Reply(status=502), Reply(body=completion()))
    with httpx.Client(transport=RetryTransport(sleep=lambda _: None)) as http:
        response = http.post(lenient_server.url + "/x", content=iter([b'{"a":', b" 1}"]))
    assert response.status_code == 200
    assert [r.body for r in lenient_server.requests] == [b'{"a": 1}', b'{"a": 1}']


def test_a_compressed_body_is_passed_on_still_encoded(lenient_server):
    """The transport buffers raw bytes; decoding stays with the client (else: twice)."""
    data = json.dumps(completion()).encode()
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    lenient_server.queue(
        Reply(status=503), Reply(status=200, body=gzip.compress(data), headers=headers)
    )
    with httpx.Client(transport=RetryTransport(sleep=lambda _: None)) as http:
        response = http.post(lenient_server.url + "/x", json={})
    assert response.json() == completion()


def test_friendly_clients_api_client_retries_with_the_generated_functions(server):
    server.queue(Reply(status=503), Reply(body=completion()))
    # Zero backoff: the generated path sleeps with the real time.sleep.
    with ChatImage(
        api_key=API_KEY, base_url=server.url, retry_policy=RetryPolicy(initial_delay=0)
    ) as chat:
        response = create_chat_completion.sync_detailed(client=chat.api_client, body=BODY)
    assert response.status_code == 200
    assert server.count == 2
    assert server.last.has_api_key(API_KEY)


def test_transport_repr_and_validation():
    assert repr(RetryTransport(max_retries=1)).startswith("RetryTransport(max_retries=1, policy=")
    with pytest.raises(InvalidInputError):
        RetryTransport(max_retries=-1)


@pytest.fixture
def proxy_env(monkeypatch):
    """No proxy settings but the ones a test sets."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def test_the_default_client_goes_through_the_environments_proxy(proxy_env):
    """httpx drops environment proxies once a client has a transport; RetryTransport reads
    them itself, so `ChatImage()` behind a corporate proxy still reaches the gateway."""
    with FakeGateway(api_key=None, validate=False) as proxy:
        proxy_env.setenv("HTTP_PROXY", proxy.url)
        with ChatImage(api_key=API_KEY, base_url="http://localhost:9/v1") as chat:
            chat.chat.completions.create(model="m", messages=[UserMessage("x")], max_tokens=1)
        assert proxy.last.path == "http://localhost:9/v1/chat/completions"
        assert proxy.last.has_api_key(API_KEY)


def test_no_proxy_and_trust_env_false_go_direct(proxy_env, lenient_server):
    with FakeGateway(api_key=None, validate=False) as proxy:
        proxy_env.setenv("HTTP_PROXY", proxy.url)
        proxy_env.setenv("NO_PROXY", "127.0.0.1")
        with ChatImage(api_key=API_KEY, base_url=lenient_server.url) as chat:
            chat.chat.completions.create(model="m", messages=[UserMessage("x")], max_tokens=1)
        proxy_env.delenv("NO_PROXY")
        direct = httpx.Client(transport=RetryTransport(trust_env=False))
        with direct:
            direct.post(lenient_server.url + "/v1/chat/completions", json={})
        assert proxy.count == 0
        assert lenient_server.count == 2


def test_the_async_client_goes_through_the_environments_proxy(proxy_env):
    with FakeGateway(api_key=None, validate=False) as proxy:
        proxy_env.setenv("HTTP_PROXY", proxy.url)

        async def main() -> None:
            async with AsyncChatImage(api_key=API_KEY, base_url="http://localhost:9") as chat:
                await chat.chat.completions.create(
                    model="m", messages=[UserMessage("x")], max_tokens=1
                )

        asyncio.run(main())
        assert proxy.last.path == "http://localhost:9/v1/chat/completions"
