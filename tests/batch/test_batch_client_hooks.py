"""What the batch runner needs from the client, in its public API: `on_retry` and
`with_raw_response` (sync and async alike, against the fake gateway)."""

from __future__ import annotations

import asyncio

import attrs
import httpx
import pytest

from chat_image import (
    AsyncChatImage,
    ChatCompletion,
    ChatImage,
    RateLimitError,
    RawResponse,
    RetryEvent,
    RetryPolicy,
    UserMessage,
)
from chat_image.testing import Reply
from completions import completion
from conftest import API_KEY, Caller

EXACT = RetryPolicy(clock=lambda: 0.0, random=lambda: 0.0)
CREATE = {"model": "gpt-4o", "messages": [UserMessage("hi")], "max_tokens": 5}


def test_on_retry_hears_each_retry_before_its_wait(call: Caller, server):
    events: list[RetryEvent] = []
    server.queue(
        Reply(
            status=429,
            message="slow down",
            headers={"retry-after-ms": "250", "x-ratelimit-remaining-requests": "0"},
        ),
        Reply(fault="close"),
        Reply(body=completion()),
    )
    call(client={"retry_policy": EXACT, "on_retry": events.append})
    assert [(e.attempt, e.max_retries) for e in events] == [(1, 2), (2, 2)]
    first, second = events
    assert (first.status_code, first.wait, first.exception_type) == (429, 0.25, None)
    assert first.headers["x-ratelimit-remaining-requests"] == "0"
    assert second.status_code is None
    assert second.exception_type is not None
    assert issubclass(second.exception_type, httpx.HTTPError)
    assert second.wait == 1.0  # backoff: 0.5 s doubled, no jitter
    assert call.sleeps == [0.25, 1.0]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        first.wait = 0  # type: ignore[misc]


def test_on_retry_is_not_called_when_nothing_is_retried(call: Caller, server):
    events: list[RetryEvent] = []
    server.default = Reply(status=400)
    with pytest.raises(Exception, match="400"):
        call(client={"on_retry": events.append})
    assert events == []


def test_raw_response_sync(server):
    server.queue(
        Reply(status=503),
        Reply(
            body=completion("raw"),
            headers={"x-request-id": "req_7", "x-ratelimit-remaining-tokens": "99"},
        ),
    )
    with ChatImage(api_key=API_KEY, base_url=server.url, retry_policy=EXACT) as client:
        client._sleep = lambda _: None
        raw = client.chat.completions.with_raw_response.create(**CREATE)
    assert isinstance(raw, RawResponse)
    assert (raw.status_code, raw.request_id, raw.retries_taken) == (200, "req_7", 1)
    assert raw.headers["x-ratelimit-remaining-tokens"] == "99"
    parsed = raw.parse()
    assert isinstance(parsed, ChatCompletion)
    assert parsed.choices[0].message.content == "raw"
    assert "req_7" in repr(raw)
    assert API_KEY not in repr(raw)


def test_raw_response_async_and_errors_still_raise(server):
    async def main() -> tuple[RawResponse, BaseException | None]:
        async with AsyncChatImage(api_key=API_KEY, base_url=server.url, max_retries=0) as client:
            raw = await client.chat.completions.with_raw_response.create(**CREATE)
            server.default = Reply(status=429, message="later")
            try:
                await client.chat.completions.with_raw_response.create(**CREATE)
            except RateLimitError as exc:
                return raw, exc
            return raw, None

    raw, error = asyncio.run(main())
    assert raw.retries_taken == 0
    assert (
        raw.parse().choices[0].message.content == completion()["choices"][0]["message"]["content"]
    )
    assert isinstance(error, RateLimitError)
