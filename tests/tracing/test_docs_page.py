"""docs/tracing.md's example (examples/tracing_console.py, which the page quotes: the docs
tests check they are the same) runs and prints the span it promises. In a process of its
own: it sets OpenTelemetry's global tracer provider, which cannot be set twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from chat_image.testing import FakeGateway

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "tracing_console.py"


def test_the_page_quotes_the_example():
    page = (ROOT / "docs" / "tracing.md").read_text()
    assert "<!-- docs-test: same-as examples/tracing_console.py -->\n```python\n" in page
    assert EXAMPLE.read_text() in page


def test_the_example_makes_a_chat_span_under_the_callers_span():
    # The console exporter prints each span as JSON when the provider shuts down at exit.
    with FakeGateway() as gateway:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "CHAT_IMAGE_BASE_URL": gateway.base_url,
            "CHAT_IMAGE_API_KEY": gateway.api_key,
        }
        out = subprocess.run(
            [sys.executable, str(EXAMPLE)],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        ).stdout
        assert gateway.count == 1
        assert "traceparent" in gateway.last.headers
    decoder = json.JSONDecoder()
    spans, index = [], 0
    while (start := out.find("{", index)) != -1:
        span, index = decoder.raw_decode(out, start)
        spans.append(span)
    by_name = {span["name"]: span for span in spans}
    chat, parent = by_name["chat gpt-4o"], by_name["describe photo"]
    assert chat["kind"] == "SpanKind.CLIENT"
    assert chat["parent_id"] == parent["context"]["span_id"]
    assert chat["attributes"]["gen_ai.usage.output_tokens"] > 0
