"""Which outcomes are retried and how long to wait: the one description of retry behaviour.

`RetryPolicy` decides and does nothing else: no I/O, no sleeping. `retry_sync` and
`retry_async` run attempts under a policy and differ only in how they sleep. The clients
(`ChatImage`, `AsyncChatImage`) and the transport (`RetryTransport`) all go through them.

The behaviour is the `openai` package's:
- retried: connection errors, timeouts, and statuses 408, 409, 429 and >= 500;
- a response header `x-should-retry: true` / `false` overrides the status rule;
- the wait is what the server asks for in `retry-after-ms` or `Retry-After` (seconds or an
  HTTP date) when that is more than 0 and at most `max_retry_after` (60 s); otherwise
  exponential backoff from `initial_delay` (0.5 s), doubling, capped at `max_delay` (8 s),
  less up to `jitter` (25 %) at random;
- `max_retries` (2 unless the client or the call says otherwise) bounds the retries.
"""

from __future__ import annotations

import calendar
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from email.utils import parsedate_tz
from typing import Final, TypeAlias

import attrs
import httpx

from ._config import RETRIES_TAKEN_EXTENSION
from ._validation import check_number, validator

__all__ = [
    "RETRIES_TAKEN_EXTENSION",
    "RETRY_STATUSES",
    "OnRetry",
    "Outcome",
    "RetryEvent",
    "RetryPolicy",
    "asyncio_sleep",
    "decide",
    "parse_retry_after",
    "retry_async",
    "retry_sync",
]

logger = logging.getLogger("chat_image")

# Besides these, every status >= 500 is retried.
RETRY_STATUSES: Final = frozenset({408, 409, 429})
# Transport failures that a second attempt may not meet. Not retried: a request httpx cannot
# send at all (UnsupportedProtocol, LocalProtocolError) and a body it cannot decode.
_RETRY_ERRORS: Final = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    httpx.ProxyError,
)
# 2**64 backoff steps is past any cap; the bound keeps pow() finite.
_MAX_DOUBLINGS: Final = 64

Outcome: TypeAlias = httpx.Response | Exception
"""What one attempt ended in: a response (any status), or the exception sending raised."""


def _frozen_headers(headers: Mapping[str, str]) -> Mapping[str, str]:
    return dict(headers.items())


@attrs.frozen
class RetryEvent:
    """One retry about to happen, as told to an `on_retry` callback before its wait.

    `attempt` is the number of the attempt that just failed (1 for the first); `wait` the
    seconds before the next. A response carries `status_code` and its `headers` (with any
    `Retry-After` and `x-ratelimit-*`); a failure to get one carries `exception_type`.
    """

    attempt: int
    wait: float
    max_retries: int
    status_code: int | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_headers)
    exception_type: type[BaseException] | None = None


OnRetry: TypeAlias = Callable[[RetryEvent], object]
"""Called with each `RetryEvent`, before the wait; what it returns is ignored."""


def _event(retries_done: int, max_retries: int, wait: float, outcome: Outcome) -> RetryEvent:
    if isinstance(outcome, httpx.Response):
        return RetryEvent(
            retries_done + 1,
            wait,
            max_retries,
            status_code=outcome.status_code,
            headers=outcome.headers,
        )
    return RetryEvent(retries_done + 1, wait, max_retries, exception_type=type(outcome))


# Waits: finite seconds >= 0; the jitter, a fraction of a wait.
_SECONDS: Final = validator(check_number, minimum=0, unit="a number of seconds")
_FRACTION: Final = validator(check_number, minimum=0, maximum=1)


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asks to wait: `retry-after-ms`, else `Retry-After` as seconds or an
    HTTP date (relative to `now`, a Unix time). None when absent or unreadable."""
    lowered = {key.lower(): value for key, value in headers.items()}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = lowered.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            seconds = None
        if seconds is not None and math.isfinite(seconds):
            return seconds
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        parsed = parsedate_tz(value)
        if parsed is None:
            return None
        # HTTP dates are GMT; parsedate_tz gives the offset, None when the date names none.
        return calendar.timegm(parsed[:9]) - (parsed[9] or 0) - now
    except (ValueError, TypeError, OverflowError, IndexError):
        return None


@attrs.frozen
class RetryPolicy:
    """Decides whether an attempt's outcome is retried and how long to wait first.

    Pass one as `retry_policy=` to change the waits; how many retries is `max_retries`. Pure
    apart from reading `clock` (for `Retry-After` dates) and `random` (for jitter), which
    are injectable so that waits are deterministic in tests.

    Args:
        initial_delay: Seconds before the first retry, doubled for each one after it.
        max_delay: The longest backoff, in seconds.
        jitter: The fraction (0 to 1) by which a backoff is shortened at random, so that
            many clients do not retry in step.
        max_retry_after: The longest `Retry-After` (or `retry-after-ms`) honoured, in
            seconds; a longer one, or none, means backoff instead.
        clock: The current time as `time.time()` gives it, for `Retry-After` dates.
        random: A number in [0, 1), as `random.random()` gives it, for the jitter.

    Raises:
        InvalidInputError: A negative or non-finite delay, or a jitter outside 0 to 1 (a
            ValueError, as it always was).
    """

    initial_delay: float = attrs.field(default=0.5, validator=_SECONDS)
    max_delay: float = attrs.field(default=8.0, validator=_SECONDS)
    jitter: float = attrs.field(default=0.25, validator=_FRACTION)
    max_retry_after: float = attrs.field(default=60.0, validator=_SECONDS)
    clock: Callable[[], float] = attrs.field(default=time.time, eq=False, repr=False)
    random: Callable[[], float] = attrs.field(default=random.random, eq=False, repr=False)

    def should_retry(self, outcome: Outcome) -> bool:
        """Whether this outcome is worth another attempt (ignoring how many are left)."""
        if isinstance(outcome, httpx.Response):
            if outcome.is_success:
                return False
            verdict = str(outcome.headers.get("x-should-retry", "")).strip().lower()
            if verdict in ("true", "false"):
                return verdict == "true"
            status = outcome.status_code
            return status in RETRY_STATUSES or status >= 500
        return isinstance(outcome, _RETRY_ERRORS)

    def retry_after(self, headers: Mapping[str, str]) -> float | None:
        """The server's requested wait, when it asked for one within (0, max_retry_after]."""
        seconds = parse_retry_after(headers, self.clock())
        if seconds is None or not 0 < seconds <= self.max_retry_after:
            return None
        return seconds

    def backoff(self, retries_done: int) -> float:
        """Exponential backoff with jitter before retry number `retries_done + 1`."""
        doublings = min(max(retries_done, 0), _MAX_DOUBLINGS)
        ceiling = min(self.initial_delay * 2.0**doublings, self.max_delay)
        return ceiling * (1.0 - self.jitter * self.random())

    def wait(self, retries_done: int, outcome: Outcome) -> float:
        """Seconds to wait before retrying after `outcome`."""
        if isinstance(outcome, httpx.Response):
            asked = self.retry_after(outcome.headers)
            if asked is not None:
                return asked
        return self.backoff(retries_done)

    def next_wait(self, retries_done: int, max_retries: int, outcome: Outcome) -> float | None:
        """None when `outcome` is final; else the seconds to wait before the next attempt."""
        if retries_done >= max_retries or not self.should_retry(outcome):
            return None
        return self.wait(retries_done, outcome)


