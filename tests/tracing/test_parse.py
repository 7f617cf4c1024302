"""`parse()` is one INTERNAL span: the mode asked for, the mode that answered, the answers
read; each request it sends (a refused mode, a re-ask) is a child CLIENT span."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from chat_image import StructuredOutputError, UserMessage
from chat_image.testing import Reply, refuse_format
from otel_kit import Recorded, recording

CREATE = {"model": "gpt-4o", "messages": [UserMessage("Where?")], "max_tokens": 50}
POINT = '{"x": 1, "y": 2}'


@dataclass
class Point:
    x: int
    y: int


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    return recording(monkeypatch)


def _spans(recorded: Recorded):
    spans = recorded.spans()
    (parse,) = [s for s in spans if s.name == "parse gpt-4o"]
    calls = sorted((s for s in spans if s.name == "chat gpt-4o"), key=lambda s: s.start_time)
    return parse, calls


def test_a_refused_mode_and_the_answer_are_children_of_one_parse_span(server, recorded):
    server.responder = refuse_format("openai")
    server.queue(content=POINT)
    with server.client() as client:
        result = client.chat.completions.parse(response_format=Point, **CREATE)
    assert result.parsed == Point(1, 2)
    parse, calls = _spans(recorded)
    assert parse.kind is SpanKind.INTERNAL
    assert parse.status.status_code is StatusCode.UNSET
    assert dict(parse.attributes) == {
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "chat_image.parse.mode_requested": "auto",
        "chat_image.parse.mode": "json_object",
        "chat_image.parse.attempts": 1,
    }
    assert [c.attributes.get("error.type") for c in calls] == ["400", None]
    assert all(c.parent.span_id == parse.context.span_id for c in calls)


def test_an_async_parse_with_a_re_ask(server, recorded):
    server.queue(Reply(content='{"x": "one"}'), Reply(content=POINT))

    async def main():
        async with server.async_client() as client:
            return await client.chat.completions.parse(
                response_format=Point, mode="json_schema", **CREATE
            )

    result = asyncio.run(main())
    assert result.parsed == Point(1, 2)
    parse, calls = _spans(recorded)
    assert parse.attributes["chat_image.parse.mode_requested"] == "json_schema"
    assert parse.attributes["chat_image.parse.attempts"] == 2
    assert len(calls) == 2
    assert all(c.parent.span_id == parse.context.span_id for c in calls)


def test_a_parse_that_fails_is_an_error_span_with_its_attempts(server, recorded):
    server.queue(Reply(content="no JSON here"), Reply(content="still none"))
    with server.client() as client, pytest.raises(StructuredOutputError):
        client.chat.completions.parse(response_format=Point, mode="json_schema", **CREATE)
    parse, calls = _spans(recorded)
    assert parse.status.status_code is StatusCode.ERROR
    assert parse.attributes["error.type"] == "StructuredOutputError"
    assert parse.attributes["chat_image.parse.attempts"] == 2
    assert len(calls) == 2


def test_untraced_parse_makes_no_span(server, recorded):
    server.queue(content=POINT)
    with server.client(tracing=False) as client:
        assert client.chat.completions.parse(response_format=Point, **CREATE).parsed
    assert recorded.spans() == []
