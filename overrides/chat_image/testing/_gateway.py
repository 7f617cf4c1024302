"""`FakeGateway`: a real HTTP/1.1 server on 127.0.0.1, in a thread, answering as told."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import select
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self

from ._contract import Refusal, load_contract
from ._control import CONTROL_PREFIX, control_reply
from ._recorded import RecordedRequest, mask_headers
from ._replies import (
    CUT,
    PING_INTERVAL,
    Reply,
    render_body,
    render_events,
    wants_stream,
)

if TYPE_CHECKING:
    from chat_image import AsyncChatImage, ChatImage

__all__ = ["DEFAULT_API_KEY", "FakeGateway", "Responder"]

DEFAULT_API_KEY: Final = "sk-fake-gateway-key"
Responder = Callable[[RecordedRequest], "Reply | None"]
"""Answers a request dynamically; None leaves it to the queue (then the default answer)."""
_READ_PIECE: Final = 64 * 1024
_POLL_INTERVAL: Final = 0.02
# How often a hanging answer looks whether its client has gone.
_CLIENT_POLL: Final = 0.05
_DONTWAIT: Final = getattr(socket, "MSG_DONTWAIT", 0)


class _Server(ThreadingHTTPServer):
    # Room for many connections arriving at once (the default backlog is 5).
    request_queue_size = 512
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer is what fault tests do on purpose.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class FakeGateway:
    """A stand-in for the chat-image gateway, for tests: real HTTP on a free loopback port.

    Answers come from `responder` (a callable, if set), then `queue(...)`d replies in order,
    then `default`. Each request is recorded (`requests`, `last`, `count`; `in_flight` and
    `max_in_flight` count those being answered at once) and, unless
    `validate=False`, checked first against the gateway's contract: route, bearer key (any key
    if `api_key=None`) and the request schema of the shipped spec; a request the gateway would
    refuse gets its 4xx with an OpenAI-style error naming the field, and uses no queued reply.
    `keep_bodies=False` keeps only each body's size and sha256 (for memory measurements), and
    so checks no body.

    Start it with `with FakeGateway() as gateway:` (or `async with`, or `start()` and
    `stop()`); then `gateway.client()` is a `ChatImage` for it, or point any client at
    `gateway.base_url` with `gateway.api_key`.

    Args:
        api_key: The only bearer key it takes (`DEFAULT_API_KEY` by default); None takes
            any key, or none.
        validate: Refuse requests outside the gateway's contract, as the gateway would.
        keep_bodies: Keep each request's body; False keeps its size and sha256 only.
        default: The reply when no responder answers and nothing is queued; by default a
            completion with `DEFAULT_CONTENT`, streamed when the request asks for a stream.
        port: The port to listen on; 0 (the default) takes a free one.
        control: Also serve the control routes under `/_fake/` (queue answers, read the
            requests: see `_control`), for tests in another process (`python -m
            chat_image.testing`).

    Raises:
        UnsupportedSchemaError: When made with `validate=True`, if the shipped spec uses a
            JSON Schema feature the contract check does not know.
    """

    def __init__(
        self,
        *,
        api_key: str | None = DEFAULT_API_KEY,
        validate: bool = True,
        keep_bodies: bool = True,
        default: Reply | None = None,
        port: int = 0,
        control: bool = False,
    ) -> None:
        self.api_key = api_key
        self.port = port
        self.control = control
        self.validate = validate
        self.keep_bodies = keep_bodies
        self.default = default or Reply()
        self.responder: Responder | None = None
        # Exceptions a responder raised; each was answered 500. The pytest fixture re-raises.
        self.errors: list[BaseException] = []
        self._requests: list[RecordedRequest] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._serial = 0
        self._in_flight = 0
        self._max_in_flight = 0
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        # The connections open now: stop() ends them, so that none is answered after it.
        self._connections: set[socket.socket] = set()
        self._contract = load_contract() if validate else None

    def __repr__(self) -> str:
        state = self.url if self._httpd is not None else "stopped"
        return f"<FakeGateway {state} requests={self.count} queued={self.queued}>"

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Listen on a free 127.0.0.1 port and serve in a daemon thread."""
        if self._httpd is not None:
            raise RuntimeError("the fake gateway is already running")
        self._stopping.clear()
        self._httpd = _Server(("127.0.0.1", self.port), _handler_for(self))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL},
            name=f"FakeGateway:{self._httpd.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; answers still hanging or streaming end now, and connections already
        open (kept alive by a client's pool) are closed: nothing is answered after this."""
        if self._httpd is None:
            return
        self._stopping.set()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Shutting down waits for the serving thread's next poll: not on the event loop.
        await asyncio.to_thread(self.stop)

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`, the server's root."""
        if self._httpd is None:
            raise RuntimeError("the fake gateway is not running; use `with FakeGateway() as g:`")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        """The URL to give a client, `http://127.0.0.1:PORT/v1`, as OPENAI_BASE_URL reads."""
        return f"{self.url}/v1"

    # -- answers ------------------------------------------------------------------------------

    def queue(self, *replies: Reply, **fields: Any) -> Reply:
        """Queue the next answers, in order: `Reply`s, or one's fields (`queue(content="Hi")`).

        Returns the last one queued.
        """
        if replies and fields:
            raise TypeError("queue() takes Replies or one Reply's fields, not both")
        made = list(replies) if replies else [Reply(**fields)]
        for reply in made:
            if not isinstance(reply, Reply):
                raise TypeError(f"queue() takes Reply objects, got {reply!r}")
        with self._lock:
            self._queue.extend(made)
        return made[-1]

    @property
    def queued(self) -> int:
        """How many queued answers no request has used yet."""
        with self._lock:
            return len(self._queue)

    def clear(self) -> None:
        """Forget recorded requests, queued answers, responder errors and `max_in_flight`."""
        with self._lock:
            self._requests.clear()
            self._queue.clear()
            self.errors.clear()
            # Answers still going on count towards the next maximum.
            self._max_in_flight = self._in_flight

    # -- what arrived -------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def last(self) -> RecordedRequest:
        """The latest request (IndexError if none came)."""
        with self._lock:
            if not self._requests:
                raise IndexError("the fake gateway has received no request")
            return self._requests[-1]

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def in_flight(self) -> int:
        """How many requests are being answered now (received, answer not yet all sent); a
        `fault="hang"` request stops counting once its client gives up (closes its end)."""
        with self._lock:
            return self._in_flight

    @property
    def max_in_flight(self) -> int:
        """The most requests ever answered at once (since the gateway was made, or `clear`):
        what a test of a concurrency limit checks; answers overlap only if they last
        (`Reply(delay=...)`)."""
        with self._lock:
            return self._max_in_flight

    # -- clients ------------------------------------------------------------------------------

    def client(self, **kwargs: Any) -> ChatImage:
        """A `ChatImage` for this gateway that retries without waiting (unless told otherwise)."""
        from chat_image import ChatImage

        return ChatImage(**self._client_kwargs(kwargs))

    def async_client(self, **kwargs: Any) -> AsyncChatImage:
        """An `AsyncChatImage` for this gateway; use it (`async with`) in one event loop."""
        from chat_image import AsyncChatImage

        return AsyncChatImage(**self._client_kwargs(kwargs))

    def _client_kwargs(self, given: dict[str, Any]) -> dict[str, Any]:
        from chat_image import RetryPolicy

        # A test should not sleep through backoff or Retry-After: retries happen at once.
        no_waits = RetryPolicy(initial_delay=0, max_delay=0, jitter=0, max_retry_after=0)
        return {
            "base_url": self.base_url,
            "api_key": self.api_key or DEFAULT_API_KEY,
            "retry_policy": no_waits,
            **given,
        }

    # -- serving (in the server's threads) ----------------------------------------------------

    def _record(self, recorded: RecordedRequest) -> int:
        """Keep the request and count it in flight (until `_answered`); its serial number."""
        with self._lock:
            self._requests.append(recorded)
            self._serial += 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            return self._serial

    def _opened(self, connection: socket.socket) -> bool:
        """Count a new connection as open; False if the gateway is stopping (then no)."""
        with self._lock:
            if self._stopping.is_set():
                return False
            self._connections.add(connection)
            return True

    def _closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _answered(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _answer_for(self, recorded: RecordedRequest) -> Reply:
        if self.responder is not None:
            try:
                reply = self.responder(recorded)
            except Exception as exc:  # the test's own code failed: answer, and keep it
                with self._lock:
                    self.errors.append(exc)
                return Reply(status=500, message=f"the responder raised {exc!r}")
            if reply is not None:
                return reply
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        return self.default

    def _refusal(
        self, method: str, path: str, authorization: str | None, body: bytes
    ) -> Refusal | None:
        if self._contract is None:
            return None
        return self._contract.check(
            method, path, authorization, body if self.keep_bodies else None, self.api_key
        )


# What `_send` is given for a control route's answer: no body to read a stream request from.
_CONTROL_RECORD: Final = RecordedRequest("POST", CONTROL_PREFIX, mask_headers([])[0], b"", 0, "")


def _refusal_reply(refusal: Refusal) -> Reply:
    return Reply(status=refusal.status, body=refusal.body())


def _handler_for(gateway: FakeGateway) -> type[BaseHTTPRequestHandler]:
    stopping = gateway._stopping

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in separate writes: with Nagle's algorithm on, the second
        # waits for the client's delayed ACK, about 40 ms on every keep-alive answer.
        disable_nagle_algorithm = True
        server_version = "FakeGateway"
        # Whether this handler's request still counts in `gateway.in_flight`.
        _in_flight = False

        def setup(self) -> None:
            super().setup()
            if not gateway._opened(self.connection):
                # Accepted as stop() began: closed unanswered, like the others.
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)

        def finish(self) -> None:
            gateway._closed(self.connection)
            super().finish()

        def handle(self) -> None:
            if gateway._stopping.is_set():
                return
            super().handle()

        def _client_left(self) -> bool:
            """Whether the client has closed its end (gave up waiting): no one to answer."""
            connection = self.connection
            try:
                if _DONTWAIT:
                    data = connection.recv(1, socket.MSG_PEEK | _DONTWAIT)
                else:  # Windows: no MSG_DONTWAIT, but no descriptor limit on select()
                    if not select.select([connection], [], [], 0)[0]:
                        return False
                    data = connection.recv(1, socket.MSG_PEEK)
            except BlockingIOError:
                return False  # nothing to read: the client is still waiting
            except OSError:
                return True
            return not data

        def _hang(self) -> None:
            """Answer nothing until the gateway stops or the client gives up (closes its end):
            a request no one waits for any more is not in flight."""
            while not stopping.wait(_CLIENT_POLL):
                if self._client_left():
                    return

        def _handle(self) -> None:
            body, size, digest = self._read_body()
            if gateway.control and self.path.startswith(CONTROL_PREFIX):
                # Not a request to the gateway: neither checked nor recorded.
                reply = control_reply(gateway, self.command, self.path, body)
                self._send(reply, _CONTROL_RECORD, 0)
                return
            headers, bearer = mask_headers(list(self.headers.items()))
            refusal = gateway._refusal(
                self.command, self.path, self.headers.get("Authorization"), body
            )
            recorded = RecordedRequest(
                self.command,
                self.path,
                headers,
                body,
                size,
                digest,
                refusal.message if refusal is not None else None,
                client_port=self.client_address[1],
                bearer_sha256=bearer,
            )
            serial = gateway._record(recorded)
            self._in_flight = True
            try:
                reply = _refusal_reply(refusal) if refusal else gateway._answer_for(recorded)
                self._send(reply, recorded, serial)
            finally:
                self._done()

        def _done(self) -> None:
            if self._in_flight:
                self._in_flight = False
                gateway._answered()

        def _write_last(self, data: bytes) -> None:
            # Done before the answer's last bytes go: once they arrive the client may send its
            # next request on another connection, which must not find this one still counted.
            self._done()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        def _send(self, reply: Reply, recorded: RecordedRequest, serial: int) -> None:
            if reply.delay and stopping.wait(reply.delay):
                self.close_connection = True
                return
            if reply.fault == "hang":
                self._hang()
            if reply.fault in ("close", "hang"):
                self.close_connection = True
                return
            try:
                request = json.loads(recorded.body) if recorded.body else None
            except ValueError:
                request = None
            if wants_stream(reply, request):
                self._stream(reply, request, serial)
                return
            payload = render_body(reply, request, serial)
            self.send_response(reply.status)
            self._headers(reply, "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if reply.fault == "drop_mid_body":
                self.wfile.write(payload[: len(payload) // 2])
                self.close_connection = True
                return
            self._write_last(payload)

        def _headers(self, reply: Reply, content_type: str) -> None:
            names = {name.lower() for name in reply.headers}
            if "content-type" not in names:
                self.send_header("Content-Type", content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)

        def _stream(self, reply: Reply, request: Any, serial: int) -> None:
            self.send_response(reply.status)
            self._headers(reply, "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            pause = reply.pause or (PING_INTERVAL if reply.fault == "pings_only" else 0)
            first = True
            for event in render_events(reply, request, serial):
                if not first and pause and stopping.wait(pause):
                    break
                first = False
                if event is CUT or stopping.is_set():
                    self.close_connection = True
                    return
                # An empty HTTP chunk would end the body: an empty event only paused.
                if event:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self._write_last(b"0\r\n\r\n")

        def _read_body(self) -> tuple[bytes, int, str]:
            """The body (empty unless kept), its size and its sha256."""
            digest = hashlib.sha256()
            kept: list[bytes] = []
            size = 0
            for piece in self._body_pieces():
                digest.update(piece)
                size += len(piece)
                if gateway.keep_bodies:
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
                piece = self.rfile.read(min(left, _READ_PIECE))
                if not piece:
                    return
                left -= len(piece)
                yield piece

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
