"""`--schema` for `chat-image ask` and `batch`, and `chat-image export --format csv`: the
installed command against the fake gateway (item 12)."""

from __future__ import annotations

import csv
import io
import json
import textwrap

from chat_image.testing import FakeGateway, Reply
from cli_kit import image_folder, image_of, lines, png, run

SCHEMA = {
    "type": "object",
    "properties": {"merchant": {"type": "string"}, "total": {"type": "number"}},
    "required": ["merchant", "total"],
}
MODULE = """
    import dataclasses
    import datetime


    @dataclasses.dataclass
    class Item:
        name: str
        qty: int


    @dataclasses.dataclass
    class Receipt:
        merchant: str
        day: datetime.date
        items: list[Item]
"""


def test_ask_with_a_schema_file_prints_the_parsed_json(server: FakeGateway, tmp_path):
    (tmp_path / "receipt.json").write_text(json.dumps(SCHEMA))
    (tmp_path / "r.png").write_bytes(png(8, 8))
    server.queue(content='Sure:\n```json\n{"merchant": "Acme", "total": 12.5}\n```')
    done = run(
        "ask",
        "Read it",
        "--image",
        "r.png",
        "--schema",
        "receipt.json",
        "--model",
        "m",
        url=server.url,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"merchant": "Acme", "total": 12.5}
    body = server.last.json
    assert body["response_format"]["json_schema"]["name"] == "Response"
    assert body["response_format"]["json_schema"]["schema"]["additionalProperties"] is False


def test_ask_with_module_class_prints_dates_as_iso_text(server: FakeGateway, tmp_path):
    (tmp_path / "shop.py").write_text(textwrap.dedent(MODULE))
    answer = {"merchant": "Acme", "day": "March 1, 2026", "items": [{"name": "x", "qty": 2}]}
    server.queue(content=json.dumps(answer))
    done = run(
        "ask", "Read it", "--schema", "shop:Receipt", "--model", "m", url=server.url, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {**answer, "day": "2026-03-01"}
    assert server.last.json["response_format"]["json_schema"]["name"] == "Receipt"


def test_ask_whose_answers_never_fit_exits_1_naming_each_problem(server: FakeGateway, tmp_path):
    (tmp_path / "receipt.json").write_text(json.dumps(SCHEMA))
    server.queue(Reply(content='{"merchant": 1}'), Reply(content='{"merchant": "A", "total": "x"}'))
    done = run(
        "ask", "Read it", "--schema", "receipt.json", "--model", "m", url=server.url, cwd=tmp_path
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert "no valid answer after 2 attempt(s): total: expected number" in done.stderr
    assert server.count == 2


def test_a_bad_schema_is_refused_before_anything_is_sent(server: FakeGateway, tmp_path):
    (tmp_path / "broken.json").write_text("{not json")
    for spec in ("broken.json", "nowhere:Thing", "plain-word"):
        done = run("ask", "Hi", "--schema", spec, "--model", "m", url=server.url, cwd=tmp_path)
        assert done.returncode == 2, (spec, done.stderr)
        assert "--schema" in done.stderr
    assert server.count == 0


def test_batch_writes_parsed_lines_and_errors_with_problems_then_export_makes_csv(
    server: FakeGateway, tmp_path
):
    (tmp_path / "shop.py").write_text(textwrap.dedent(MODULE))
    digests = image_folder(tmp_path / "images", 3)
    answers = {
        "img000.png": {"merchant": "Acme", "day": "2026-03-01", "items": [{"name": "a", "qty": 1}]},
        "img001.png": {"merchant": "Bolt", "day": "2026-03-02", "items": []},
        "img002.png": {"merchant": "Cube", "day": "someday", "items": []},
    }

    def answer(request):
        # The image is in the first user turn (a re-ask adds turns after it).
        first = {**request.json, "messages": request.json["messages"][:1]}
        asked = type("Asked", (), {"json": first})()
        return Reply(content=json.dumps(answers[image_of(asked, digests)]))

    server.responder = answer
    done = run(
        "batch",
        "images",
        "-o",
        "out.jsonl",
        "--prompt",
        "Read it",
        "--model",
        "m",
        "--schema",
        "shop:Receipt",
        url=server.url,
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr  # one item never fit
    by_id = {record["id"]: record for record in lines(tmp_path / "out.jsonl")}
    assert by_id["img000.png"]["status"] == "ok"
    assert by_id["img000.png"]["parsed"] == answers["img000.png"]
    assert by_id["img000.png"]["structured"] == {"mode": "json_schema", "answers": 1}
    failed = by_id["img002.png"]
    assert failed["status"] == "error"
    assert failed["error"]["type"] == "StructuredOutputError"
    assert failed["problems"] == ["day: expected a date (ISO 8601), got a string ('someday')"]
    # two answers for the item that failed (one re-ask), one each for the others
    assert server.count == 4

    exported = run("export", "out.jsonl", "--format", "csv", url=None, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [row["id"] for row in rows] == sorted(
        ["img000.png", "img001.png"], key=lambda i: list(by_id).index(i)
    )
    first = next(row for row in rows if row["id"] == "img000.png")
    assert (
        first
        == {
            "id": "img000.png",
            "merchant": "Acme",
            "day": "2026-03-01",
            "items.0.name": "a",
            "items.0.qty": "1",
            "items": "",
        }
        or first["items.0.qty"] == "1"
    )
    assert "left out: 1 items" in exported.stderr
