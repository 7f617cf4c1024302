"""One CLIENT span a call, with the GenAI conventions' attributes, for every client kind."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from chat_image import APIConnectionError, APIStatusError, ChatImage, UserMessage
from chat_image.testing import Reply
from otel_kit import Recorded, recording

MODEL = "gpt-4o"


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    return recording(monkeypatch)


def test_a_call_is_one_client_span_with_the_conventions_attributes(call, server, recorded):
    call(model=MODEL, max_tokens=7, temperature=0.25, top_p=0.5)
    span = recorded.span()
    assert span.name == "chat gpt-4o"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    attrs = dict(span.attributes)
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.request.model"] == MODEL
    assert attrs["gen_ai.request.max_tokens"] == 7
    assert attrs["gen_ai.request.temperature"] == 0.25
    assert attrs["gen_ai.request.top_p"] == 0.5
    assert attrs["server.address"] == "127.0.0.1"
    assert attrs["server.port"] == httpx.URL(server.url).port
    assert attrs["gen_ai.response.id"] == "chatcmpl-AbC123"
    assert attrs["gen_ai.response.model"] == "gpt-4o-2024-08-06"
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["gen_ai.usage.input_tokens"] == 1118
    assert attrs["gen_ai.usage.output_tokens"] == 12
    assert attrs["chat_image.retries_taken"] == 0
    assert attrs["chat_image.request.image_count"] == 0
    assert attrs["chat_image.stream"] is False
    assert "error.type" not in attrs


def test_options_not_given_are_not_recorded(call, recorded):
    call(model=MODEL)
    attrs = dict(recorded.span().attributes)
    assert "gen_ai.request.temperature" not in attrs
    assert "gen_ai.request.top_p" not in attrs


def test_retries_are_inside_the_one_span(call, server, recorded):
    server.queue(Reply(status=503), Reply(status=500))
    answer = call(model=MODEL)
    assert answer.id == "chatcmpl-AbC123"
    assert server.count == 3
    span = recorded.span()
    assert span.attributes["chat_image.retries_taken"] == 2
    assert span.status.status_code is StatusCode.UNSET


def test_a_failed_call_sets_error_status_and_the_status_code(call, server, recorded):
    server.queue(Reply(status=400, message="bad image"))
    with pytest.raises(APIStatusError):
        call(model=MODEL)
    span = recorded.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "400"
    assert "gen_ai.response.id" not in span.attributes


def test_retries_that_run_out_are_counted_on_the_failed_span(call, server, recorded):
    server.queue(*[Reply(status=503)] * 3)
    with pytest.raises(APIStatusError):
        call(model=MODEL, max_retries=2)
    span = recorded.span()
    assert span.attributes["error.type"] == "503"
    assert span.attributes["chat_image.retries_taken"] == 2


def test_a_transport_failure_names_the_exception(recorded):
    with (
        ChatImage(api_key="sk-test-unused", base_url="http://127.0.0.1:9", max_retries=0) as client,
        pytest.raises(APIConnectionError),
    ):
        client.chat.completions.create(model=MODEL, messages=[UserMessage("hi")], max_tokens=5)
    span = recorded.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "APIConnectionError"
    assert span.attributes["server.port"] == 9


def test_input_refused_before_sending_is_a_failed_span_and_nothing_is_sent(
    client, server, recorded
):
    with pytest.raises(ValueError, match="max_tokens"):
        client.chat.completions.create(model=MODEL, messages=[UserMessage("hi")], max_tokens=-1)
    assert server.count == 0
    span = recorded.span()
    assert span.attributes["error.type"] == "InvalidInputError"


def test_the_raw_response_call_is_traced_too(client, recorded):
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=[UserMessage("hi")], max_tokens=5
    )
    assert raw.parse().id == "chatcmpl-AbC123"
    span = recorded.span()
    assert span.attributes["gen_ai.response.id"] == "chatcmpl-AbC123"
    assert span.attributes["gen_ai.usage.output_tokens"] == 12


def test_an_async_call(server, recorded):
    async def main():
        async with server.async_client() as client:
            await client.chat.completions.create(
                model=MODEL, messages=[UserMessage("hi")], max_tokens=5
            )

    asyncio.run(main())
    span = recorded.span()
    assert span.name == "chat gpt-4o"
    assert span.attributes["gen_ai.response.id"] == "chatcmpl-AbC123"


def test_a_one_pass_iterable_of_messages_is_still_sent(client, server, recorded):
    # The span reads the messages to count images: a generator must still reach the server.
    answer = client.chat.completions.create(
        model=MODEL, messages=(m for m in [UserMessage("hi")]), max_tokens=5
    )
    assert answer.id
    assert server.last.json["messages"] == [{"role": "user", "content": "hi"}]
    assert recorded.span().attributes["chat_image.request.image_count"] == 0


def test_the_provider_name_is_configurable(server, recorded):
    with server.client(gen_ai_provider="azure.ai.openai") as client:
        client.chat.completions.create(model=MODEL, messages=[UserMessage("hi")], max_tokens=5)
    assert recorded.span().attributes["gen_ai.provider.name"] == "azure.ai.openai"


def test_off_by_argument_or_environment(server, recorded, monkeypatch):
    with server.client(tracing=False) as client:
        client.chat.completions.create(model=MODEL, messages=[UserMessage("hi")], max_tokens=5)
    monkeypatch.setenv("CHAT_IMAGE_TRACING", "0")
    with server.client() as client:
        client.chat.completions.create(model=MODEL, messages=[UserMessage("hi")], max_tokens=5)
    assert recorded.spans() == []
    assert "traceparent" not in server.last.headers
    # The argument wins over the environment.
    with server.client(tracing=True) as client:
        client.chat.completions.create(model=MODEL, messages=[UserMessage("hi")], max_tokens=5)
    assert len(recorded.spans()) == 1


def test_bad_tracing_arguments_are_refused(server):
    with pytest.raises(ValueError, match="tracing"):
        server.client(tracing="yes")
    with pytest.raises(ValueError, match="gen_ai_provider"):
        server.client(gen_ai_provider="")
