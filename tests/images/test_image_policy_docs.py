"""docs/image-policy.md: its examples run as written against the fake gateway."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import API_KEY

DOC = Path(__file__).resolve().parents[2] / "docs" / "image-policy.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def _setup(server, monkeypatch, tmp_path):
    from pictures import encode, upright

    monkeypatch.setenv("CHAT_IMAGE_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("CHAT_IMAGE_API_KEY", API_KEY)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "photo.jpg").write_bytes(encode(upright((400, 300)), "JPEG", orientation=6))


def _run(blocks: list[str]) -> dict[str, object]:
    """Each block on its own, as a reader would run it; their names gathered."""
    names: dict[str, object] = {}
    for index, block in enumerate(blocks):
        namespace: dict[str, object] = {}
        exec(compile(block, f"docs/image-policy.md[{index}]", "exec"), namespace)
        names.update(namespace)
    return names


@pytest.mark.pillow
def test_the_examples_run(server, monkeypatch, tmp_path, capsys):
    _setup(server, monkeypatch, tmp_path)
    blocks = [block for block in _blocks() if "from_pdf" not in block]
    assert len(blocks) == 5
    namespace = _run(blocks)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "A wooden boardwalk through a green meadow."
    assert "max_images 1 2" in out
    assert server.count == 2  # the refused call sent nothing
    assert namespace["four_images"].limits.max_images == 4  # type: ignore[attr-defined]
    assert namespace["private_bucket"].urls == "inline"  # type: ignore[attr-defined]
    assert namespace["as_taken"].metadata == "keep"  # type: ignore[attr-defined]


@pytest.mark.pillow
@pytest.mark.extras
def test_the_pdf_example_runs(server, monkeypatch, tmp_path, capsys):
    from PIL import Image

    _setup(server, monkeypatch, tmp_path)
    pages = [Image.new("RGB", (200, 100), colour) for colour in ("red", "green", "blue")]
    pages[0].save(tmp_path / "scan.pdf", "PDF", save_all=True, append_images=pages[1:])
    [pdf_block] = [block for block in _blocks() if "from_pdf" in block]
    assert pdf_block == (Path(__file__).parent / "pdf_example.py").read_text(encoding="utf-8")
    _run([pdf_block])
    content = server.last.json["messages"][0]["content"]
    assert [part["type"] for part in content] == ["text", "image_url", "image_url"]
