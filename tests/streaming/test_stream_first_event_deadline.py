"""`total_timeout` bounds a stream until its first event, not only until its headers, on every
backend: a gateway that sends its headers at once and its first event seconds later (keep-alive
comments in between or not) is timed out by the call's deadline, and not retried past it."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from chat_image import APITimeoutError
from chat_image.testing import Reply
from streams import answer_events


@pytest.fixture
def release(server) -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


@pytest.mark.parametrize("waiting", [b"", b": ping\n\n"], ids=["silent", "pinging"])
def test_total_timeout_holds_until_the_first_event(stream_call, server, release, waiting):
    def late() -> Iterator[bytes]:
        while not release.wait(0.1):
            yield waiting  # an empty piece sends nothing: the headers went, then silence
        yield from answer_events()

    server.default = Reply(stream_body=late())
    outcome = stream_call.stream(
        client={"max_retries": 3},
        total_timeout=1.0,
        timeout=httpx.Timeout(6.0, connect=5.0),
    )
    release.set()
    assert isinstance(outcome.error, APITimeoutError), outcome.error
    assert "total_timeout" in str(outcome.error)
    assert outcome.chunks == []
    assert server.count == 1  # the deadline has passed: nothing left for a retry


def test_total_timeout_does_not_bound_a_stream_after_its_first_event(stream_call, server):
    """Past the first event, a stream is bounded between events by the read timeout only."""
    server.default = Reply(stream_body=answer_events(), pause=0.3)  # about 1.8 s in all
    outcome = stream_call.stream(final=True, total_timeout=0.8)
    assert outcome.error is None, outcome.error
    assert outcome.completion is not None


def test_total_timeout_holds_on_a_callers_own_sync_client(server, release):
    """Its sockets have no deadline of ours: the call's deadline still ends the wait."""
    from streams import StreamCaller

    def late() -> Iterator[bytes]:
        while not release.wait(0.1):
            yield b""
        yield from answer_events()

    server.default = Reply(stream_body=late())
    with httpx.Client(timeout=httpx.Timeout(6.0, connect=5.0)) as http:
        outcome = StreamCaller("sync", server).stream(
            client={"http_client": http, "max_retries": 3}, total_timeout=1.0
        )
    release.set()
    assert isinstance(outcome.error, APITimeoutError), outcome.error
    assert "total_timeout" in str(outcome.error)
    assert server.count == 1


def test_a_slow_reader_of_the_first_chunk_is_not_cut_off(server):
    """The deadline is the server's to meet, until the first event: not the reader's."""
    from streams import StreamCaller

    server.default = Reply(stream_body=answer_events())
    with httpx.Client() as http:
        caller = StreamCaller("sync", server)
        with caller.make(http_client=http) as client:
            stream = client.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": "hi"}],
                max_tokens=5,
                stream=True,
                total_timeout=0.5,
            )
            with stream:
                first = next(stream)
                release = threading.Event()
                release.wait(1.0)  # longer than total_timeout, with the first chunk in hand
                rest = list(stream)
    assert first.choices[0].delta.role == "assistant"
    assert len(rest) == len(answer_events()) - 2
