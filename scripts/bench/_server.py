"""The bench's local gateway: a minimal asyncio HTTP/1.1 server serving the kit's canned bytes.

The answers are the testing kit's (`chat_image.testing.Reply`, rendered once by
`render_reply`); the server is not the kit's `FakeGateway`, because that one distorts what
is measured. Served from its own process (contract checks and body keeping off), every
client took about 43.5 ms a sequential call against 0.5-1.3 ms here, so every latency ratio
read 1.00x: its headers and body leave in two writes, and with Nagle's algorithm on, the
second waits for the client's delayed ACK. With Nagle off (StreamRequestHandler's
`disable_nagle_algorithm`), plain httpx still took about 1.5 times as long a call as here,
the server's share diluting every ratio towards 1, and its thread per connection made the
300-concurrent batches vary even more. This server, in its own process, reads each request
only as far as Content-Length and writes bytes made once.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Final

from chat_image.testing import Reply, render_reply

from ._common import SELF

# The canned completion: the seed's answer, with OpenAI's usage figures for it.
COMPLETION: Final = Reply(
    content="A wooden boardwalk through a green meadow.",
    model="gpt-4o-2024-08-06",
    usage={"prompt_tokens": 1118, "completion_tokens": 12, "total_tokens": 1130},
)
STREAM_CHUNKS: Final = 1000
# The streamed answer: the role chunk, STREAM_CHUNKS - 2 content deltas, the finish chunk.
STREAMED: Final = Reply(
    chunks=[" word"] * (STREAM_CHUNKS - 2), model="gpt-4o-2024-08-06", stream=True
)


def _head(lines: list[str]) -> bytes:
    return (
        "\r\n".join(["HTTP/1.1 200 OK", *lines, "x-request-id: req_bench"]) + "\r\n\r\n"
    ).encode()


def completion_response() -> bytes:
    """The whole HTTP answer to a non-streamed call, made once."""
    (body,) = render_reply(COMPLETION)
    return _head(["Content-Type: application/json", f"Content-Length: {len(body)}"]) + body


def stream_response() -> bytes:
    """The whole HTTP answer to a streamed call: each event in its own HTTP chunk."""
    events = render_reply(STREAMED)
    body = b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events) + b"0\r\n\r\n"
    head = _head(["Content-Type: text/event-stream", "Transfer-Encoding: chunked"])
    return head + body


class _Connection(asyncio.Protocol):
    """Keep-alive HTTP/1.1 with Content-Length bodies, read and dropped as they arrive."""

    def __init__(self, reply: bytes) -> None:
        self._reply = reply
        self._head = bytearray()
        self._left = 0
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        while data:
            if self._left:
                taken = min(self._left, len(data))
                self._left -= taken
                data = data[taken:]
                if not self._left:
                    self._answer()
                continue
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                return
            data = bytes(self._head[end + 4 :])
            self._left = _content_length(bytes(self._head[:end]))
            self._head.clear()
            if not self._left:
                self._answer()

    def _answer(self) -> None:
        assert self._transport is not None
        self._transport.write(self._reply)


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
        if name.strip().lower() == b"transfer-encoding":
            raise SystemExit("the bench server takes Content-Length bodies only")
    return 0


async def serve(reply: bytes) -> None:
    """Answer every request with `reply`; print the port, then serve until stdin closes."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(reply), "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


class Server:
    """The server in a process of its own (`--serve` or `--serve-stream`), until `stop()`."""

    def __init__(self, flag: str = "--serve") -> None:
        self._process = subprocess.Popen(
            [*SELF, flag], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        self.url = f"http://127.0.0.1:{self._process.stdout.readline().strip()}"

    def stop(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=10)
