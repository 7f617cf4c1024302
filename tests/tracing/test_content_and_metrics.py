"""Content only on request (images as references, never bytes, never the key), images
counted always, and the conventions' two histograms."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from chat_image import ImagePart, SystemMessage, TextPart, UserMessage
from chat_image.testing import Reply
from otel_kit import Recorded, recording
from samples import noise_png

CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
PNG = noise_png(3000)
JPEG_BYTES = b"\xff\xd8\xff\xe0" + bytes(range(200))


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    return recording(monkeypatch)


def _messages(tmp_path):
    path = tmp_path / "photo.png"
    path.write_bytes(PNG)
    data_url = "data:image/jpeg;base64," + base64.b64encode(JPEG_BYTES).decode()
    return [
        SystemMessage("Describe images."),
        UserMessage(
            [
                TextPart("What is in these?"),
                ImagePart.from_path(path),
                ImagePart.from_bytes(PNG),
                ImagePart.from_url("https://img.example/cat.png?sig=secret-token#frag"),
            ]
        ),
        {
            "role": "user",
            "content": [{"type": "image_url", "image_url": {"url": data_url}}],
        },
    ]


def _everything(span) -> str:
    """Every attribute and event of a span as text, to search for what must not be there."""
    return json.dumps(
        {
            "attributes": {
                k: list(v) if isinstance(v, tuple) else v for k, v in span.attributes.items()
            },
            "events": [{"name": e.name, **dict(e.attributes or {})} for e in span.events],
            "status": span.status.description,
            "name": span.name,
        }
    )


def test_images_are_counted_and_their_bytes_summed(server, recorded, tmp_path):
    with server.client() as client:
        client.chat.completions.create(model="m", messages=_messages(tmp_path), max_tokens=5)
    attrs = recorded.span().attributes
    assert attrs["chat_image.request.image_count"] == 4
    assert attrs["chat_image.request.image_bytes"] == 2 * len(PNG) + len(JPEG_BYTES)


def test_content_is_not_recorded_by_default(server, recorded, tmp_path):
    with server.client() as client:
        client.chat.completions.create(model="m", messages=_messages(tmp_path), max_tokens=5)
    span = recorded.span()
    assert "gen_ai.input.messages" not in span.attributes
    assert "gen_ai.output.messages" not in span.attributes
    text = _everything(span)
    assert "What is in these?" not in text
    assert "boardwalk" not in text


def test_content_capture_records_messages_and_images_as_references(
    server, recorded, tmp_path, monkeypatch
):
    monkeypatch.setenv(CAPTURE, "true")
    with server.client() as client:
        client.chat.completions.create(model="m", messages=_messages(tmp_path), max_tokens=5)
    span = recorded.span()
    sent = json.loads(span.attributes["gen_ai.input.messages"])
    assert sent[0] == {"role": "system", "parts": [{"type": "text", "content": "Describe images."}]}
    text, from_file, from_bytes, by_url = sent[1]["parts"]
    assert text == {"type": "text", "content": "What is in these?"}
    png_ref = {
        "type": "image",
        "modality": "image",
        "mime_type": "image/png",
        "size": len(PNG),
        "sha256": hashlib.sha256(PNG).hexdigest(),
    }
    assert from_file == png_ref
    assert from_bytes == png_ref
    # A URL without its query string or fragment: signed URLs carry credentials there.
    assert by_url == {"type": "uri", "modality": "image", "uri": "https://img.example/cat.png"}
    assert sent[2]["parts"] == [
        {
            "type": "image",
            "modality": "image",
            "mime_type": "image/jpeg",
            "size": len(JPEG_BYTES),
            "sha256": hashlib.sha256(JPEG_BYTES).hexdigest(),
        }
    ]
    answer = json.loads(span.attributes["gen_ai.output.messages"])
    assert answer == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "A wooden boardwalk through a green meadow."}],
            "finish_reason": "stop",
        }
    ]
    text = _everything(span)
    for image in (PNG, JPEG_BYTES):
        assert base64.b64encode(image).decode()[:40] not in text
    assert "secret-token" not in text


def test_content_capture_of_a_stream_records_the_streamed_answer(server, recorded, monkeypatch):
    monkeypatch.setenv(CAPTURE, "true")
    with server.client() as client:
        stream = client.chat.completions.create(
            model="m", messages=[UserMessage("hi")], max_tokens=5, stream=True
        )
        streamed = stream.get_final_completion().choices[0].message.content
    answer = json.loads(recorded.span().attributes["gen_ai.output.messages"])
    assert answer[0]["parts"] == [{"type": "text", "content": streamed}]


@pytest.mark.parametrize("capture", ["false", "true"])
def test_the_api_key_is_nowhere_in_the_span_even_on_failure(server, recorded, monkeypatch, capture):
    monkeypatch.setenv(CAPTURE, capture)
    server.queue(Reply(status=401, message="bad key"))
    key = server.api_key
    with server.client(max_retries=0) as client, pytest.raises(Exception, match="401"):
        client.chat.completions.create(model="m", messages=[UserMessage("hi")], max_tokens=5)
    span = recorded.span()
    assert span.attributes["error.type"] == "401"
    assert key not in _everything(span)
    assert key[-6:] not in _everything(span)


def _sum(points) -> tuple[int, float]:
    return sum(p.count for p in points), sum(p.sum for p in points)


def test_the_duration_and_token_histograms(server, recorded):
    model = "metrics-model-1"
    with server.client() as client:
        for _ in range(2):
            client.chat.completions.create(model=model, messages=[UserMessage("hi")], max_tokens=5)
    (duration,) = recorded.points("gen_ai.client.operation.duration", model)
    assert duration.count == 2
    assert 0 < duration.sum < 30
    assert duration.attributes["gen_ai.operation.name"] == "chat"
    assert duration.attributes["gen_ai.provider.name"] == "openai"
    assert duration.attributes["gen_ai.response.model"] == "gpt-4o-2024-08-06"
    assert duration.attributes["server.address"] == "127.0.0.1"
    assert "error.type" not in duration.attributes
    assert list(duration.explicit_bounds)[:3] == [0.01, 0.02, 0.04]
    tokens = {
        p.attributes["gen_ai.token.type"]: p
        for p in recorded.points("gen_ai.client.token.usage", model)
    }
    assert sorted(tokens) == ["input", "output"]
    assert (tokens["input"].count, tokens["input"].sum) == (2, 2 * 1118)
    assert (tokens["output"].count, tokens["output"].sum) == (2, 2 * 12)


def test_a_failed_call_is_measured_with_its_error_type(server, recorded):
    model = "metrics-model-2"
    server.queue(Reply(status=404))
    with server.client() as client, pytest.raises(Exception, match="404"):
        client.chat.completions.create(model=model, messages=[UserMessage("hi")], max_tokens=5)
    (duration,) = recorded.points("gen_ai.client.operation.duration", model)
    assert duration.attributes["error.type"] == "404"
    assert recorded.points("gen_ai.client.token.usage", model) == []


def test_a_stream_is_measured_with_its_usage_chunk(server, recorded):
    model = "metrics-model-3"
    with server.client() as client:
        stream = client.chat.completions.create(
            model=model,
            messages=[UserMessage("hi")],
            max_tokens=5,
            stream=True,
            stream_options={"include_usage": True},
        )
        usage = stream.get_final_completion().usage
    assert usage is not None
    (duration,) = recorded.points("gen_ai.client.operation.duration", model)
    assert duration.count == 1
    tokens = {
        p.attributes["gen_ai.token.type"]: p.sum
        for p in recorded.points("gen_ai.client.token.usage", model)
    }
    assert tokens == {"input": usage.prompt_tokens, "output": usage.completion_tokens}


def test_the_meter_provider_is_read_where_the_api_keeps_it(recorded):
    # `_compat`'s one reach into OpenTelemetry: found after an upgrade moves it, by this test.
    from opentelemetry import metrics

    from chat_image._compat import otel_meter_provider_reader

    assert otel_meter_provider_reader()() is metrics.get_meter_provider()
