"""docs/structured-output.md: its examples (examples/structured_*.py, shown on the page as
they are: tests/docs checks the text) run against the fake gateway with answers that make
them print what the page says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chat_image.testing import FakeGateway, Reply

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "structured-output.md"
EXAMPLES = ("receipt", "invoice", "outcomes", "stream")
RECEIPT = {
    "merchant": "Acme",
    "day": "2026-03-01",
    "total": 12.5,
    "items": [{"name": "bread", "qty": 2, "price": 6.25}],
}


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def example(name: str) -> str:
    return (ROOT / "examples" / f"structured_{name}.py").read_text(encoding="utf-8")


def test_the_page_shows_each_example_as_it_is():
    shown = blocks()
    assert len(shown) == 5
    assert shown[:4] == [example(name) for name in EXAMPLES]
    assert "def test_" in shown[4]  # run by pytest in tests/docs


@pytest.fixture
def gateway(monkeypatch):
    with FakeGateway() as server:
        monkeypatch.setenv("CHAT_IMAGE_BASE_URL", server.base_url)
        monkeypatch.setenv("CHAT_IMAGE_API_KEY", server.api_key)
        yield server
    if server.errors:
        raise server.errors[0]


def test_every_example_runs_in_order(gateway, capsys):
    pytest.importorskip("pydantic")
    dataclass_block, pydantic_block, errors_block, stream_block = map(example, EXAMPLES)
    namespace: dict = {}

    gateway.queue(content=f"```json\n{json.dumps(RECEIPT)}\n```")
    exec(
        compile(dataclass_block, "structured-output.md[dataclass]", "exec", dont_inherit=True),
        namespace,
    )
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "Acme 2026-03-01 12.5",
        f"json_schema 1 {namespace['completion'].usage.total_tokens}",
    ]
    assert gateway.last.json["response_format"]["json_schema"]["name"] == "Receipt"
    assert gateway.last.json["messages"][0]["content"][1]["type"] == "image_url"

    gateway.queue(content='{"number": "17", "amount": 250, "paid": false}')
    exec(
        compile(pydantic_block, "structured-output.md[pydantic]", "exec", dont_inherit=True),
        {},
    )
    assert capsys.readouterr().out == "number='17' amount=250.0 paid=False\n"

    gateway.queue(content='{"merchant": "Acme", "total": 12', finish_reason="length")
    exec(compile(errors_block, "structured-output.md[errors]", "exec", dont_inherit=True), {})
    assert capsys.readouterr().out == ("cut off; complete so far: {'merchant': 'Acme'}\n")
    gateway.queue(Reply(content="not json"), Reply(content='{"merchant": 1}'))
    exec(compile(errors_block, "structured-output.md[errors]", "exec", dont_inherit=True), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "['(root): the answer has no JSON']"
    assert "merchant: expected a string" in printed[1]
    assert printed[2].startswith('2 {"merchant": 1} Usage(')

    text = json.dumps(RECEIPT)
    gateway.queue(Reply(content=text, chunks=[text[i : i + 9] for i in range(0, len(text), 9)]))
    exec(compile(stream_block, "structured-output.md[stream]", "exec", dont_inherit=True), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1].startswith("Receipt(merchant='Acme'")
    assert "{'merchant': 'Acme'" in printed[-2]
