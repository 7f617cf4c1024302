"""Hundreds of concurrent async calls against a server that fails at random.

Every call must end in a completion or a typed error, none may hang, and the connection
pool must still serve calls afterwards: httpx's own pool and aiohttp's alike.
`asyncio.wait_for` is a hang guard with a generous bound, not a performance assertion.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter

import httpx

from chat_image import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncChatImage,
    ChatCompletion,
    ChatImageError,
    UserMessage,
)
from chat_image.testing import FakeGateway, RecordedRequest, Reply
from completions import completion
from conftest import API_KEY, async_http_client

CALLS = 300
POOL = 10
HANG_GUARD = 300.0
FAULTS: dict[str, tuple[int, Reply]] = {
    # name: (weight, reply)
    "ok": (40, Reply(body=completion())),
    "500": (12, Reply(status=500)),
    "503-retry-after": (8, Reply(status=503, headers={"Retry-After": "1"})),
    "429-retry-after-ms": (8, Reply(status=429, headers={"retry-after-ms": "5"})),
    "400": (4, Reply(status=400)),
    "html-200": (4, Reply(status=200, body=b"<html><body>maintenance</body></html>")),
    "truncated-200": (4, Reply(status=200, body=b'{"choices": [{"message": ')),
    "html-502": (
        6,
        Reply(status=502, body=b"<html>Bad Gateway</html>", headers={"Content-Type": "text/html"}),
    ),
    "closed": (6, Reply(fault="close")),
    "dropped-mid-body": (6, Reply(fault="drop_mid_body")),
    "hang": (2, Reply(fault="hang")),
}


class RandomFaults:
    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.served: Counter[str] = Counter()

    def __call__(self, _: RecordedRequest) -> Reply:
        with self._lock:
            (name,) = self._random.choices(list(FAULTS), [w for w, _ in FAULTS.values()])
            self.served[name] += 1
        return FAULTS[name][1]


def test_concurrent_calls_with_random_faults_all_end_typed_and_the_pool_survives(
    server: FakeGateway, backend: str
):
    faults = RandomFaults(seed=20241125)
    server.responder = faults
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(0)

    async def main() -> tuple[list[object], list[object]]:
        limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
        # A 1 s read timeout ends the hanging answers; waiting for a pooled connection may
        # take long on a busy machine, and is bounded only to turn a leak into a failure.
        timeout = httpx.Timeout(1.0, pool=20.0)
        async with async_http_client(backend, limits=limits, timeout=timeout) as http:
            chat = AsyncChatImage(api_key=API_KEY, base_url=server.url, http_client=http)
            chat._sleep = no_sleep

            async def one(timeout: float | httpx.Timeout | None = None) -> object:
                try:
                    return await chat.chat.completions.create(
                        model="m", messages=[UserMessage("x")], max_tokens=1, timeout=timeout
                    )
                except ChatImageError as error:
                    return error

            storm = await asyncio.wait_for(
                asyncio.gather(*(one() for _ in range(CALLS))), HANG_GUARD
            )
            # The pool still serves as many calls at once as it has connections, and more.
            server.responder = None  # the faults end: every answer is the default now
            server.default = Reply(body=completion())
            after = await asyncio.wait_for(
                asyncio.gather(*(one(httpx.Timeout(30.0, pool=20.0)) for _ in range(4 * POOL))),
                HANG_GUARD,
            )
        return storm, after

    storm, after = asyncio.run(main())

    allowed = (ChatCompletion, APIStatusError, APIResponseValidationError, APIConnectionError)
    kinds = Counter(type(outcome).__name__ for outcome in storm)
    assert len(storm) == CALLS
    assert all(isinstance(outcome, allowed) for outcome in storm), kinds
    # No call waited out the pool: aiohttp reports that wait as a connect timeout (README),
    # and connecting to 127.0.0.1 does not time out otherwise.
    pool_wait = "pool timeout" if backend == "httpx" else "connect timeout"
    assert not [o for o in storm if isinstance(o, APITimeoutError) and pool_wait in str(o)]
    # The faults did happen, and were retried within the budget of 2 retries per call.
    assert faults.served["hang"] > 0
    assert faults.served["dropped-mid-body"] > 0
    assert CALLS < sum(faults.served.values()) <= 3 * CALLS
    assert kinds["ChatCompletion"] > 0
    assert kinds["ChatCompletion"] < CALLS
    assert waits
    assert all(isinstance(outcome, ChatCompletion) for outcome in after), after
