"""A real HTTP server on 127.0.0.1 for the tests: records requests, answers as told."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    # Of the body as received, also when it was not kept (`LoopbackServer(keep_bodies=False)`).
    size: int = 0
    sha256: str = ""

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})

    @classmethod
    def json(cls, data: Any, status: int = 200, **headers: str) -> Reply:
        return cls(
            status, json.dumps(data).encode(), {"Content-Type": "application/json", **headers}
        )


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


class _Server(ThreadingHTTPServer):
    # Room for many connections arriving at once (the default backlog is 5).
    request_queue_size = 512


class LoopbackServer:
    """Serves on an ephemeral 127.0.0.1 port in a thread; `requests` lists what arrived."""

    def __init__(self, *, keep_bodies: bool = True) -> None:
        """`keep_bodies=False` reads bodies in small pieces and keeps only size and hash,
        for tests that measure the client's memory in the same process."""
        self.requests: list[Recorded] = []
        self.responder: Responder = lambda _: Reply.json(completion())
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                digest = hashlib.sha256()
                body = b""
                if keep_bodies:
                    body = self.rfile.read(length)
                    digest.update(body)
                else:
                    left = length
                    while left:
                        piece = self.rfile.read(min(left, 64 * 1024))
                        if not piece:
                            break
                        digest.update(piece)
                        left -= len(piece)
                recorded = Recorded(
                    self.command,
                    self.path,
                    dict(self.headers.items()),
                    body,
                    length,
                    digest.hexdigest(),
                )
                with server._lock:
                    server.requests.append(recorded)
                reply = server.responder(recorded)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def last(self) -> Recorded:
        return self.requests[-1]

    @contextmanager
    def running(self) -> Iterator[LoopbackServer]:
        thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()
            thread.join()
