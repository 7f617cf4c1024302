"""How fast a batch may go: concurrency, client-side RPM and TPM budgets, and the gateway's
own word (429s, `Retry-After`, `x-ratelimit-*`), which slows the whole run, not one item.

The concurrency limit adapts as TCP's window does: a rate-limit signal halves it (at most
once per pause, so a burst of 429s from requests already in flight counts once) and pauses
new requests for as long as the gateway asked; then each `limit` successes in a row win one
slot back, up to `--concurrency`.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

from .._retry import RetryEvent

__all__ = ["Limiter", "parse_reset"]

# OpenAI sends reset times as durations: "1s", "6m0s", "20ms", "1h2m3.5s"; others send seconds.
_DURATION: Final = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS: Final = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
# A pause asked for by headers without a reset time, or a 429 without Retry-After.
_DEFAULT_PAUSE: Final = 1.0
_MAX_PAUSE: Final = 60.0


def parse_reset(value: str | None) -> float | None:
    """Seconds in an `x-ratelimit-reset-*` value (`"6m0s"`, `"20ms"`, `"1.5"`), or None."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    parts = _DURATION.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return None
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def _remaining(headers: Mapping[str, str], kind: str) -> float | None:
    try:
        return float(headers[f"x-ratelimit-remaining-{kind}"])
    except (KeyError, ValueError):
        return None


class Limiter:
    """Admits requests within the limits; told of retries and answers' headers."""

    def __init__(
        self,
        *,
        concurrency: int,
        rpm: float | None = None,
        tpm: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.max_concurrency = concurrency
        self.limit = concurrency
        self.in_flight = 0
        self.slowdowns = 0
        self._clock = clock
        self._sleep = sleep
        self._ready = asyncio.Condition()
        self._paused_until = 0.0
        self._successes = 0
        self._interval = 60.0 / rpm if rpm else 0.0
        self._next_start = 0.0
        self._tpm = tpm
        self._tokens = float(tpm or 0)
        self._tokens_at = clock()

    async def acquire(self, tokens: int = 0) -> None:
        """Wait for a slot under every limit; the caller must `release()` it after."""
        async with self._ready:
            await self._ready.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1
        try:
            await self._wait_pause()
            await self._wait_rate()
            await self._wait_tokens(tokens)
            await self._wait_pause()
        except BaseException:
            await self.release(ok=False)
            raise

    async def release(self, *, ok: bool) -> None:
        """Give the slot back; a success counts towards winning back a slot lost to a 429."""
        async with self._ready:
            self.in_flight -= 1
            if ok and self.limit < self.max_concurrency:
                self._successes += 1
                if self._successes >= self.limit:
                    self.limit += 1
                    self._successes = 0
            self._ready.notify_all()

    def on_retry(self, event: RetryEvent) -> None:
        """A retry is coming: a 429 (or exhausted headers) slows everyone down."""
        if event.status_code == 429:
            self._slow_down(event.wait)
        elif event.headers:
            self.on_headers(event.headers)

    def on_headers(self, headers: Mapping[str, str]) -> None:
        """An answer said how much budget is left: at zero, wait for its reset."""
        lowered = {key.lower(): value for key, value in headers.items()}
        for kind in ("requests", "tokens"):
            left = _remaining(lowered, kind)
            if left is not None and left <= 0:
                reset = parse_reset(lowered.get(f"x-ratelimit-reset-{kind}"))
                self._pause(_DEFAULT_PAUSE if reset is None else reset)

    def _slow_down(self, wait: float) -> None:
        now = self._clock()
        if now >= self._paused_until:
            # One cut per pause: the other 429s of the same burst were already in flight.
            self.limit = max(1, self.limit // 2)
            self._successes = 0
            self.slowdowns += 1
        self._pause(wait if wait > 0 else _DEFAULT_PAUSE)

    def _pause(self, seconds: float) -> None:
        until = self._clock() + min(seconds, _MAX_PAUSE)
        self._paused_until = max(self._paused_until, until)

    async def _wait_pause(self) -> None:
        while (left := self._paused_until - self._clock()) > 0:
            await self._sleep(left)

    async def _wait_rate(self) -> None:
        if not self._interval:
            return
        now = self._clock()
        # Reserved before waiting, so concurrent callers queue one interval apart.
        start = max(now, self._next_start)
        self._next_start = start + self._interval
        if start > now:
            await self._sleep(start - now)

    async def _wait_tokens(self, tokens: int) -> None:
        if not self._tpm or tokens <= 0:
            return
        now = self._clock()
        rate = self._tpm / 60.0
        self._tokens = min(self._tpm, self._tokens + (now - self._tokens_at) * rate)
        self._tokens_at = now
        # A request bigger than the whole budget goes when the bucket is full, not never.
        self._tokens -= min(tokens, self._tpm)
        if self._tokens < 0:
            await self._sleep(-self._tokens / rate)
