"""The event-stream format: the decoder on its own (cut anywhere, any line ending), and the
same cases end to end through both clients against a real server."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat_image._sse import SSEDecoder
from chat_image.testing import Reply
from streams import answer_chunks


def _decode(pieces: list[bytes]) -> list[tuple[str | None, bytes]]:
    decoder = SSEDecoder()
    return [found for piece in pieces for found in decoder.feed(piece)]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_line_endings(newline):
    text = b"data: one" + newline + newline + b"data:two" + newline + newline
    assert _decode([text]) == [(None, b"one"), (None, b"two")]


def test_comments_fields_and_multi_line_data():
    text = (
        b": a comment\n"
        b"id: 7\n"
        b"retry: 100\n"
        b"data: first line\n"
        b"data:  second, one space kept\n"
        b"data\n"
        b"unknown: field\n"
        b"\n"
        b"event: error\n"
        b"data: {}\n"
        b"\n"
        b"\n"  # an empty event dispatches nothing
        b"event: lost\n"
        b"\n"
        b"data: after\n\n"
    )
    assert _decode([text]) == [
        (None, b"first line\n second, one space kept\n"),
        ("error", b"{}"),
        (None, b"after"),
    ]


def test_an_event_without_its_empty_line_at_the_end_is_dropped():
    assert _decode([b"data: one\n\ndata: two\n"]) == [(None, b"one")]


def test_a_byte_order_mark_is_dropped_even_split():
    assert _decode([b"\xef", b"\xbb", b"\xbfdata: x\n\n"]) == [(None, b"x")]


def test_only_data_counts_as_progress():
    """Keep-alives are comments or fields without data; a data line, even half arrived, is
    the server sending."""
    decoder = SSEDecoder()
    decoder.feed(b": ping\n\n: ping\n\nevent: keepalive\n\nretry: 10\nid: 3\nx: y\n\n")
    assert decoder.saw_data is False
    decoder.feed(b"event: message\nda")
    assert decoder.saw_data is False  # not yet known to be data
    decoder.feed(b"ta: x")
    assert decoder.saw_data is True  # a data line arriving
    decoder.saw_data = False
    decoder.feed(b"y")
    assert decoder.saw_data is True
    decoder.saw_data = False
    assert decoder.feed(b"\n\n") == [("message", b"xy")]
    decoder.feed(b"data:z\n")
    assert decoder.saw_data is True


_STREAMS = [
    b"".join(b"data: " + json.dumps(c).encode() + nl + nl for c in answer_chunks(["x", "yz"]))
    + b": ping"
    + nl
    + b"data: [DONE]"
    + nl
    + nl
    for nl in (b"\n", b"\r\n", b"\r")
]


@given(stream=st.sampled_from(_STREAMS), cuts=st.lists(st.integers(min_value=0), max_size=40))
def test_a_stream_cut_anywhere_gives_the_same_events(stream, cuts):
    whole = _decode([stream])
    points = sorted({cut % (len(stream) + 1) for cut in cuts})
    pieces = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    assert _decode(pieces) == whole
    assert len(whole) == 5
    assert whole[-1] == (None, b"[DONE]")


def _stream_of(newline: bytes, *, space: bool = True, comments: bool = False) -> bytes:
    prefix = b"data: " if space else b"data:"
    out = b""
    for c in answer_chunks():
        if comments:
            out += b": keep-alive" + newline
        out += prefix + json.dumps(c).encode() + newline + newline
    return out + prefix + b"[DONE]" + newline + newline


@pytest.mark.parametrize(
    "body",
    [
        _stream_of(b"\n"),
        _stream_of(b"\r\n"),
        _stream_of(b"\r"),
        _stream_of(b"\n", space=False),
        _stream_of(b"\r\n", comments=True),
    ],
    ids=["LF", "CRLF", "CR", "no-space", "comments"],
)
@pytest.mark.parametrize("size", [1, 7, 4096])
def test_conformance_end_to_end(stream_call, server, body, size):
    """The body cut in pieces of `size` bytes, each sent after a pause."""
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    server.default = Reply(stream_body=pieces, pause=0.0005 if size == 1 else 0.005)
    outcome = stream_call.stream(final=True)
    assert outcome.error is None
    assert outcome.completion is not None
    assert outcome.completion.choices[0].message.content == "A wooden boardwalk."


def test_multi_line_data_end_to_end(stream_call, server):
    """A chunk's JSON spread over several `data:` lines is joined with newlines."""
    lines = [json.dumps(c, indent=1).encode().split(b"\n") for c in answer_chunks()]
    events = [b"".join(b"data: " + line + b"\n" for line in chunk) + b"\n" for chunk in lines]
    server.default = Reply(stream_body=[*events, b"data: [DONE]\n\n"])
    outcome = stream_call.stream(final=True)
    assert outcome.error is None
    assert outcome.completion is not None
    assert outcome.completion.choices[0].message.content == "A wooden boardwalk."
