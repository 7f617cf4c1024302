"""Every way a stream can fail ends in a typed error from our tree, sync and async, against a
real server on 127.0.0.1 that streams with pauses; failures before the first event are
retried like a non-streamed call, and never once a chunk has been handed out."""

from __future__ import annotations

import itertools

import httpx
import pytest

from chat_image import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    InternalServerError,
    RateLimitError,
)
from chat_image.testing import Reply
from conftest import API_KEY
from streams import DONE, answer_events, chunk, event

_HEAD = answer_events()[:2]  # the role chunk and the first word


def test_an_error_status_before_the_stream_is_the_usual_status_error(stream_call, server):
    server.default = Reply(status=429, message="Slow down", headers={"x-request-id": "req_429"})
    outcome = stream_call.stream(client={"max_retries": 0})
    assert isinstance(outcome.error, RateLimitError)
    assert outcome.error.error_message == "Slow down"
    assert outcome.error.request_id == "req_429"
    assert outcome.error.body == {
        "error": {
            "message": "Slow down",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }


def test_error_statuses_are_retried_with_retry_after(stream_call, server):
    server.queue(
        Reply(status=429, headers={"retry-after": "2"}),
        Reply(status=503),
        Reply(stream_body=answer_events()),
    )
    outcome = stream_call.stream(final=True)
    assert outcome.error is None
    assert outcome.completion is not None
    assert server.count == 3
    assert stream_call.sleeps[0] == 2.0
    assert len(stream_call.sleeps) == 2
    assert outcome.retries_taken == 2


def test_retries_run_out_on_error_statuses(stream_call, server):
    server.default = Reply(status=500)
    outcome = stream_call.stream(client={"max_retries": 1})
    assert isinstance(outcome.error, InternalServerError)
    assert server.count == 2


@pytest.mark.parametrize(
    ("data", "message", "type_", "code"),
    [
        (
            {"error": {"message": "Overloaded", "type": "server_error", "code": "overloaded"}},
            "Overloaded",
            "server_error",
            "overloaded",
        ),
        (
            {"object": "error", "message": "Too long", "type": "BadRequestError", "code": 400},
            "Too long",
            "BadRequestError",
            "400",
        ),
    ],
    ids=["openai", "vllm"],
)
def test_an_error_event_raises_after_the_chunks_before_it(
    stream_call, server, data, message, type_, code
):
    server.default = Reply(stream_body=[*_HEAD, event(data), DONE])
    outcome = stream_call.stream()
    assert type(outcome.error) is APIError
    assert outcome.error.message == message
    assert (outcome.error.type, outcome.error.code) == (type_, code)
    assert outcome.error.body == data
    assert outcome.text == "A"
    assert server.count == 1


def test_an_error_event_in_the_same_piece_as_chunks_comes_after_them(stream_call, server):
    error = event({"error": {"message": "Overloaded"}})
    server.default = Reply(stream_body=[b"".join([*_HEAD, error])])
    outcome = stream_call.stream()
    assert isinstance(outcome.error, APIError)
    assert outcome.text == "A"


def test_an_error_event_first_is_not_retried(stream_call, server):
    server.default = Reply(stream_body=[event({"error": {"message": "Nope"}})])
    outcome = stream_call.stream()
    assert type(outcome.error) is APIError
    assert outcome.chunks == []
    assert server.count == 1


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"data: {not json\n\n", "not JSON"),
        (b'data: {"choices": "none"}\n\n', "choices: expected an array"),
        (b'data: ["a", "list"]\n\n', "expected an object"),
    ],
)
def test_a_bad_data_line_is_a_validation_error_naming_it(stream_call, server, line, problem):
    server.default = Reply(stream_body=[*_HEAD, line, DONE])
    outcome = stream_call.stream()
    assert isinstance(outcome.error, APIResponseValidationError)
    assert problem in str(outcome.error)
    assert line[6:].strip().decode() in str(outcome.error)  # the line itself is quoted
    assert outcome.text == "A"
    assert API_KEY not in str(outcome.error)


def test_a_200_that_is_neither_a_stream_nor_a_completion(stream_call, server):
    server.default = Reply(
        status=200, body=b"<html>gateway</html>", headers={"Content-Type": "text/html"}
    )
    outcome = stream_call.stream()
    assert isinstance(outcome.error, APIResponseValidationError)
    assert "neither an event stream nor a chat completion" in str(outcome.error)
    assert "<html>" in str(outcome.error)
    assert server.count == 1


def test_a_200_json_that_is_not_a_completion(stream_call, server):
    server.default = Reply(body={"status": "queued"})
    outcome = stream_call.stream()
    assert isinstance(outcome.error, APIResponseValidationError)
    assert "queued" in str(outcome.error)


