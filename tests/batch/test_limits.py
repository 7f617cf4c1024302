"""The batch limiter on a fake clock: rates, token budgets, and how 429s and rate-limit headers
slow the whole run and how it recovers."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from chat_image import RetryEvent
from chat_image.batch._limits import Limiter, parse_reset


class Clock:
    """Time that passes only when the limiter sleeps; the sleeps are recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def limiter(clock: Clock, **kwargs: float) -> Limiter:
    return Limiter(
        concurrency=int(kwargs.pop("concurrency", 4)), clock=clock, sleep=clock.sleep, **kwargs
    )


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("1h2m3.5s", 3723.5), ("1.5", 1.5), ("-3", 0.0)],
)
def test_reset_times_are_read_in_every_form_gateways_send(value, seconds):
    assert parse_reset(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", [None, "", "soon", "1x", "1s junk"])
def test_unreadable_reset_times_are_none(value):
    assert parse_reset(value) is None


def test_rpm_spaces_request_starts_evenly():
    clock = Clock()
    limits = limiter(clock, rpm=60)

    async def three() -> list[float]:
        starts = []
        for _ in range(3):
            await limits.acquire()
            starts.append(clock.now)
            await limits.release(ok=True)
        return starts

    starts = asyncio.run(three())
    assert [round(b - a, 6) for a, b in itertools.pairwise(starts)] == [1.0, 1.0]


def test_tpm_lets_a_full_bucket_go_then_waits_for_it_to_refill():
    clock = Clock()
    limits = limiter(clock, tpm=600)  # 10 tokens a second

    async def run() -> None:
        await limits.acquire(600)
        await limits.release(ok=True)
        assert clock.sleeps == []
        await limits.acquire(100)
        await limits.release(ok=True)

    asyncio.run(run())
    assert clock.sleeps == [10.0]


def test_a_request_bigger_than_the_budget_waits_for_a_full_bucket_not_forever():
    clock = Clock()
    limits = limiter(clock, tpm=60)

    async def run() -> None:
        await limits.acquire(10_000)
        await limits.release(ok=True)
        await limits.acquire(10_000)
        await limits.release(ok=True)

    asyncio.run(run())
    assert clock.sleeps == [60.0]


def test_a_burst_of_429s_halves_the_limit_once_and_pauses_everyone():
    clock = Clock()
    limits = limiter(clock, concurrency=8)
    for _ in range(5):  # the burst: requests that were all in flight together
        limits.on_retry(RetryEvent(1, 2.0, 5, status_code=429))
    assert (limits.limit, limits.slowdowns) == (4, 1)

    async def next_request() -> None:
        await limits.acquire()
        await limits.release(ok=True)

    asyncio.run(next_request())
    assert sum(clock.sleeps) == pytest.approx(2.0)
    # A 429 after the pause is a new signal.
    limits.on_retry(RetryEvent(1, 1.0, 5, status_code=429))
    assert (limits.limit, limits.slowdowns) == (2, 2)


def test_successes_win_back_the_slots_a_429_took():
    clock = Clock()
    limits = limiter(clock, concurrency=4)
    limits.on_retry(RetryEvent(1, 0.5, 5, status_code=429))
    assert limits.limit == 2

    async def succeed(times: int) -> None:
        for _ in range(times):
            await limits.acquire()
            await limits.release(ok=True)

    asyncio.run(succeed(2))
    assert limits.limit == 3  # `limit` successes in a row win one slot
    asyncio.run(succeed(3))
    assert limits.limit == 4
    asyncio.run(succeed(10))
    assert limits.limit == 4  # never above --concurrency


def test_exhausted_rate_limit_headers_pause_until_their_reset():
    clock = Clock()
    limits = limiter(clock)
    limits.on_headers({"X-RateLimit-Remaining-Requests": "0", "X-RateLimit-Reset-Requests": "3s"})

    async def one() -> None:
        await limits.acquire()
        await limits.release(ok=True)

    asyncio.run(one())
    assert sum(clock.sleeps) == pytest.approx(3.0)
    assert limits.slowdowns == 0  # a budget running out is not a 429


def test_a_pause_is_capped_at_a_minute():
    clock = Clock()
    limits = limiter(clock)
    limits.on_headers({"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "2h"})

    async def one() -> None:
        await limits.acquire()
        await limits.release(ok=True)

    asyncio.run(one())
    assert sum(clock.sleeps) == pytest.approx(60.0)


def test_no_more_than_the_limit_are_in_flight():
    clock = Clock()
    limits = limiter(clock, concurrency=2)
    peak = 0

    async def work() -> None:
        nonlocal peak
        await limits.acquire()
        peak = max(peak, limits.in_flight)
        await asyncio.sleep(0)
        await limits.release(ok=True)

    async def many() -> None:
        await asyncio.gather(*(work() for _ in range(10)))

    asyncio.run(many())
    assert peak == 2
    assert limits.in_flight == 0
