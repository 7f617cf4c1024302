"""`FakeGateway.stop()` ends connections already open (a keep-alive connection gets no more
answers), and a `fault="hang"` request the client gave up on stops counting in `in_flight`."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx
import pytest

from chat_image import APITimeoutError
from chat_image.testing import FakeGateway, Reply
from conftest import Caller

_KEY = "sk-lifecycle-key-1"
_BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}


def _request(host: str) -> bytes:
    body = json.dumps(_BODY).encode()
    return (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
        % (host.encode(), _KEY.encode(), len(body), body)
    )


def _read_answer(sock: socket.socket) -> bytes:
    """One whole answer (headers and Content-Length body), or what came before EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            return data
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        body += piece
    return head + b"\r\n\r\n" + body


def test_stop_ends_keep_alive_connections():
    gateway = FakeGateway(api_key=_KEY).start()
    host = gateway.url.removeprefix("http://")
    port = int(host.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_request(host))
        assert _read_answer(sock).startswith(b"HTTP/1.1 200")
        gateway.stop()
        # The same connection, after stop(): no answer, the connection is closed.
        try:
            sock.sendall(_request(host))
            after = _read_answer(sock)
        except ConnectionError:
            after = b""
    assert after == b"", after[:80]


def test_stop_ends_a_client_pool_connection():
    """A client's pooled connection to a stopped gateway is not answered by it any more."""
    gateway = FakeGateway(api_key=_KEY).start()
    url = gateway.base_url + "/chat/completions"
    body = _BODY
    headers = {"Authorization": f"Bearer {_KEY}"}
    with httpx.Client(timeout=5) as http:
        assert http.post(url, json=body, headers=headers).status_code == 200
        gateway.stop()
        with pytest.raises(httpx.TransportError):
            http.post(url, json=body, headers=headers)
    assert gateway.count == 1


@pytest.mark.parametrize("kind", ["sync", "async-httpx", "async-aiohttp"])
def test_a_hang_the_client_gave_up_on_is_not_in_flight(server, kind):
    server.default = Reply(fault="hang")
    call = Caller(kind, server)
    with pytest.raises(APITimeoutError):
        call(client={"max_retries": 0, "timeout": httpx.Timeout(0.3, connect=5.0)})
    ends = time.monotonic() + 10
    while server.in_flight and time.monotonic() < ends:
        time.sleep(0.02)
    assert server.in_flight == 0
    assert server.max_in_flight == 1


def test_a_hang_is_still_in_flight_while_the_client_waits(server):
    """What `in_flight` is for: a request still waited on counts until the client leaves."""
    server.default = Reply(fault="hang")

    async def main() -> int:
        async with server.async_client(max_retries=0, timeout=2.0) as client:
            task = asyncio.ensure_future(
                client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "hi"}], max_tokens=1
                )
            )
            await asyncio.sleep(0.5)
            during = server.in_flight
            with pytest.raises(APITimeoutError):
                await task
            return during

    assert asyncio.run(main()) == 1