def test_a_dropped_connection_mid_stream_is_a_connection_error(stream_call, server):
    # Every answer is cut: only the first could have been retried, and it was not.
    server.default = Reply(stream_body=[*_HEAD, b'data: {"cho'], fault="cut")
    outcome = stream_call.stream()
    assert type(outcome.error) is APIConnectionError
    assert outcome.text == "A"
    assert server.count == 1


def test_a_clean_end_before_every_finish_reason_is_a_cut_off(stream_call, server):
    server.default = Reply(stream_body=_HEAD)  # ends cleanly, no finish, no [DONE]
    outcome = stream_call.stream()
    assert type(outcome.error) is APIConnectionError
    assert "cut off" in str(outcome.error)
    assert outcome.text == "A"
    assert server.count == 1


def test_n_choices_each_need_their_finish_reason(stream_call, server):
    pieces = [
        event(chunk("a", index=0)),
        event(chunk("b", index=1)),
        event(chunk(index=0, finish_reason="stop")),
    ]
    server.default = Reply(stream_body=pieces)
    outcome = stream_call.stream(n=2)
    assert isinstance(outcome.error, APIConnectionError)
    assert "cut off" in str(outcome.error)


def test_an_end_without_done_after_every_finish_is_complete(stream_call, server):
    server.default = Reply(stream_body=answer_events()[:-1])
    outcome = stream_call.stream(final=True)
    assert outcome.error is None
    assert outcome.completion is not None
    assert outcome.completion.choices[0].finish_reason == "stop"


@pytest.mark.parametrize(
    "first",
    [
        Reply(fault="close"),
        Reply(stream_body=[b": warming up\n\n"], fault="cut"),
        Reply(stream_body=[]),
    ],
    ids=["closed", "cut-before-any-event", "empty-stream"],
)
def test_a_failure_before_the_first_event_is_retried(stream_call, server, first):
    server.queue(first, Reply(stream_body=answer_events()))
    outcome = stream_call.stream(final=True)
    assert outcome.error is None
    assert outcome.completion is not None
    assert outcome.completion.choices[0].message.content == "A wooden boardwalk."
    assert server.count == 2
    assert len(stream_call.sleeps) == 1
    assert outcome.retries_taken == 1


def test_failures_before_the_first_event_share_one_retry_budget(stream_call, server):
    server.queue(
        Reply(status=503), Reply(stream_body=[], fault="cut"), Reply(stream_body=answer_events())
    )
    outcome = stream_call.stream(client={"max_retries": 1})
    assert isinstance(outcome.error, APIConnectionError)
    assert server.count == 2


def test_a_failure_after_a_chunk_is_never_retried(stream_call, server):
    server.queue(Reply(stream_body=_HEAD, fault="cut"), Reply(stream_body=answer_events()))
    outcome = stream_call.stream(client={"max_retries": 5})
    assert isinstance(outcome.error, APIConnectionError)
    assert server.count == 1
    assert stream_call.sleeps == []


def test_keep_alive_comments_do_not_extend_the_read_timeout(stream_call, server):
    """`: ping` every 20 ms resets httpx's read timeout forever; ours ends the stream."""
    server.default = Reply(stream_body=itertools.repeat(b": ping\n\n"), pause=0.02)
    timeout = httpx.Timeout(5.0, read=0.3)
    outcome = stream_call.stream(client={"max_retries": 1}, timeout=timeout)
    assert isinstance(outcome.error, APITimeoutError)
    assert "read timeout" in str(outcome.error)
    assert server.count == 2  # a timeout before the first event is retried, like any


def test_keep_alive_comments_between_data_are_ignored(stream_call, server):
    events = answer_events()
    pieces = [piece for e in events for piece in (b": ping\n\n", e)]
    server.default = Reply(stream_body=pieces)
    outcome = stream_call.stream(final=True)
    assert outcome.error is None
    assert outcome.completion is not None
    assert outcome.completion.choices[0].message.content == "A wooden boardwalk."


def test_a_stream_that_stops_sending_times_out(stream_call, server):
    # The first two chunks in one piece, then nothing until the server stops.
    server.default = Reply(stream_body=[b"".join(_HEAD), b""], pause=30)
    outcome = stream_call.stream(client={"max_retries": 3}, timeout=httpx.Timeout(5.0, read=0.3))
    assert isinstance(outcome.error, APITimeoutError)
    assert outcome.text == "A"
    assert server.count == 1


def test_errors_are_from_our_tree_only(stream_call, server):
    server.default = Reply(stream_body=[b"data: \xff\xfe\n\n"])
    outcome = stream_call.stream()
    assert isinstance(outcome.error, APIResponseValidationError)
    assert not isinstance(outcome.error, APIStatusError)
