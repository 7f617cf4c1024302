"""Reading a batch output for the report: the last line of an id wins, and two runs join."""

from __future__ import annotations

import pytest
from report_kit import write_lines

from chat_image.batch._report._records import (
    Entry,
    change_of,
    changed_fields,
    join,
    read_run,
    sort_key,
)


def ok(content: str = "A cat.", **extra) -> dict:
    return {"status": "ok", "content": content, **extra}


def error(kind: str = "RateLimitError", code: int | None = 429) -> dict:
    return {"status": "error", "error": {"type": kind, "message": "no", "status_code": code}}


def test_the_last_line_of_an_id_wins_and_other_lines_are_counted(tmp_path):
    path = write_lines(
        tmp_path / "out.jsonl",
        [
            {"id": "a", **error()},
            {"id": "b", **ok("first")},
            {"id": "a", **ok("after --retry-failed")},
        ],
    )
    with path.open("a") as out:
        out.write(
            'not json\n["a list"]\n{"id": 7}\n\n{"id": "b", "status": "ok", "content": "last"}'
        )
    run = read_run(path)
    assert run.records["a"]["content"] == "after --retry-failed"
    assert run.records["b"]["content"] == "last"  # a last line without its newline counts
    assert run.unreadable_lines == 3


def test_ids_sort_as_a_person_reads_them():
    ids = ["img10.png", "img2.png", "b/1.png", "img1.png", "a"]
    assert sorted(ids, key=sort_key) == ["a", "b/1.png", "img1.png", "img2.png", "img10.png"]


def test_join_takes_every_id_of_both_runs_in_order(tmp_path):
    new = read_run(
        write_lines(tmp_path / "new.jsonl", [{"id": "x2", **ok()}, {"id": "x10", **ok()}])
    )
    old = read_run(
        write_lines(tmp_path / "old.jsonl", [{"id": "x1", **ok()}, {"id": "x2", **ok()}])
    )
    entries = list(join(new, old))
    assert [e.id for e in entries] == ["x1", "x2", "x10"]
    assert entries[0].new is None
    assert entries[2].old is None
    assert [e.id for e in join(new, None)] == ["x2", "x10"]


@pytest.mark.parametrize(
    ("old", "new", "change"),
    [
        (ok("A cat."), ok("A cat.\n"), "same"),  # white space at the ends does not count
        (ok("A cat."), ok("A dog."), "changed"),
        (error(), ok(), "fixed"),
        (ok(), error(), "broke"),
        (None, ok(), "added"),
        (ok(), None, "removed"),
        (None, error(), "added"),
        (error(), error(), "same"),
        (error("RateLimitError"), error("APITimeoutError", None), "changed"),
        (ok("{}", parsed={"n": 1}), ok("{ }", parsed={"n": 1}), "same"),
        (ok("x", parsed={"n": 1}), ok("x", parsed={"n": 2}), "changed"),
    ],
)
def test_each_pair_of_lines_is_classified(old, new, change):
    assert change_of(Entry("id", old, new)) == change


def test_changed_fields_are_those_of_parsed_answers_that_differ():
    old = ok(parsed={"total": 3, "currency": "EUR", "gone": 1})
    new = ok(parsed={"total": 30, "currency": "EUR", "new": True})
    assert changed_fields(Entry("r", old, new)) == ["total", "new", "gone"]
    assert changed_fields(Entry("r", ok("a"), ok("b"))) == []
    assert changed_fields(Entry("r", None, new)) == []
