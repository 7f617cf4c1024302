"""Without the `otel` extra nothing changes and nothing of OpenTelemetry is imported; with it
and no SDK the spans are non-recording and the request is sent as before.

Each check runs a fresh interpreter: this process has the SDK installed by other tests.
The extra's absence is made by a meta-path finder refusing every `opentelemetry` import,
as a Python without the package would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from chat_image.testing import FakeGateway

BLOCK_OTEL = """
import sys
from importlib.abc import MetaPathFinder

class NoOpenTelemetry(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoOpenTelemetry())
"""

CALL = """
from chat_image import ChatImage, UserMessage
with ChatImage(base_url={url!r}, api_key={key!r}{client_args}) as c:
    answer = c.chat.completions.create(model="m", messages=[UserMessage("Hi")], max_tokens=5)
    with c.chat.completions.create(
        model="m", messages=[UserMessage("Hi")], max_tokens=5, stream=True
    ) as stream:
        assert stream.get_final_completion().choices[0].message.content
assert answer.choices[0].message.content
"""


def run(code: str) -> dict[str, object]:
    """Run `code` in a fresh interpreter; what it left in `result`, and the modules loaded."""
    program = (
        code
        + "\nimport json, sys\n"
        + "print(json.dumps({'modules': sorted(sys.modules), "
        + "'result': globals().get('result')}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", program],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout
    return json.loads(out.splitlines()[-1])


def otel_modules(modules: object) -> list[str]:
    assert isinstance(modules, list)
    return [m for m in modules if m == "opentelemetry" or m.startswith("opentelemetry.")]


def test_the_otel_extra_is_installed_here():
    # The rest of this file means something only if the extra is there to be blocked.
    assert otel_modules(run("import opentelemetry.trace")["modules"])


def test_without_the_extra_calls_and_streams_work_and_import_no_opentelemetry():
    with FakeGateway() as gateway:
        out = run(
            BLOCK_OTEL + CALL.format(url=gateway.base_url, key=gateway.api_key, client_args="")
        )
        assert gateway.count == 2
        assert all("traceparent" not in r.headers for r in gateway.requests)
    assert otel_modules(out["modules"]) == []
    assert "chat_image._tracing._otel" not in out["modules"]


def test_without_the_extra_asking_for_tracing_by_name_says_what_to_install():
    out = run(
        BLOCK_OTEL
        + textwrap.dedent(
            """
            from chat_image import ChatImage, MissingExtraError
            try:
                ChatImage(base_url="http://127.0.0.1:9", api_key="sk-unused-key", tracing=True)
            except MissingExtraError as exc:
                result = str(exc)
            """
        )
    )
    assert "pip install 'chat-image[otel]'" in str(out["result"])
    assert otel_modules(out["modules"]) == []


def test_with_the_extra_import_chat_image_loads_no_opentelemetry():
    assert otel_modules(run("import chat_image")["modules"]) == []
    assert otel_modules(run("from chat_image import *")["modules"]) == []


def test_tracing_off_by_environment_imports_no_opentelemetry():
    with FakeGateway() as gateway:
        code = "import os\nos.environ['CHAT_IMAGE_TRACING'] = '0'\n" + CALL.format(
            url=gateway.base_url, key=gateway.api_key, client_args=""
        )
        out = run(code)
    assert otel_modules(out["modules"]) == []


@pytest.mark.parametrize("client_args", ["", ", tracing=True"])
def test_with_the_extra_and_no_sdk_spans_do_not_record_and_no_header_is_added(client_args):
    with FakeGateway() as gateway:
        code = (
            CALL.format(url=gateway.base_url, key=gateway.api_key, client_args=client_args)
            + """
from opentelemetry import trace
span = trace.get_tracer("x").start_span("probe")
result = [span.is_recording(), type(c._tracing).__name__]
"""
        )
        out = run(code)
        assert gateway.count == 2
        assert all("traceparent" not in r.headers for r in gateway.requests)
    assert out["result"] == [False, "OtelTracing"]
    assert "chat_image._tracing._otel" in out["modules"]
