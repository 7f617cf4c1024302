"""RetryPolicy alone: which outcomes are retried and how long the waits are."""

from __future__ import annotations

import calendar
import math
from email.utils import formatdate

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat_image import RetryPolicy
from chat_image._retry import parse_retry_after

NOW = 1_750_000_000.0
REQUEST = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")


def fixed(random: float = 0.0) -> RetryPolicy:
    """A policy whose clock stands at NOW and whose jitter is `random` of the maximum."""
    return RetryPolicy(clock=lambda: NOW, random=lambda: random)


def response(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=REQUEST)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529, 599])
def test_retried_statuses(status):
    assert RetryPolicy().should_retry(response(status))


@pytest.mark.parametrize("status", [200, 201, 204, 301, 400, 401, 403, 404, 413, 418, 422])
def test_statuses_not_retried(status):
    assert not RetryPolicy().should_retry(response(status))


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow"),
        httpx.ReadTimeout("slow"),
        httpx.WriteTimeout("slow"),
        httpx.PoolTimeout("busy"),
        httpx.ReadError("reset"),
        httpx.WriteError("broken pipe"),
        httpx.RemoteProtocolError("peer closed connection"),
    ],
)
def test_connection_errors_and_timeouts_are_retried(error):
    assert RetryPolicy().should_retry(error)


@pytest.mark.parametrize(
    "error",
    [
        httpx.UnsupportedProtocol("ftp"),
        httpx.LocalProtocolError("bad header"),
        httpx.DecodingError("bad gzip"),
        ValueError("not ours"),
    ],
)
def test_errors_a_second_attempt_would_repeat_are_not_retried(error):
    assert not RetryPolicy().should_retry(error)


def test_x_should_retry_overrides_the_status_rule_both_ways():
    policy = RetryPolicy()
    assert not policy.should_retry(response(503, **{"x-should-retry": "false"}))
    assert not policy.should_retry(response(429, **{"x-should-retry": "false"}))
    assert policy.should_retry(response(400, **{"x-should-retry": "true"}))
    # A success is a success, whatever the header says.
    assert not policy.should_retry(response(200, **{"x-should-retry": "true"}))


def test_backoff_doubles_from_half_a_second_and_caps_at_eight():
    waits = [fixed(0.0).backoff(n) for n in range(8)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0]
    assert fixed(0.0).backoff(10_000) == 8.0


def test_jitter_takes_off_at_most_a_quarter():
    assert [fixed(1.0).backoff(n) for n in range(5)] == [0.375, 0.75, 1.5, 3.0, 6.0]
    assert fixed(0.5).backoff(0) == pytest.approx(0.4375)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),
        ({"retry-after-ms": "soon", "Retry-After": "9"}, 9.0),
        ({"Retry-After": formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"Retry-After": formatdate(NOW + 30, localtime=False)}, 30.0),
        (
            {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"},
            calendar.timegm((2015, 10, 21, 7, 28, 0)) - NOW,
        ),
        ({"Retry-After": "whenever"}, None),
        ({"Retry-After": "nan"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers, expected):
    assert parse_retry_after(headers, NOW) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After": "60"}, 60.0),
        ({"Retry-After": formatdate(NOW + 12, usegmt=True)}, 12.0),
        # Beyond the cap, zero, negative, in the past or unreadable: the backoff instead.
        ({"Retry-After": "61"}, 0.5),
        ({"Retry-After": "3600"}, 0.5),
        ({"Retry-After": "0"}, 0.5),
        ({"Retry-After": "-3"}, 0.5),
        ({"Retry-After": formatdate(NOW - 12, usegmt=True)}, 0.5),
        ({"Retry-After": "tomorrow"}, 0.5),
    ],
)
def test_wait_honours_the_server_within_the_cap(headers, expected):
    assert fixed(0.0).wait(0, response(429, **headers)) == expected


def test_the_cap_is_configurable():
    policy = RetryPolicy(max_retry_after=5.0, clock=lambda: NOW, random=lambda: 0.0)
    assert policy.wait(0, response(429, **{"Retry-After": "5"})) == 5.0
    assert policy.wait(0, response(429, **{"Retry-After": "6"})) == 0.5


def test_next_wait_stops_when_retries_are_used_up_or_the_outcome_is_final():
    policy = fixed(0.0)
    assert policy.next_wait(0, 2, response(503)) == 0.5
    assert policy.next_wait(1, 2, response(503)) == 1.0
    assert policy.next_wait(2, 2, response(503)) is None
    assert policy.next_wait(0, 0, response(503)) is None
    assert policy.next_wait(0, 2, response(400)) is None
    assert policy.next_wait(0, 2, response(200)) is None
    assert policy.next_wait(0, 2, httpx.ConnectError("x")) == 0.5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial_delay": -1},
        {"max_delay": math.inf},
        {"jitter": 1.5},
        {"max_retry_after": math.nan},
    ],
)
def test_nonsense_settings_are_refused(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        RetryPolicy(**kwargs)


# What a server could put in the header: printable ASCII, numbers, and HTTP dates near and far.
_HEADER_VALUES = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126)),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers().map(str),
    st.floats(min_value=-6e10, max_value=2.5e11).map(lambda t: formatdate(t, usegmt=True)),
)


@given(st.dictionaries(st.sampled_from(["Retry-After", "retry-after-ms"]), _HEADER_VALUES))
def test_any_retry_after_header_gives_a_finite_number_or_none(headers):
    seconds = parse_retry_after(headers, NOW)
    assert seconds is None or math.isfinite(seconds)
    wait = RetryPolicy(clock=lambda: NOW).wait(0, response(503, **headers))
    assert 0 <= wait <= 60


@given(st.integers(min_value=-5, max_value=10**6), st.floats(min_value=0, max_value=1))
def test_backoff_stays_between_zero_and_the_cap(retries_done, random):
    assert 0 <= fixed(random).backoff(retries_done) <= 8.0
