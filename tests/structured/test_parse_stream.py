"""`stream(response_format=T)` against the fake gateway, sync and async (item 11)."""

from __future__ import annotations

import asyncio
import itertools
import json

import pytest
from shapes import RECEIPT_JSON, AttrsPoint, Receipt
from structured_calls import MESSAGES, astream_on, base, bodies, stream_on

from chat_image import (
    DefaultAioHttpClient,
    LengthFinishReasonError,
    ParsedChatCompletion,
    StructuredOutputError,
)
from chat_image.testing import FakeGateway, Reply, refuse_format

STREAM_KINDS = ("sync", "async-httpx", "async-aiohttp")


@pytest.fixture
def gateway():
    with FakeGateway() as server:
        yield server
    if server.errors:
        raise server.errors[0]


def pieces(text, size=5):
    return [text[i : i + size] for i in range(0, len(text), size)]


def run_stream(kind, gateway, **kwargs):
    """(events, final completion or the exception) of one stream()."""
    if kind == "sync":
        events = []
        with gateway.client() as client, stream_on(client, **kwargs) as stream:
            try:
                for event in stream:
                    events.append(event)
                return events, stream.get_final_completion()
            except Exception as exc:
                return events, exc

    async def main():
        events = []
        extra = {"http_client": DefaultAioHttpClient()} if kind == "async-aiohttp" else {}
        async with (
            gateway.async_client(**extra) as client,
            astream_on(client, **kwargs) as stream,
        ):
            try:
                async for event in stream:
                    events.append(event)
                return events, await stream.get_final_completion()
            except Exception as exc:
                return events, exc

    return asyncio.run(main())


@pytest.fixture(params=STREAM_KINDS)
def kind(request):
    return request.param


def test_events_in_the_openai_shape_and_the_final_parsed_completion(kind, gateway):
    text = "<think>reading the receipt</think>```json\n" + json.dumps(RECEIPT_JSON) + "\n```"
    gateway.queue(Reply(content=text, chunks=pieces(text)))
    events, final = run_stream(kind, gateway, **base(response_format=Receipt))
    assert isinstance(final, ParsedChatCompletion)
    assert final.parsed.merchant == "Acme"
    assert final.mode == "json_schema"
    types = [event.type for event in events]
    assert types[0] == "chunk"
    assert "content.delta" in types
    assert types[-1] == "content.done"
    done = events[-1]
    assert done.parsed == final.parsed
    assert done.content == text
    deltas = [event for event in events if event.type == "content.delta"]
    assert "".join(event.delta for event in deltas) == text
    assert deltas[-1].snapshot == text
    shown = [event.parsed for event in deltas if event.parsed]
    assert shown[-1] == RECEIPT_JSON
    # Monotone: a key once shown stays; numbers appear only whole.
    for before, after in itertools.pairwise(shown):
        assert set(before) <= set(after)
        if "total" in before:
            assert before["total"] == RECEIPT_JSON["total"]
    assert final.total_usage is not None
    (body,) = bodies(gateway)
    assert body["stream"] is True
    assert body["response_format"]["type"] == "json_schema"
    assert body["stream_options"] == {"include_usage": True}


def test_a_length_cut_off_raises_at_the_end_with_the_last_partial_object(kind, gateway):
    text = '{"merchant": "Acme", "day": "2026-03-01", "total": 12'
    gateway.queue(Reply(content=text, chunks=pieces(text), finish_reason="length"))
    events, outcome = run_stream(kind, gateway, **base(response_format=Receipt))
    assert isinstance(outcome, LengthFinishReasonError)
    assert outcome.partial == {"merchant": "Acme", "day": "2026-03-01"}
    assert events[-1].type == "chunk"
    assert gateway.count == 1


def test_an_invalid_stream_raises_with_its_problems(kind, gateway):
    text = '{"x": 2.7, "y": 1}'
    gateway.queue(Reply(content=text, chunks=pieces(text)))
    _, outcome = run_stream(kind, gateway, **base(response_format=AttrsPoint))
    assert isinstance(outcome, StructuredOutputError)
    assert [p.path for p in outcome.errors[0]] == ["x"]
    assert gateway.count == 1


