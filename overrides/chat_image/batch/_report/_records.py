"""The batch output as the report sees it: each id's last line, and two runs joined on id."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

import attrs

__all__ = ["Entry", "Run", "change_of", "changed_fields", "join", "read_run", "sort_key"]

# How an id sorts: digit runs as numbers, so img2 comes before img10.
_DIGITS: Final = re.compile(r"(\d+)")


@attrs.frozen
class Run:
    """One output file: each id's last line (a resumed or --retry-failed run appends, and
    the last line written for an id is its state), and the lines that were not records."""

    records: Mapping[str, Mapping[str, Any]]
    unreadable_lines: int


def read_run(path: str | os.PathLike[str]) -> Run:
    """Read an output JSONL; lines that are not a JSON object with a string `id` are counted."""
    records: dict[str, Mapping[str, Any]] = {}
    unreadable = 0
    with open(path, "rb") as lines:
        for raw in lines:
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                unreadable += 1
                continue
            if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                unreadable += 1
                continue
            # Popped first, so the id sits where its last line puts it (order is by id anyway).
            records.pop(record["id"], None)
            records[record["id"]] = record
    return Run(records, unreadable)


def sort_key(item_id: str) -> tuple[tuple[int, int | str], ...]:
    """Ids in a person's order: `img2` before `img10`, the same on every run."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(item_id) if part
    )


@attrs.frozen
class Entry:
    """One card: the id, its record in the old run (compare only) and in the new one."""

    id: str
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None


def join(new: Run, old: Run | None) -> Iterator[Entry]:
    """Every id of either run, in `sort_key` order; without `old`, the new run's ids alone."""
    ids = set(new.records) | (set(old.records) if old is not None else set())
    for item_id in sorted(ids, key=lambda i: (sort_key(i), i)):
        yield Entry(
            item_id,
            old.records.get(item_id) if old is not None else None,
            new.records.get(item_id),
        )


def _ok(record: Mapping[str, Any]) -> bool:
    return record.get("status") == "ok"


def _parsed(record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    parsed = record.get("parsed")
    return parsed if isinstance(parsed, dict) else None


def _answer(record: Mapping[str, Any]) -> object:
    parsed = _parsed(record)
    if parsed is not None:
        return parsed
    content = record.get("content")
    return content.strip() if isinstance(content, str) else content


def _error_kind(record: Mapping[str, Any]) -> tuple[object, object]:
    error = record.get("error")
    if not isinstance(error, dict):
        return (None, None)
    return (error.get("type"), error.get("status_code"))


def change_of(entry: Entry) -> str:
    """`same`, `changed`, `fixed` (error, now ok), `broke` (ok, now error), `added` (only in
    the new run) or `removed` (only in the old one).

    Two answers are the same when their parsed fields are equal, or (without parsed fields)
    their texts are equal but for leading and trailing white space; two errors are the same
    when their type and HTTP status are.
    """
    old, new = entry.old, entry.new
    if old is None:
        return "added"
    if new is None:
        return "removed"
    if _ok(old) != _ok(new):
        return "fixed" if _ok(new) else "broke"
    if _ok(new):
        return "same" if _answer(old) == _answer(new) else "changed"
    return "same" if _error_kind(old) == _error_kind(new) else "changed"


def changed_fields(entry: Entry) -> list[str]:
    """The parsed fields whose values differ, when both runs have parsed fields."""
    if entry.old is None or entry.new is None:
        return []
    old, new = _parsed(entry.old), _parsed(entry.new)
    if old is None or new is None:
        return []
    keys = list(new) + [key for key in old if key not in new]
    return [key for key in keys if key not in old or key not in new or old[key] != new[key]]
