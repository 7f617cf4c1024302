"""A real HTTP server on 127.0.0.1 for the tests: records requests, answers as told.

Besides well-formed answers it injects faults (`Reply.fault`): a connection closed without
an answer, a body cut off mid-way, an answer that never comes. A streamed answer
(`Reply.stream`) is written piece by piece with chunked transfer encoding, with a pause
between pieces; it may end cleanly or be cut off (`fault="cut"`), and its pieces may go on
until the client leaves or the server stops (any iterable, e.g. `itertools.repeat`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

# close: read the request, then close the connection without a byte of answer.
# drop_mid_body: send the status, the headers and half the body, then close.
# hang: never answer (until the server stops).
# cut: (streams) after the pieces, close the connection without ending the chunked body.
Fault = Literal["close", "drop_mid_body", "hang", "cut"]


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    # Of the body as received, also when it was not kept (`LoopbackServer(keep_bodies=False)`).
    size: int = 0
    sha256: str = ""
    # The client's port: requests on one kept-alive connection share it.
    client_port: int = 0

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    fault: Fault | None = None
    # When set, the body is these pieces instead, sent chunked with `pause` s between them.
    pieces: Iterable[bytes] | None = None
    pause: float = 0.0
    # Seconds to wait before answering, so that requests overlap (batch concurrency tests).
    delay: float = 0.0

    @classmethod
    def stream(
        cls,
        pieces: Iterable[bytes],
        *,
        pause: float = 0.005,
        status: int = 200,
        content_type: str = "text/event-stream",
        fault: Fault | None = None,
        **headers: str,
    ) -> Reply:
        """An answer written as it is produced: each piece flushed, then a pause."""
        return cls(status, b"", {"Content-Type": content_type, **headers}, fault, pieces, pause)

    @classmethod
    def json(cls, data: Any, status: int = 200, **headers: str) -> Reply:
        return cls(
            status, json.dumps(data).encode(), {"Content-Type": "application/json", **headers}
        )

    @classmethod
    def error(cls, status: int, message: str = "boom", **headers: str) -> Reply:
        """An OpenAI-style error body."""
        error = {"message": message, "type": "server_error", "param": None, "code": None}
        return cls.json({"error": error}, status, **headers)

    @classmethod
    def closed(cls) -> Reply:
        return cls(fault="close")

    @classmethod
    def dropped_mid_body(cls) -> Reply:
        return cls(200, json.dumps(completion()).encode(), fault="drop_mid_body")

    @classmethod
    def hang(cls) -> Reply:
        return cls(fault="hang")


def completion(
    content: str = "A wooden boardwalk through a green meadow.", **extra: Any
) -> dict[str, Any]:
    """A chat completion as OpenAI sends it for the seed request."""
    body = {
        "id": "chatcmpl-AbC123",
        "object": "chat.completion",
        "created": 1732540800,
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 1118,
            "completion_tokens": 12,
            "total_tokens": 1130,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "system_fingerprint": "fp_50cad350e4",
    }
    body.update(extra)
    return body


Responder = Callable[[Recorded], Reply]


def in_turn(*replies: Reply) -> Responder:
    """Answer each request with the next reply; the last one repeats."""
    lock = threading.Lock()
    queue = list(replies)

    def respond(_: Recorded) -> Reply:
        with lock:
            return queue.pop(0) if len(queue) > 1 else queue[0]

    return respond


class _Server(ThreadingHTTPServer):
    # Room for many connections arriving at once (the default backlog is 5).
    request_queue_size = 512


class LoopbackServer:
    """Serves on an ephemeral 127.0.0.1 port in a thread; `requests` lists what arrived."""

    def __init__(self, *, keep_bodies: bool = True) -> None:
        """`keep_bodies=False` reads bodies in small pieces and keeps only size and hash,
        for tests that measure the client's memory in the same process."""
        self.requests: list[Recorded] = []
        # Requests being answered now, and the most there ever were at once.
        self.in_flight = 0
        self.max_in_flight = 0
        self.responder: Responder = lambda _: Reply.json(completion())
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body, size, digest = self._read_body()
                recorded = Recorded(
                    self.command,
                    self.path,
                    dict(self.headers.items()),
                    body,
                    size,
                    digest,
                    self.client_address[1],
                )
                with server._lock:
                    server.requests.append(recorded)
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._answer(recorded)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _answer(self, recorded: Recorded) -> None:
                reply = server.responder(recorded)
                if reply.delay:
                    server._stopping.wait(reply.delay)
                if reply.fault == "hang":
                    server._stopping.wait()
                if reply.fault in ("close", "hang"):
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.pieces is not None:
                    self._stream(reply)
                    return
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.fault == "drop_mid_body":
                    self.wfile.write(reply.body[: len(reply.body) // 2])
                    self.close_connection = True
                    return
                self.wfile.write(reply.body)

            def _stream(self, reply: Reply) -> None:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                assert reply.pieces is not None
                try:
                    for piece in reply.pieces:
                        if server._stopping.is_set():
                            break
                        if piece:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                        server._stopping.wait(reply.pause)
                    if reply.fault == "cut":
                        self.close_connection = True
                        return
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:  # the client left: what a stream closed early looks like
                    self.close_connection = True

            def _read_body(self) -> tuple[bytes, int, str]:
                """The body (empty unless kept), its size and its sha256."""
                digest = hashlib.sha256()
                kept: list[bytes] = []
                size = 0
                for piece in self._body_pieces():
                    digest.update(piece)
                    size += len(piece)
                    if keep_bodies:
                        kept.append(piece)
                return b"".join(kept), size, digest.hexdigest()

            def _body_pieces(self) -> Iterator[bytes]:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        yield self.rfile.read(size)
                        self.rfile.readline()
                    self.rfile.readline()
                    return
                left = int(self.headers.get("Content-Length", "0"))
                while left:
                    piece = self.rfile.read(min(left, 64 * 1024))
                    if not piece:
                        return
                    left -= len(piece)
                    yield piece

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def last(self) -> Recorded:
        return self.requests[-1]

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    @contextmanager
    def running(self) -> Iterator[LoopbackServer]:
        thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self._stopping.set()
            self._httpd.shutdown()
            self._httpd.server_close()
            thread.join()
