"""`timeout` bounds an attempt as a whole, and `total_timeout` a call with its retries.

httpx's timeouts are per read: a server that trickles a byte every 0.2 s never trips a 1 s
read timeout. The trickling server here counts what it managed to send before the client
hung up, so the tests assert on bytes and connections, not on a clock.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import chat_image
from chat_image import AsyncChatImage, ChatImage, DefaultAioHttpClient, UserMessage
from chat_image.testing import FakeGateway, Reply
from conftest import API_KEY

_TRICKLE_EVERY = 0.2
# The most the server sends: 12 s of trickle. An attempt bounded by its 1 s timeout stops
# it after about 5 bytes; the cut-off below leaves room for a slow, shared machine.
_TRICKLE_BYTES = 60
_CUT_OFF = 25


class TrickleServer:
    """Reads a request, then sends its answer's headers or body one byte at a time."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.sent: list[int] = []  # bytes trickled, per connection
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # so that the accept loop sees the stop
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/v1"

    def __enter__(self) -> TrickleServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(5)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            self.sent.append(0)
            index = len(self.sent) - 1
            threading.Thread(target=self._answer, args=(conn, index), daemon=True).start()

    def _answer(self, conn: socket.socket, index: int) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            while len(body) < length:
                body += conn.recv(65536)
            if self.where == "headers":
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                trickle = b"a" * _TRICKLE_BYTES
            else:
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n" % _TRICKLE_BYTES
                )
                trickle = b" " * _TRICKLE_BYTES
            try:
                for byte in trickle:
                    if self._stop.wait(_TRICKLE_EVERY):
                        return
                    conn.sendall(bytes([byte]))
                    self.sent[index] += 1
            except OSError:
                return  # the client hung up: what a bounded attempt does


def _params(**more: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [UserMessage("hi")], "max_tokens": 5, **more}


@pytest.fixture(params=["headers", "body"])
def trickle(request: pytest.FixtureRequest) -> Iterator[TrickleServer]:
    with TrickleServer(request.param) as server:
        yield server


def _call_sync(base_url: str, client_kwargs: dict[str, Any], call_kwargs: dict[str, Any]) -> None:
    with ChatImage(api_key=API_KEY, base_url=base_url, **client_kwargs) as client:
        client.chat.completions.create(**_params(**call_kwargs))


def _call_async(
    base_url: str, client_kwargs: dict[str, Any], call_kwargs: dict[str, Any], backend: str
) -> None:
    async def main() -> None:
        http_client = DefaultAioHttpClient() if backend == "aiohttp" else None
        async with AsyncChatImage(
            api_key=API_KEY, base_url=base_url, http_client=http_client, **client_kwargs
        ) as client:
            await client.chat.completions.create(**_params(**call_kwargs))

    asyncio.run(main())


CLIENTS = ["sync", "async", "aiohttp"]


def _call(kind: str, base_url: str, client_kwargs: dict[str, Any], **call_kwargs: Any) -> None:
    if kind == "sync":
        _call_sync(base_url, client_kwargs, call_kwargs)
    else:
        _call_async(base_url, client_kwargs, call_kwargs, kind)


@pytest.mark.parametrize("kind", CLIENTS)
def test_an_attempt_ends_within_its_timeout(trickle: TrickleServer, kind: str) -> None:
    with pytest.raises(chat_image.APITimeoutError) as caught:
        _call(kind, trickle.base_url, {"timeout": 1, "max_retries": 0})
    assert len(trickle.sent) == 1
    assert trickle.sent[0] < _CUT_OFF, trickle.sent
    assert "1 s" in str(caught.value)


@pytest.mark.parametrize("kind", CLIENTS)
def test_total_timeout_bounds_the_retries(trickle: TrickleServer, kind: str) -> None:
    # Ten retries of 1 s attempts; the whole call may take 1.5 s: two attempts at most, the
    # second cut by the call's deadline. The wait between them is a fixed 0.1 s: with the
    # default (0.375-0.5 s) the retry fit before the deadline by 0-0.125 s, and a loaded
    # machine made it not fit, ending the call with the first attempt's own timeout instead.
    settings = {"timeout": 1, "max_retries": 10, "total_timeout": 1.5}
    no_jitter = chat_image.RetryPolicy(initial_delay=0.1, jitter=0)
    with pytest.raises(chat_image.APITimeoutError) as caught:
        _call(kind, trickle.base_url, {**settings, "retry_policy": no_jitter})
    assert 1 <= len(trickle.sent) <= 2, trickle.sent
    assert "1.5 s" in str(caught.value)


@pytest.mark.parametrize("kind", CLIENTS)
def test_total_timeout_per_call(trickle: TrickleServer, kind: str) -> None:
    with pytest.raises(chat_image.APITimeoutError):
        _call(kind, trickle.base_url, {"timeout": 30, "max_retries": 3}, total_timeout=1)
    assert len(trickle.sent) == 1
    assert trickle.sent[0] < _CUT_OFF, trickle.sent


@pytest.mark.parametrize("kind", CLIENTS)
def test_no_wait_past_the_total_timeout(kind: str) -> None:
    """A retry whose wait would end after the call's deadline is not waited for: the status
    the server sent is raised at once."""
    with FakeGateway(api_key=API_KEY) as gateway:
        gateway.default = Reply(status=503, headers={"Retry-After": "20"})
        with pytest.raises(chat_image.InternalServerError):
            _call(kind, gateway.base_url, {"max_retries": 1, "total_timeout": 5})
        assert gateway.count == 1


@pytest.mark.parametrize("value", [0, -1, float("nan"), "5", True])
def test_total_timeout_is_checked(value: object) -> None:
    with pytest.raises(chat_image.InvalidInputError, match="total_timeout"):
        ChatImage(api_key=API_KEY, base_url="http://127.0.0.1:9/v1", total_timeout=value)  # type: ignore[arg-type]
    with (
        ChatImage(api_key=API_KEY, base_url="http://127.0.0.1:9/v1") as client,
        pytest.raises(chat_image.InvalidInputError, match="total_timeout"),
    ):
        client.chat.completions.create(**_params(total_timeout=value))
