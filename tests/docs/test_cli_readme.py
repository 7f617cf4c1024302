"""The README's "On the command line" section runs, as written, against a local server."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from chat_image.testing import FakeGateway
from cli_kit import image_folder, lines, png, run
from conftest import API_KEY

README = Path(__file__).resolve().parents[2] / "README.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("## On the command line", 1)[1].split("\n## ", 1)[0]


def _commands() -> list[tuple[list[str], str]]:
    """Each `$ chat-image ...` line with the output shown under it."""
    found = []
    for block in re.findall(r"```console\n(.*?)```", _section(), flags=re.DOTALL):
        lines_ = block.splitlines()
        for index, line in enumerate(lines_):
            if line.startswith("$ chat-image "):
                shown = []
                for after in lines_[index + 1 :]:
                    if after.startswith("$ "):
                        break
                    shown.append(after)
                found.append((shlex.split(line[2:])[1:], "\n".join(shown)))
    return found


def test_the_console_examples_run(server: FakeGateway, tmp_path):
    (tmp_path / "cat.png").write_bytes(png(20, 20))
    image_folder(tmp_path / "photos", 3)
    commands = _commands()
    assert [args[0] for args, _ in commands] == ["ask", "batch"]
    for args, shown in commands:
        done = run(*args, url=server.url, cwd=tmp_path, CHAT_IMAGE_MODEL="gpt-4o")
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == shown.strip()
    assert len(lines(tmp_path / "answers.jsonl")) == 3
    assert server.count == 4


def test_the_python_example_runs(server: FakeGateway, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("CHAT_IMAGE_BASE_URL", server.url)
    monkeypatch.setenv("CHAT_IMAGE_API_KEY", API_KEY)
    monkeypatch.chdir(tmp_path)
    image_folder(tmp_path / "photos", 2)
    block = re.findall(r"```python\n(.*?)```", _section(), flags=re.DOTALL)[0]
    exec(compile(block, "README.md[batch]", "exec"), {})
    assert capsys.readouterr().out.split() == ["2", "0", "0"]
    assert {r["status"] for r in lines(tmp_path / "answers.jsonl")} == {"ok"}
