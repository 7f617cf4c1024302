"""The span `parse()` is to open (issue 21: 6): `parse()` is on its own branch, not on main
yet, so this drives the hook as parse_sync does (a refused mode, then the answer)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from chat_image import APIStatusError, UserMessage
from chat_image.testing import Reply
from otel_kit import Recorded, recording

CREATE = {"model": "gpt-4o", "messages": [UserMessage("hi")], "max_tokens": 5}


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    return recording(monkeypatch)


def test_a_parse_is_one_span_over_each_request_it_sends(server, recorded):
    server.queue(Reply(status=400, message="response_format json_schema is not supported"))
    with server.client() as client, client._tracing.parse("gpt-4o", "auto") as trace:
        with pytest.raises(APIStatusError):
            client.chat.completions.create(**CREATE)
        client.chat.completions.create(**CREATE)
        result = trace.parsed(SimpleNamespace(mode="json_object", attempts=1))
    assert result.mode == "json_object"
    spans = recorded.spans()
    (parse,) = [s for s in spans if s.name == "parse gpt-4o"]
    calls = [s for s in spans if s.name == "chat gpt-4o"]
    assert parse.kind is SpanKind.INTERNAL
    assert dict(parse.attributes) == {
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "chat_image.parse.mode_requested": "auto",
        "chat_image.parse.mode": "json_object",
        "chat_image.parse.attempts": 1,
    }
    assert [c.attributes.get("error.type") for c in calls] == ["400", None]
    assert all(c.parent.span_id == parse.context.span_id for c in calls)


def test_a_parse_that_fails_is_an_error_span(server, recorded):
    class StructuredOutputError(Exception):
        attempts = 2

    async def main():
        async with server.async_client() as client:
            with client._tracing.parse("gpt-4o", "json_schema"):
                await client.chat.completions.create(**CREATE)
                raise StructuredOutputError

    with pytest.raises(StructuredOutputError):
        asyncio.run(main())
    (parse,) = [s for s in recorded.spans() if s.name == "parse gpt-4o"]
    assert parse.status.status_code is StatusCode.ERROR
    assert parse.attributes["error.type"] == "StructuredOutputError"
    assert parse.attributes["chat_image.parse.attempts"] == 2


def test_untraced_the_hook_passes_the_result_through(server, recorded):
    with server.client(tracing=False) as client, client._tracing.parse("m", "auto") as trace:
        answer = object()
        assert trace.parsed(answer) is answer
    assert recorded.spans() == []
