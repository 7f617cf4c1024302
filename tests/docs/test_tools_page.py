"""The tool-calling guide's loop runs, as written, against a gateway playing a tool user."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chat_image.testing import FakeGateway, ToolCaller, tool_call
from conftest import API_KEY

PAGE = Path(__file__).resolve().parents[2] / "docs" / "tools.md"


def _block() -> str:
    (block,) = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.DOTALL)
    return block


def test_the_tool_loop_runs(
    server: FakeGateway, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHAT_IMAGE_BASE_URL", server.base_url)
    monkeypatch.setenv("CHAT_IMAGE_API_KEY", API_KEY)
    server.responder = ToolCaller(tool_call("get_weather", {"city": "Paris"}))
    exec(compile(_block(), "docs/tools.md", "exec"), {})
    assert capsys.readouterr().out == "Tool results: 18 C, sunny\n"
    first, second = server.requests
    assert first.json["tools"][0]["function"]["name"] == "get_weather"
    assert [m["role"] for m in second.json["messages"]] == ["user", "assistant", "tool"]
    assert second.refusal is None
