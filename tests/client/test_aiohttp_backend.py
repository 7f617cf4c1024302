"""`DefaultAioHttpClient`: the client's promises hold when it sends over aiohttp.

Every test runs `AsyncChatImage(http_client=DefaultAioHttpClient())` against a real server
on 127.0.0.1 (the kit's `FakeGateway`, or a raw socket server for answers no HTTP server
would give). The reliability suites run on this backend too (see the `backend` fixture).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import httpx
import pytest

import chat_image
from chat_image import AsyncChatImage, DefaultAioHttpClient, ImagePart, TextPart, UserMessage
from chat_image._exceptions import transport_error
from chat_image._transports._aiohttp_errors import httpx_error
from chat_image.testing import FakeGateway

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64
HI = [UserMessage("Hi")]


def run(gateway: FakeGateway, body: Callable[[AsyncChatImage], Any], **kwargs: Any) -> Any:
    """`body(client)` on an aiohttp-backed client for `gateway`, in a fresh event loop."""

    async def main() -> Any:
        async with gateway.async_client(http_client=DefaultAioHttpClient(), **kwargs) as client:
            return await body(client)

    return asyncio.run(main())


def create(**kwargs: Any) -> Callable[[AsyncChatImage], Any]:
    async def call(client: AsyncChatImage) -> Any:
        return await client.chat.completions.create(
            model="m", messages=kwargs.pop("messages", HI), max_tokens=5, **kwargs
        )

    return call


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    with FakeGateway() as running:
        yield running


# -- what it is --------------------------------------------------------------------------


def test_it_carries_our_defaults_and_takes_overrides():
    async def main() -> None:
        async with DefaultAioHttpClient() as http:
            assert http.timeout == chat_image.DEFAULT_TIMEOUT
        async with DefaultAioHttpClient(timeout=3.0) as http:
            assert http.timeout == httpx.Timeout(3.0)

    asyncio.run(main())


def test_a_call_sends_headers_and_an_inline_image_intact(gateway):
    messages = [UserMessage([TextPart("What is this?"), ImagePart.from_bytes(PNG)])]
    answer = run(gateway, create(messages=messages))
    assert answer.choices[0].message.content
    assert gateway.last.images[0].data == PNG
    assert gateway.last.has_api_key(gateway.api_key or "")
    assert gateway.last.headers["user-agent"].startswith("chat-image-python/")


def test_the_client_closes_a_default_aiohttp_client_and_leaves_a_callers_own_open(gateway):
    async def main() -> tuple[bool, bool]:
        ours, theirs = DefaultAioHttpClient(), httpx.AsyncClient()
        async with gateway.async_client(http_client=ours) as client:
            await create()(client)
        async with gateway.async_client(http_client=theirs) as client:
            await create()(client)
        still_open = not theirs.is_closed
        await theirs.aclose()
        return ours.is_closed, still_open

    assert run_plain(main) == (True, True)


def run_plain(main: Callable[[], Any]) -> Any:
    return asyncio.run(main())


def test_without_the_extra_making_one_is_a_missing_extra_error():
    program = textwrap.dedent(
        """
        import sys
        sys.modules["httpx_aiohttp"] = None  # as if the extra were not installed
        import chat_image
        try:
            chat_image.DefaultAioHttpClient()
        except chat_image.MissingExtraError as exc:
            print(type(exc).__name__, exc)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", program], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    assert out.startswith("MissingExtraError DefaultAioHttpClient needs httpx_aiohttp")
    assert "pip install 'chat-image[aiohttp]'" in out


# -- retries and their waits ---------------------------------------------------------------


def test_a_rate_limit_waits_as_asked_and_is_retried(gateway):
    gateway.queue(status=429, headers={"retry-after-ms": "250"})
    gateway.queue(status=503)
    waits: list[float] = []

    async def call(client: AsyncChatImage) -> Any:
        async def record(seconds: float) -> None:
            waits.append(seconds)

        client._sleep = record
        return await create()(client)

    policy = chat_image.RetryPolicy(initial_delay=0.5, jitter=0)
    assert run(gateway, call, retry_policy=policy).choices[0].message.content
    assert gateway.count == 3
    assert waits == [0.25, 1.0]  # the server's 250 ms, then backoff after the 503 (retry 2)


@pytest.mark.parametrize("fault", ["close", "drop_mid_body"])
def test_a_dropped_connection_is_retried_then_a_connection_error(gateway, fault):
    for _ in range(3):
        gateway.queue(fault=fault)
    with pytest.raises(chat_image.APIConnectionError) as err:
        run(gateway, create())
    assert type(err.value) is chat_image.APIConnectionError  # not mistaken for a timeout
    assert gateway.count == 3


def test_a_dropped_connection_then_an_answer_succeeds(gateway):
    gateway.queue(fault="close")
    assert run(gateway, create()).choices[0].message.content
    assert gateway.count == 2


def test_a_status_error_is_typed_with_its_request_id(gateway):
    gateway.queue(status=400, message="Image too small", headers={"x-request-id": "req_9"})
    with pytest.raises(chat_image.BadRequestError) as err:
        run(gateway, create())
    assert err.value.request_id == "req_9"
    assert gateway.count == 1


# -- timeouts ------------------------------------------------------------------------------


def test_a_silent_server_is_a_read_timeout(gateway):
    gateway.queue(fault="hang")
    with pytest.raises(chat_image.APITimeoutError, match="read timeout"):
        run(gateway, create(timeout=0.3, max_retries=0))


def test_a_refused_connection_is_a_connection_error_not_a_timeout():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again at once: nothing listens there

    async def main() -> None:
        async with AsyncChatImage(
            base_url=f"http://127.0.0.1:{port}",
            api_key="sk-unused-key-1",
            max_retries=0,
            http_client=DefaultAioHttpClient(),
        ) as client:
            await create()(client)

    with pytest.raises(chat_image.APIConnectionError) as err:
        asyncio.run(main())
    assert type(err.value) is chat_image.APIConnectionError


