"""`max_response_bytes` bounds a streamed answer as it bounds a read one: the whole body (a
JSON answer to `stream=True` included, counted after decompression), a single event, a single
line; the stream stops with `ResponseTooLargeError` (not retried) as soon as it is over."""

from __future__ import annotations

import gzip
import itertools
import json
from collections.abc import Iterator

import pytest

from chat_image import ResponseTooLargeError
from chat_image.testing import Reply
from completions import completion
from streams import DONE, answer_chunks, chunk, event

_LIMIT = 256 * 1024
_PIECE = 16 * 1024


def _counted(pieces: Iterator[bytes], sent: list[int]) -> Iterator[bytes]:
    for piece in pieces:
        yield piece
        sent.append(len(piece))


def _over(outcome: object, server: object, sent: list[int], total: int) -> None:
    error = outcome.error  # type: ignore[attr-defined]
    assert isinstance(error, ResponseTooLargeError), error
    assert error.limit == _LIMIT
    assert f"max_response_bytes={_LIMIT}" in str(error)
    assert server.count == 1  # type: ignore[attr-defined]  # not retried
    # Refused while arriving, not after the server sent it all.
    assert sum(sent) < total


def test_one_endless_line_is_bounded(stream_call, server):
    sent: list[int] = []
    total = 64 * _LIMIT
    pieces = itertools.chain([b"data: "], itertools.repeat(b"x" * _PIECE, total // _PIECE))
    server.default = Reply(stream_body=_counted(pieces, sent))
    outcome = stream_call.stream(client={"max_response_bytes": _LIMIT})
    _over(outcome, server, sent, total)


def test_one_endless_event_is_bounded(stream_call, server):
    """Data lines, each short, that no empty line ever ends: one event growing for ever."""
    sent: list[int] = []
    line = b"data: " + b"y" * 1000 + b"\n"
    total = 64 * _LIMIT
    pieces = itertools.repeat(line * 16, total // (16 * len(line)))
    server.default = Reply(stream_body=_counted(pieces, sent))
    outcome = stream_call.stream(client={"max_response_bytes": _LIMIT})
    _over(outcome, server, sent, total)


def test_a_long_stream_of_small_events_is_bounded_as_a_whole(stream_call, server):
    sent: list[int] = []
    piece = event(chunk("z" * 100))
    count = 64 * _LIMIT // len(piece)  # 16 MiB: more than the sockets between hold
    pieces = itertools.chain(
        [event(chunk("", role="assistant"))], itertools.repeat(piece, count), [DONE]
    )
    server.default = Reply(stream_body=_counted(pieces, sent))
    outcome = stream_call.stream(client={"max_response_bytes": _LIMIT})
    _over(outcome, server, sent, count * len(piece))
    assert outcome.chunks  # the chunks before the limit were handed out


def test_a_stream_within_the_limit_is_read_whole(stream_call, server):
    pieces = [event(c) for c in answer_chunks(["w"] * 2000)] + [DONE]
    size = sum(map(len, pieces))
    server.default = Reply(stream_body=pieces)
    outcome = stream_call.stream(client={"max_response_bytes": size + 1}, final=True)
    assert outcome.error is None, outcome.error
    assert outcome.completion is not None
    assert outcome.completion.choices[0].message.content == "w" * 2000


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_a_json_answer_to_a_stream_is_bounded_after_decompression(stream_call, server, encoding):
    """A gateway that ignores `stream` and answers JSON: a 4 MiB completion (a few KiB in gzip)."""
    body = json.dumps(completion(content="v" * (16 * _LIMIT))).encode()
    headers = {"Content-Type": "application/json"}
    if encoding == "gzip":
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    server.default = Reply(body=body, headers=headers)
    outcome = stream_call.stream(client={"max_response_bytes": _LIMIT})
    assert isinstance(outcome.error, ResponseTooLargeError), outcome.error
    assert outcome.error.limit == _LIMIT
    assert server.count == 1


def test_a_json_answer_to_a_stream_within_the_limit_is_one_chunk(stream_call, server):
    body = json.dumps(completion(content="fits")).encode()
    server.default = Reply(body=gzip.compress(body), headers={"Content-Encoding": "gzip"})
    outcome = stream_call.stream(client={"max_response_bytes": len(body)}, final=True)
    assert outcome.error is None, outcome.error
    assert outcome.completion is not None
    assert outcome.completion.choices[0].message.content == "fits"
