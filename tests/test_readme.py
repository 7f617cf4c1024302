"""The README's quickstart runs, as written, against a local server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import API_KEY
from loopback import LoopbackServer

README = Path(__file__).resolve().parent.parent / "README.md"


def _quickstart_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_readme_has_a_typed_and_a_dict_quickstart():
    blocks = _quickstart_blocks()
    assert len(blocks) == 2
    assert "UserMessage(" in blocks[0]
    assert '"role": "user"' in blocks[1]


@pytest.mark.parametrize("index", [0, 1])
def test_quickstart_block_runs(index, server: LoopbackServer, monkeypatch, capsys):
    monkeypatch.setenv("CHAT_IMAGE_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("CHAT_IMAGE_API_KEY", API_KEY)
    exec(compile(_quickstart_blocks()[index], f"README.md[{index}]", "exec"), {})
    assert "A wooden boardwalk" in capsys.readouterr().out
    assert server.last.path == "/v1/chat/completions"
    assert server.last.json()["messages"][-1]["role"] == "user"
