"""Retries end to end: a fault-injecting server on 127.0.0.1 counts what arrives.

Every test runs through `ChatImage` and through `AsyncChatImage` over httpx and over aiohttp
(the `call` fixture). Waits are recorded by an injected sleep, never slept, and never measured.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from email.utils import formatdate
from types import SimpleNamespace

import httpx
import pytest

from chat_image import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChatCompletion,
    ChatImage,
    ConflictError,
    InternalServerError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    UnprocessableEntityError,
    UserMessage,
)
from chat_image.testing import Reply
from completions import completion
from conftest import API_KEY, Caller, async_http_client

NOW = 1_750_000_000.0
# No jitter and a fixed clock: the waits are exact.
EXACT = RetryPolicy(clock=lambda: NOW, random=lambda: 0.0)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (408, APIStatusError),
        (409, ConflictError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),
    ],
)
def test_retried_statuses_are_sent_three_times_then_raise(call: Caller, server, status, error):
    server.default = Reply(status=status)
    with pytest.raises(error) as caught:
        call(client={"retry_policy": EXACT})
    assert type(caught.value) is error
    assert caught.value.status_code == status
    assert server.count == 3
    assert call.sleeps == [0.5, 1.0]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (422, UnprocessableEntityError),
        (418, APIStatusError),
    ],
)
def test_other_client_errors_are_sent_once(call: Caller, server, status, error):
    server.default = Reply(status=status)
    with pytest.raises(error):
        call()
    assert server.count == 1
    assert call.sleeps == []


def test_a_retry_that_succeeds_returns_the_completion(call: Caller, server):
    server.queue(Reply(status=503), Reply(status=429), Reply(body=completion()))
    result = call(client={"retry_policy": EXACT})
    assert isinstance(result, ChatCompletion)
    assert server.count == 3
    assert call.sleeps == [0.5, 1.0]
    # Each attempt sends the same request.
    assert len({r.body for r in server.requests}) == 1


def test_backoff_is_jittered_within_a_quarter(call: Caller, server):
    server.default = Reply(status=500)
    with pytest.raises(InternalServerError):
        call(client={"max_retries": 5})
    assert server.count == 6
    for wait, ceiling in zip(call.sleeps, [0.5, 1, 2, 4, 8], strict=True):
        assert 0.75 * ceiling <= wait <= ceiling


@pytest.mark.parametrize(
    ("headers", "waits"),
    [
        ({"Retry-After": "7"}, [7.0, 7.0]),
        ({"Retry-After": "0.25"}, [0.25, 0.25]),
        ({"retry-after-ms": "1500"}, [1.5, 1.5]),
        ({"retry-after-ms": "40", "Retry-After": "9"}, [0.04, 0.04]),
        ({"Retry-After": formatdate(NOW + 20, usegmt=True)}, [20.0, 20.0]),
        # Longer than the 60 s cap: exponential backoff instead.
        ({"Retry-After": "3600"}, [0.5, 1.0]),
    ],
)
def test_retry_after_headers_set_the_wait(call: Caller, server, headers, waits):
    server.default = Reply(status=429, headers=headers)
    with pytest.raises(RateLimitError):
        call(client={"retry_policy": EXACT})
    assert call.sleeps == waits


def test_x_should_retry_false_stops_a_retry(call: Caller, server):
    server.default = Reply(status=503, headers={"x-should-retry": "false"})
    with pytest.raises(InternalServerError):
        call()
    assert server.count == 1


def test_x_should_retry_true_retries_a_400(call: Caller, server):
    server.default = Reply(status=400, headers={"x-should-retry": "true"})
    with pytest.raises(BadRequestError):
        call()
    assert server.count == 3


@pytest.mark.parametrize(("client_retries", "expected"), [(0, 1), (1, 2), (4, 5)])
def test_max_retries_on_the_client(call: Caller, server, client_retries, expected):
    server.default = Reply(status=503)
    with pytest.raises(InternalServerError):
        call(client={"max_retries": client_retries})
    assert server.count == expected


@pytest.mark.parametrize(("call_retries", "expected"), [(0, 1), (3, 4)])
def test_max_retries_per_call_overrides_the_client(call: Caller, server, call_retries, expected):
    server.default = Reply(status=503)
    with pytest.raises(InternalServerError):
        call(client={"max_retries": 1}, max_retries=call_retries)
    assert server.count == expected


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2"])
def test_bad_max_retries_is_refused_before_sending(call: Caller, server, bad):
    with pytest.raises(InvalidInputError) as caught:
        call(max_retries=bad)
    assert caught.value.field == "max_retries"
    with pytest.raises(InvalidInputError) as caught:
        call(client={"max_retries": bad})
    assert caught.value.field == "max_retries"
    assert server.count == 0


def test_connection_closed_without_an_answer_is_retried(call: Caller, server):
    server.default = Reply(fault="close")
    with pytest.raises(APIConnectionError) as caught:
        call()
    assert not isinstance(caught.value, APITimeoutError)
    assert server.count == 3
    assert isinstance(caught.value.__cause__, httpx.RemoteProtocolError)


def test_connection_dropped_mid_body_is_retried(call: Caller, server):
    server.default = Reply(fault="drop_mid_body")
    with pytest.raises(APIConnectionError) as caught:
        call()
    assert server.count == 3
    assert "Connection error" in str(caught.value)


def test_connection_dropped_mid_body_then_recovered(call: Caller, server):
    server.queue(Reply(fault="drop_mid_body"), Reply(body=completion()))
    assert isinstance(call(), ChatCompletion)
    assert server.count == 2


def test_connection_refused_is_retried(call: Caller):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port now; the retries show as the waits between attempts.
    call.server = SimpleNamespace(url=f"http://127.0.0.1:{port}")
    with pytest.raises(APIConnectionError) as caught:
        call(client={"retry_policy": EXACT})
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert call.sleeps == [0.5, 1.0]


def test_a_server_that_never_answers_times_out_on_each_attempt(call: Caller, server):
    server.default = Reply(fault="hang")
    with pytest.raises(APITimeoutError) as caught:
        call(timeout=0.2)
    assert "read timeout" in str(caught.value)
    assert server.count == 3
    assert len(call.sleeps) == 2


def test_the_clients_timeout_applies_when_the_call_names_none(call: Caller, server):
    server.default = Reply(fault="hang")
    with pytest.raises(APITimeoutError):
        call(client={"timeout": 0.2, "max_retries": 0})
    assert server.count == 1


def test_per_call_timeout_beats_the_clients(call: Caller, server):
    server.default = Reply(fault="hang")
    with pytest.raises(APITimeoutError):
        call(client={"timeout": 600, "max_retries": 0}, timeout=httpx.Timeout(0.2))
    assert server.count == 1


@pytest.mark.parametrize("bad", [0, -1, "5", True])
def test_bad_timeout_is_refused_before_sending(call: Caller, server, bad):
    with pytest.raises(InvalidInputError) as caught:
        call(timeout=bad)
    assert caught.value.field == "timeout"
    assert server.count == 0


def test_default_timeouts_are_short_to_connect_and_long_to_read(server):
    with ChatImage(api_key=API_KEY, base_url=server.url) as chat:
        assert chat.timeout.connect == 5.0
        assert chat.timeout.read == 120.0
        assert chat.max_retries == 2


def test_callers_own_http_client_still_gets_retries(server):
    server.queue(Reply(status=503), Reply(fault="close"), Reply(body=completion()))
    sleeps: list[float] = []
    with httpx.Client() as http:
        chat = ChatImage(api_key=API_KEY, base_url=server.url, http_client=http)
        chat._sleep = sleeps.append
        result = chat.chat.completions.create(model="m", messages=[UserMessage("x")], max_tokens=1)
    assert isinstance(result, ChatCompletion)
    assert server.count == 3
    assert len(sleeps) == 2


def test_async_callers_own_http_client_still_gets_retries(server, backend):
    server.queue(Reply(status=429), Reply(fault="close"), Reply(body=completion()))

    async def main() -> ChatCompletion:
        async with async_http_client(backend) as http:
            caller = Caller(f"async-{backend}", server)
            chat = caller.make(http_client=http)
            return await chat.chat.completions.create(
                model="m", messages=[UserMessage("x")], max_tokens=1
            )

    assert isinstance(asyncio.run(main()), ChatCompletion)
    assert server.count == 3


def test_callers_http_client_timeout_is_kept_unless_overridden(server):
    server.default = Reply(fault="hang")
    with httpx.Client(timeout=httpx.Timeout(0.2)) as http:
        chat = ChatImage(api_key=API_KEY, base_url=server.url, http_client=http, max_retries=0)
        assert chat.timeout == httpx.Timeout(0.2)
        with pytest.raises(APITimeoutError):
            chat.chat.completions.create(model="m", messages=[UserMessage("x")], max_tokens=1)
    # httpx's own default (5 s for everything) is not a choice: ours applies.
    with httpx.Client() as http:
        chat = ChatImage(api_key=API_KEY, base_url=server.url, http_client=http)
        assert chat.timeout.read == 120.0


def test_retries_are_logged_with_the_path_only(call: Caller, server, caplog):
    server.queue(Reply(status=503), Reply(body=completion()))
    with caplog.at_level(logging.INFO, logger="chat_image"):
        call(client={"retry_policy": EXACT})
    retries = [r.getMessage() for r in caplog.records if r.name == "chat_image"]
    assert retries == [
        "Retrying POST /v1/chat/completions in 0.50 s after status 503 (retry 1 of 2)"
    ]


def test_a_streamed_inline_image_body_is_resent_whole_on_retry(call: Caller, server):
    """Inline images over the single-buffer threshold go out as a re-iterable stream; a retry
    must send the same bytes again, not an exhausted iterator."""
    from chat_image import ImagePart
    from samples import SIGNATURES

    image = SIGNATURES["PNG"] + bytes(range(256)) * 2048  # ~512 KiB: streamed, not buffered
    server.queue(Reply(status=503), Reply(body=completion()))
    call(
        client={"retry_policy": EXACT},
        messages=[UserMessage([ImagePart.from_bytes(image)])],
    )
    first, second = server.requests
    assert first.size == second.size > len(image)
    assert first.sha256 == second.sha256
    assert first.json == second.json
