"""docs/tracing.md's example runs as written and prints the span it promises."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from chat_image.testing import FakeGateway

PAGE = Path(__file__).parents[2] / "docs" / "tracing.md"


def test_the_example_makes_a_chat_span_under_the_callers_span():
    (example,) = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)
    # The console exporter prints each span as JSON when the provider shuts down.
    program = example + "\nprovider.shutdown()\n"
    with FakeGateway() as gateway:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "CHAT_IMAGE_BASE_URL": gateway.base_url,
            "CHAT_IMAGE_API_KEY": gateway.api_key,
        }
        out = subprocess.run(
            [sys.executable, "-c", program],
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
