"""Deadlines: an attempt bounded as a whole, not only per read, without a thread per call.

httpx's timeouts bound each wait (a connect, one read, one write), so a server that trickles
its headers or body a byte at a time never trips them. An attempt gets a deadline: the
largest of its timeout's phases after it starts, or earlier when the call's `total_timeout`
ends first. Async clients wrap the attempt in `asyncio.timeout`. Sync clients set the
deadline in a context variable that `DeadlineBackend`, the network backend of the pools we
build, reads on every socket wait, shortening it to what is left: a monotonic clock read and
a `min()` per read, no watchdog thread. A caller's own sync httpx client has not got that
backend; for it the deadline is checked between the body's chunks (`check`).
"""

from __future__ import annotations

import contextvars
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, TypeVar

import httpcore
import httpx

from .._compat import network_backend, set_network_backend

__all__ = [
    "DEADLINE_PREFIX",
    "DeadlineBackend",
    "DeadlineStream",
    "attempt_seconds",
    "check",
    "install",
    "passed",
    "with_deadline",
]

_T = TypeVar("_T")

# Starts the message of a timeout raised for a deadline (the error shown says so).
DEADLINE_PREFIX: Final = "deadline: "

# The current sync attempt's deadline (time.monotonic()), set around one send on one thread.
_DEADLINE: contextvars.ContextVar[tuple[float, str] | None] = contextvars.ContextVar(
    "chat_image_deadline", default=None
)


def attempt_seconds(timeout: Mapping[str, Any]) -> float | None:
    """How long one attempt may take: the largest of the request's timeout phases."""
    phases = [value for value in timeout.values() if value is not None]
    return max(phases) if phases else None


def passed(what: str) -> str:
    """The message of a timeout raised because `what` (a deadline) has passed."""
    return f"{DEADLINE_PREFIX}{what} passed"


class with_deadline:
    """Sets the sync attempt's deadline (monotonic time, and what it is) for a block."""

    __slots__ = ("_deadline", "_token")

    def __init__(self, deadline: float | None, what: str) -> None:
        self._deadline = None if deadline is None else (deadline, what)

    def __enter__(self) -> None:
        self._token = _DEADLINE.set(self._deadline)

    def __exit__(self, *exc: object) -> None:
        _DEADLINE.reset(self._token)


def _within(
    timeout: float | None,
    error: type[httpcore.TimeoutException],
    wait: Callable[[float | None], _T],
) -> _T:
    """`wait(timeout)`, its timeout shortened to what is left of the deadline; a timeout
    then says that the deadline passed, and `error` is raised at once if nothing is left."""
    current = _DEADLINE.get()
    if current is None:
        return wait(timeout)
    left = current[0] - time.monotonic()
    if left <= 0:
        raise error(passed(current[1]))
    if timeout is not None and timeout <= left:
        return wait(timeout)
    try:
        return wait(left)
    except httpcore.TimeoutException as exc:
        raise type(exc)(passed(current[1])) from None


def check() -> None:
    """Raise httpx's ReadTimeout if the current attempt's deadline has passed."""
    current = _DEADLINE.get()
    if current is not None and time.monotonic() >= current[0]:
        raise httpx.ReadTimeout(passed(current[1]))


class DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every wait ends by the deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return _within(timeout, httpcore.ReadTimeout, lambda t: self._inner.read(max_bytes, t))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _within(timeout, httpcore.WriteTimeout, lambda t: self._inner.write(buffer, t))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return DeadlineStream(
            _within(
                timeout,
                httpcore.ConnectTimeout,
                lambda t: self._inner.start_tls(ssl_context, server_hostname, t),
            )
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's sync network backend, with the current attempt's deadline on every wait."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return DeadlineStream(
            _within(
                timeout,
                httpcore.ConnectTimeout,
                lambda t: self._inner.connect_tcp(host, port, t, local_address, socket_options),
            )
        )

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return DeadlineStream(
            _within(
                timeout,
                httpcore.ConnectTimeout,
                lambda t: self._inner.connect_unix_socket(path, t, socket_options),
            )
        )

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def install(transport: httpx.HTTPTransport) -> httpx.HTTPTransport:
    """`transport` with `DeadlineBackend` under its pool.

    httpx takes no network backend, so it goes on the pool httpx built (through `_compat`, which
    fails loudly should a future httpcore keep it elsewhere).
    """
    backend = network_backend(transport)
    if not isinstance(backend, DeadlineBackend):
        set_network_backend(transport, DeadlineBackend(backend))  # type: ignore[arg-type]
    return transport
