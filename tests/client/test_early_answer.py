"""A server that answers before it has read a large upload: the caller gets the status the
server sent, and the refused body is sent once, on every client (sync, async, aiohttp).

The refusing server is a raw socket server on 127.0.0.1: it reads the request's headers,
answers 413 at once and closes without reading the body, which no HTTP server library does
on purpose. The body is larger than the loopback socket buffers hold, so the client is still
writing it when the answer comes.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from chat_image import APIStatusError, AsyncChatImage, ChatImage, DefaultAioHttpClient, UserMessage
from chat_image.testing import FakeGateway, Reply
from completions import completion
from conftest import API_KEY

ERROR = {"error": {"message": "request body too large", "type": "invalid_request_error"}}
# Far more than a loopback connection's send and receive buffers hold together.
LARGE = "x" * (24 * 1024 * 1024)
# aiohttp warns of any body over 1 MB handed to it as bytes, as httpx-aiohttp hands it; sent
# as a stream instead, aiohttp no longer hears the early answer. The warning is aiohttp's
# advice for its own API, not a fault of the request.
_AIOHTTP = pytest.param(
    "aiohttp",
    marks=pytest.mark.filterwarnings("ignore:Sending a large body directly:ResourceWarning"),
)
KINDS = ["sync", "async", _AIOHTTP]


class RefusingServer:
    """Answers each request 413 as soon as its headers arrive, never reading its body."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._address = self._listener.getsockname()
        self.url = f"http://127.0.0.1:{self._address[1]}/v1"
        self._closing = False
        self.request_heads: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            conn, _ = self._listener.accept()
            if self._closing:
                conn.close()
                return
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    piece = conn.recv(65536)
                    if not piece:
                        break
                    head += piece
                self.request_heads.append(head.partition(b"\r\n\r\n")[0])
                body = json.dumps(ERROR).encode()
                conn.sendall(
                    b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
                )

    def close(self) -> None:
        # Closing a listening socket does not wake accept(): a last connection does.
        self._closing = True
        socket.create_connection(self._address).close()
        self._thread.join()
        self._listener.close()


@pytest.fixture
def refusing() -> Iterator[RefusingServer]:
    server = RefusingServer()
    yield server
    server.close()


def call(kind: str, base_url: str, content: str, **create: Any) -> Any:
    """One create() on a new client of `kind` (sync, async, or async over aiohttp)."""
    kwargs: dict[str, Any] = {"model": "m", "messages": [UserMessage(content)], "max_tokens": 5}
    if kind == "sync":
        with ChatImage(api_key=API_KEY, base_url=base_url) as sync:
            return sync.chat.completions.create(**kwargs, **create)

    async def main() -> Any:
        http = DefaultAioHttpClient() if kind == "aiohttp" else None
        async with AsyncChatImage(api_key=API_KEY, base_url=base_url, http_client=http) as chat:
            return await chat.chat.completions.create(**kwargs, **create)

    return asyncio.run(main())


@pytest.mark.parametrize("kind", KINDS)
def test_an_answer_sent_before_the_upload_ends_is_the_callers(kind, refusing):
    with pytest.raises(APIStatusError) as caught:
        call(kind, refusing.url, LARGE)
    assert caught.value.status_code == 413
    assert caught.value.body == ERROR
    assert caught.value.error_message == "request body too large"
    # 413 is final: the body the server refused is not sent again.
    assert len(refusing.request_heads) == 1
    assert refusing.request_heads[0].startswith(b"POST /v1/chat/completions ")


@pytest.mark.parametrize("kind", KINDS)
def test_no_retry_budget_sends_a_refused_body_again(kind, refusing):
    with pytest.raises(APIStatusError) as caught:
        call(kind, refusing.url, LARGE, max_retries=5)
    assert caught.value.status_code == 413
    assert len(refusing.request_heads) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_large_upload_the_server_reads_whole_is_answered(kind):
    # Listening for an early answer must not disturb an upload the server takes in full.
    with FakeGateway(api_key=API_KEY, default=Reply(body=completion())) as gateway:
        answer = call(kind, gateway.url, LARGE)
        assert answer.choices[0].message.content
        assert gateway.count == 1
        assert gateway.last.json["messages"][0]["content"] == LARGE


def test_the_generated_clients_retry_transport_hears_an_early_answer(refusing):
    # `client.api_client` sends through RetryTransport, which retries by itself: a refusal
    # heard as a dropped connection would be uploaded max_retries + 1 times.
    payload = {"model": "m", "messages": [{"role": "user", "content": LARGE}], "max_tokens": 5}

    async def main() -> Any:
        async with AsyncChatImage(api_key=API_KEY, base_url=refusing.url) as chat:
            http = chat.api_client.get_async_httpx_client()
            return await http.post("/chat/completions", json=payload)

    response = asyncio.run(main())
    assert response.status_code == 413
    assert response.json() == ERROR
    assert len(refusing.request_heads) == 1
    assert refusing.request_heads[0].startswith(b"POST ")