def test_a_refused_format_falls_back_before_the_stream_starts(kind, gateway):
    gateway.responder = refuse_format("deepseek")
    text = '{"x": 1, "y": 2}'
    gateway.queue(Reply(content=text, chunks=pieces(text, 3)))
    before = [dict(message) for message in MESSAGES]
    _events, final = run_stream(kind, gateway, **base(response_format=AttrsPoint))
    assert final.parsed == AttrsPoint(1, 2)
    assert final.mode == "json_object"
    assert [b["response_format"]["type"] for b in bodies(gateway)] == ["json_schema", "json_object"]
    assert before == MESSAGES


def test_a_re_ask_in_a_stream_when_asked_for(kind, gateway):
    bad, good = '{"x": "?", "y": 1}', '{"x": 1, "y": 2}'
    gateway.queue(Reply(content=bad, chunks=pieces(bad)), Reply(content=good, chunks=pieces(good)))
    _, final = run_stream(kind, gateway, **base(response_format=AttrsPoint, max_reasks=1))
    assert final.parsed == AttrsPoint(1, 2)
    assert final.attempts == 2
    second = bodies(gateway)[1]
    assert second["messages"][-2] == {"role": "assistant", "content": bad}


def test_a_refusal_streams_refusal_events(kind, gateway):
    head = '{"id": "r", "object": "chat.completion.chunk", "choices": '
    refusal = [
        f'data: {head}[{{"index": 0, "delta": {{"refusal": "I can"}}}}]}}\n\n'.encode(),
        f'data: {head}[{{"index": 0, "delta": {{"refusal": "not."}}, '
        f'"finish_reason": "stop"}}]}}\n\n'.encode(),
        b"data: [DONE]\n\n",
    ]
    gateway.queue(Reply(stream_body=refusal))
    events, final = run_stream(kind, gateway, **base(response_format=AttrsPoint))
    assert final.parsed is None
    assert final.choices[0].message.refusal == "I cannot."
    assert [e.type for e in events if e.type != "chunk"] == [
        "refusal.delta",
        "refusal.delta",
        "refusal.done",
    ]
    assert events[-1].refusal == "I cannot."


def test_list_items_arrive_one_by_one_as_each_closes(gateway):
    text = json.dumps({"items": [{"x": i, "y": i} for i in range(4)]})
    gateway.queue(Reply(content=text, chunks=pieces(text, 4)))
    with (
        gateway.client() as client,
        stream_on(client, **base(response_format=list[AttrsPoint])) as stream,
    ):
        seen = []
        for item in stream.items():
            # Each item is handed out before the stream has all of the text.
            seen.append(
                (item, len(stream.current_completion_snapshot.choices[0].message.content or ""))
            )
        final = stream.get_final_completion()
    assert [item for item, _ in seen] == [AttrsPoint(i, i) for i in range(4)]
    assert all(length < len(text) for _, length in seen[:-1])
    assert final.parsed == [AttrsPoint(i, i) for i in range(4)]


def test_list_items_async(gateway):
    text = json.dumps([{"x": i, "y": i} for i in range(3)])
    gateway.queue(Reply(content=text, chunks=pieces(text, 4)))

    async def main():
        async with (
            gateway.async_client() as client,
            astream_on(client, **base(response_format=list[AttrsPoint])) as stream,
        ):
            return [item async for item in stream.items()]

    assert asyncio.run(main()) == [AttrsPoint(i, i) for i in range(3)]


def test_json_only_in_reasoning_content_deltas_is_read_at_the_end(kind, gateway):
    from chat_image.testing import json_reply

    gateway.queue(json_reply({"x": 1, "y": 2}, "reasoning_content", stream=True))
    events, final = run_stream(kind, gateway, **base(response_format=AttrsPoint))
    assert final.parsed == AttrsPoint(1, 2)
    assert events[-1].type == "content.done"
    assert events[-1].parsed == AttrsPoint(1, 2)
    assert gateway.count == 1
