"""A stream is one span from `create()` to its end: exhausted, closed, left, or failed."""

from __future__ import annotations

import asyncio
import gc

import pytest
from opentelemetry.trace import StatusCode

from chat_image import APIConnectionError, UserMessage
from chat_image.testing import Reply
from otel_kit import Recorded, recording
from streams import chunk, event

MODEL = "gpt-4o"
CREATE = {"model": MODEL, "messages": [UserMessage("hi")], "max_tokens": 5, "stream": True}


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    return recording(monkeypatch)


def test_a_whole_stream_is_one_span_with_the_usage_chunk(stream_call, recorded):
    outcome = stream_call.stream(model=MODEL, stream_options={"include_usage": True})
    assert outcome.error is None
    assert outcome.text
    span = recorded.span()
    assert span.name == "chat gpt-4o"
    attrs = dict(span.attributes)
    assert attrs["chat_image.stream"] is True
    assert attrs["chat_image.stream.complete"] is True
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["gen_ai.response.id"]
    assert attrs["gen_ai.response.model"]
    assert attrs["gen_ai.usage.input_tokens"] > 0
    assert attrs["gen_ai.usage.output_tokens"] > 0
    assert span.status.status_code is StatusCode.UNSET


def test_the_span_lasts_until_the_stream_is_read(client, recorded):
    stream = client.chat.completions.create(**CREATE)
    assert recorded.spans() == []  # open while the stream is
    for _ in stream:
        pass
    assert len(recorded.spans()) == 1


def test_leaving_a_stream_early_ends_the_span_without_error(client, recorded):
    with client.chat.completions.create(**CREATE) as stream:
        for _ in stream:
            break
    span = recorded.span()
    assert span.status.status_code is StatusCode.UNSET
    assert "error.type" not in span.attributes
    assert span.attributes["chat_image.stream.complete"] is False


def test_a_stream_closed_before_reading_ends_the_span(client, recorded):
    client.chat.completions.create(**CREATE).close()
    assert recorded.span().status.status_code is StatusCode.UNSET


def test_a_stream_left_without_close_ends_the_span_when_it_goes(client, recorded):
    stream = client.chat.completions.create(**CREATE)
    next(iter(stream))
    del stream
    gc.collect()
    assert recorded.span().attributes["chat_image.stream.complete"] is False


def test_an_async_stream_left_early(server, recorded):
    async def main():
        async with server.async_client() as client:
            async with await client.chat.completions.create(**CREATE) as stream:
                async for _ in stream:
                    break
            assert recorded.spans() != []

    asyncio.run(main())
    span = recorded.span()
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes["chat_image.stream.complete"] is False


def test_a_stream_cut_off_after_its_first_chunk_is_an_error(stream_call, server, recorded):
    server.default = Reply(
        stream_body=[event(chunk("A", role="assistant")), b"data: {"], fault="cut"
    )
    outcome = stream_call.stream(model=MODEL)
    assert isinstance(outcome.error, APIConnectionError)
    span = recorded.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "APIConnectionError"


def test_a_stream_re_sent_before_its_first_chunk_counts_its_retries(stream_call, server, recorded):
    # The first answer is cut before any event: sent again, inside the same span.
    server.queue(Reply(stream_body=[], fault="cut"))
    outcome = stream_call.stream(model=MODEL)
    assert outcome.error is None
    assert outcome.retries_taken == 1
    span = recorded.span()
    assert span.attributes["chat_image.retries_taken"] == 1
    assert span.status.status_code is StatusCode.UNSET