@pytest.mark.parametrize(
    ("failure", "expected", "message"),
    [
        (aiohttp.ConnectionTimeoutError("x"), httpx.ConnectTimeout, "(connect timeout)"),
        (aiohttp.SocketTimeoutError("x"), httpx.ReadTimeout, "(read timeout)"),
        (TimeoutError(), httpx.ReadTimeout, "(read timeout)"),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError, "Server disconnected"),
        (aiohttp.ClientPayloadError("cut"), httpx.RemoteProtocolError, "cut"),
        (ConnectionResetError("reset by peer"), httpx.NetworkError, "reset by peer"),
        (aiohttp.ClientOSError(32, "broken pipe"), httpx.NetworkError, "broken pipe"),
        (aiohttp.InvalidURL("nope://x"), httpx.UnsupportedProtocol, "nope://x"),
    ],
)
def test_each_aiohttp_failure_is_the_httpx_error_it_means(failure, expected, message):
    request = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    # As raised by aiohttp, and as httpx-aiohttp's own (partial) mapping wraps it.
    wrapped = httpx.ConnectTimeout("mis-mapped")
    wrapped.__cause__ = failure
    for raised in (failure, wrapped):
        mapped = httpx_error(raised)
        assert type(mapped) is expected
        assert message in str(transport_error(request, mapped))  # type: ignore[arg-type]
    assert isinstance(httpx_error(ValueError("ours")), ValueError)  # not ours to map


def test_a_request_body_that_fails_on_its_own_is_raised_as_itself():
    """aiohttp wraps a body's own failure (an image file changed while sent) in a connection
    error; httpx lets it through unchanged, and so must this backend: it is not retried."""
    own = ValueError("the body's own failure")
    origin = aiohttp.ClientConnectionError("Failed to send bytes")
    origin.__cause__ = own
    wrapped = httpx.ConnectTimeout("mis-mapped")  # as httpx-aiohttp passes it on
    wrapped.__cause__ = origin
    assert httpx_error(origin) is own
    assert httpx_error(wrapped) is own
    # A connection error caused by the connection is still one.
    reset = aiohttp.ClientConnectionError("gone")
    reset.__cause__ = ConnectionResetError("reset by peer")
    assert type(httpx_error(reset)) is httpx.NetworkError


# -- answers no HTTP server would give, and proxies ---------------------------------------


class RawServer:
    """Accepts connections on 127.0.0.1 and answers each request with `reply`, as given."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.request_lines: list[bytes] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    piece = conn.recv(65536)
                    if not piece:
                        break
                    data += piece
                self.request_lines.append(data.split(b"\r\n", 1)[0])
                conn.sendall(self.reply)

    def close(self) -> None:
        # Closing alone does not wake the thread blocked in accept(); shutting down does.
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(timeout=5)


def test_a_malformed_answer_is_a_connection_error_not_an_aiohttp_one():
    server = RawServer(b"NOT HTTP AT ALL\r\n\r\n")
    try:

        async def main() -> None:
            async with AsyncChatImage(
                base_url=server.url,
                api_key="sk-unused-key-1",
                http_client=DefaultAioHttpClient(),
                retry_policy=chat_image.RetryPolicy(initial_delay=0, max_delay=0, jitter=0),
            ) as client:
                await create()(client)

        with pytest.raises(chat_image.APIConnectionError) as err:
            asyncio.run(main())
    finally:
        server.close()
    assert not isinstance(err.value.__cause__, aiohttp.ClientError)
    assert len(server.request_lines) == 3  # retried, as a protocol error is


def test_proxies_from_the_environment_are_used(monkeypatch, gateway):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    body = b'{"error": {"message": "proxied", "type": "x"}}'
    proxy = RawServer(
        b"HTTP/1.1 418 I'm a teapot\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
    )
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    try:

        async def main() -> None:
            async with AsyncChatImage(
                base_url="http://localhost:9/v1",
                api_key="sk-unused-key-1",
                http_client=DefaultAioHttpClient(),
            ) as client:
                await create()(client)

        with pytest.raises(chat_image.APIStatusError, match="proxied"):
            asyncio.run(main())
    finally:
        proxy.close()
    assert proxy.request_lines == [b"POST http://localhost:9/v1/chat/completions HTTP/1.1"]
    assert gateway.count == 0


# -- streaming -----------------------------------------------------------------------------


def stream_body(client: AsyncChatImage) -> Any:
    async def read() -> Any:
        stream = await client.chat.completions.create(
            model="m", messages=HI, max_tokens=5, stream=True
        )
        async with stream:
            return [chunk async for chunk in stream], stream

    return read()


def test_a_stream_arrives_chunk_by_chunk(gateway):
    gateway.queue(stream=True, chunks=["A ", "streamed ", "answer."])
    chunks, _ = run(gateway, stream_body)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "A streamed answer."
    )


def test_keep_alive_pings_do_not_outlast_the_read_timeout(gateway):
    gateway.queue(stream=True, fault="pings_only")
    with pytest.raises(chat_image.APITimeoutError):
        run(gateway, stream_body, timeout=0.5, max_retries=0)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("error_event", chat_image.APIError),
        ("malformed_event", chat_image.APIResponseValidationError),
        ("drop_mid_body", chat_image.APIConnectionError),
    ],
)
def test_a_failing_stream_raises_from_our_tree(gateway, fault, error):
    gateway.queue(stream=True, fault=fault)
    with pytest.raises(error):
        run(gateway, stream_body, max_retries=0)