def decide(
    policy: RetryPolicy,
    request: httpx.Request,
    retries_done: int,
    max_retries: int,
    outcome: Outcome,
    on_retry: OnRetry | None = None,
    deadline: float | None = None,
) -> float | None:
    """The wait before the next attempt after `outcome`, or None when it is final.

    A retry whose wait would end at or after `deadline` (time.monotonic()) is not made: the
    outcome is final. A retry is logged, and `on_retry` hears of it, before its wait.
    """
    wait = policy.next_wait(retries_done, max_retries, outcome)
    if wait is not None and deadline is not None and time.monotonic() + wait >= deadline:
        wait = None
    if wait is not None:
        # The path only: no host credentials, no query, never a header.
        reason = (
            f"status {outcome.status_code}"
            if isinstance(outcome, httpx.Response)
            else type(outcome).__name__
        )
        logger.info(
            "Retrying %s %s in %.2f s after %s (retry %d of %d)",
            request.method,
            request.url.path,
            wait,
            reason,
            retries_done + 1,
            max_retries,
        )
        if on_retry is not None:
            on_retry(_event(retries_done, max_retries, wait, outcome))
    return wait


def retry_sync(
    send: Callable[[], httpx.Response],
    *,
    request: httpx.Request,
    policy: RetryPolicy,
    max_retries: int,
    sleep: Callable[[float], object],
    on_retry: OnRetry | None = None,
    deadline: float | None = None,
) -> httpx.Response:
    """Call `send` until the policy calls its outcome final; return it or raise it.

    `send` returns a response whose body has been read, or raises an httpx error. A retried
    response is closed before the wait, so its connection goes back to the pool; `on_retry`
    hears of each retry before its wait. No retry starts past `deadline` (see `decide`). The
    final response records the retries taken in `extensions[RETRIES_TAKEN_EXTENSION]`.
    """
    retries_done = 0
    while True:
        try:
            response = send()
        except httpx.HTTPError as exc:
            wait = decide(policy, request, retries_done, max_retries, exc, on_retry, deadline)
            if wait is None:
                raise
        else:
            wait = decide(policy, request, retries_done, max_retries, response, on_retry, deadline)
            if wait is None:
                response.extensions[RETRIES_TAKEN_EXTENSION] = retries_done
                return response
            response.close()
        sleep(wait)
        retries_done += 1


async def asyncio_sleep(seconds: float) -> None:
    """`asyncio.sleep`, imported when first awaited: a sync program never loads asyncio."""
    import asyncio

    await asyncio.sleep(seconds)


async def retry_async(
    send: Callable[[], Awaitable[httpx.Response]],
    *,
    request: httpx.Request,
    policy: RetryPolicy,
    max_retries: int,
    sleep: Callable[[float], Awaitable[object]],
    on_retry: OnRetry | None = None,
    deadline: float | None = None,
) -> httpx.Response:
    """`retry_sync`, awaiting `send` and `sleep`."""
    retries_done = 0
    while True:
        try:
            response = await send()
        except httpx.HTTPError as exc:
            wait = decide(policy, request, retries_done, max_retries, exc, on_retry, deadline)
            if wait is None:
                raise
        else:
            wait = decide(policy, request, retries_done, max_retries, response, on_retry, deadline)
            if wait is None:
                response.extensions[RETRIES_TAKEN_EXTENSION] = retries_done
                return response
            await response.aclose()
        await sleep(wait)
        retries_done += 1
