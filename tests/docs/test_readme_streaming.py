"""The README's streaming section runs, as written, against a local server that streams."""

from __future__ import annotations

import re
from pathlib import Path

from chat_image.testing import FakeGateway, Reply
from conftest import API_KEY
from streams import USAGE, WORDS, answer_events

README = Path(__file__).resolve().parents[2] / "README.md"


def _streaming_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Streaming", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def _serve(server: FakeGateway, monkeypatch) -> None:
    monkeypatch.setenv("CHAT_IMAGE_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("CHAT_IMAGE_API_KEY", API_KEY)
    server.default = Reply(
        stream_body=answer_events(usage=True), headers={"x-request-id": "req_stream"}
    )


def test_the_sync_block_streams_and_prints_the_final_completion(server, monkeypatch, capsys):
    _serve(server, monkeypatch)
    exec(compile(_streaming_blocks()[0], "README.md[streaming]", "exec"), {})
    assert capsys.readouterr().out.splitlines() == [
        "".join(WORDS),
        f"stop {USAGE['total_tokens']}",
        "req_stream",
    ]
    assert server.last.json["stream_options"] == {"include_usage": True}


def test_the_async_block_accumulates(server, monkeypatch, capsys):
    _serve(server, monkeypatch)
    exec(compile(_streaming_blocks()[1], "README.md[streaming async]", "exec"), {})
    assert capsys.readouterr().out == "".join(WORDS) + "\n"
    assert server.last.json["stream"] is True


def test_the_failure_table_names_real_errors():
    import chat_image

    section = README.read_text(encoding="utf-8").split("## Streaming", 1)[1].split("\n## ")[0]
    named = set(re.findall(r"`(API\w+Error)`", section))
    assert named >= {"APIStatusError", "APIResponseValidationError", "APIConnectionError"}
    for name in named:
        assert issubclass(getattr(chat_image, name), chat_image.APIError)
