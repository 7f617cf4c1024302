"""The README's tool-calling example runs, as written, against the fake gateway."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chat_image.testing import FakeGateway, ToolCaller, tool_call
from conftest import API_KEY

README = Path(__file__).resolve().parents[2] / "README.md"


def _block() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Tool calling and whole conversations", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    return block


def test_the_tool_loop_runs(
    server: FakeGateway, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHAT_IMAGE_BASE_URL", server.base_url)
    monkeypatch.setenv("CHAT_IMAGE_API_KEY", API_KEY)
    server.responder = ToolCaller(tool_call("get_weather", {"city": "Paris"}))
    exec(compile(_block(), "README.md[tools]", "exec"), {})
    assert capsys.readouterr().out == "Tool results: 18 C, sunny\n"
    first, second = server.requests
    assert first.json["tools"][0]["function"]["name"] == "get_weather"
    assert [m["role"] for m in second.json["messages"]] == ["user", "assistant", "tool"]
    assert second.refusal is None
