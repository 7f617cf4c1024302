"""A batch run is one INTERNAL span with its counts; each item's call is its child."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.trace import SpanKind

from chat_image.batch import run_batch
from chat_image.testing import Reply
from otel_kit import Recorded, recording
from samples import noise_png


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    return recording(monkeypatch)


def test_a_batch_run_is_one_span_over_its_items_calls(server, recorded, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(5):
        (folder / f"{index}.png").write_bytes(noise_png(200 + index))
    # One item fails for good (no retries here), the others are answered.
    server.queue(Reply(status=400, message="bad image"))
    summary = asyncio.run(
        run_batch(
            folder,
            tmp_path / "out.jsonl",
            prompt="Describe.",
            model="batch-model",
            api_key=server.api_key,
            base_url=server.base_url,
            concurrency=2,
            max_retries=0,
        )
    )
    assert (summary.ok, sum(summary.failed.values())) == (4, 1)
    spans = recorded.spans()
    (batch,) = [s for s in spans if s.name == "chat_image batch"]
    calls = [s for s in spans if s.name == "chat batch-model"]
    assert batch.kind is SpanKind.INTERNAL
    assert dict(batch.attributes) == {
        "chat_image.batch.concurrency": 2,
        "chat_image.batch.total": 5,
        "chat_image.batch.ok": 4,
        "chat_image.batch.failed": 1,
        "chat_image.batch.skipped": 0,
        "chat_image.batch.not_done": 0,
        "chat_image.batch.interrupted": False,
    }
    assert len(calls) == 5
    for call in calls:
        assert call.parent.span_id == batch.context.span_id
        assert call.attributes["chat_image.request.image_count"] == 1
    assert sorted(c.attributes.get("error.type", "ok") for c in calls) == ["400", *["ok"] * 4]
    assert all(c.attributes["gen_ai.usage.output_tokens"] > 0 for c in calls if c.status.is_ok)
