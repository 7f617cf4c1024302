"""`chat-image export`: a batch's JSONL output as a table (`--format csv`), parsed fields as
columns with nested paths dotted (`items.0.price`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from ._common import UsageError, say

__all__ = ["add_parser", "run"]


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    export = commands.add_parser(
        "export", help="a batch's JSONL output (made with --schema) as CSV, one row per item"
    )
    export.add_argument("input", metavar="OUT.jsonl", help="what `chat-image batch` wrote")
    export.add_argument("--format", choices=("csv",), default="csv", help="csv (the default)")
    export.add_argument("--output", "-o", help="write here instead of stdout")
    export.add_argument("--debug", action="store_true", help="tracebacks on errors")
    export.set_defaults(run=run)


def _latest_lines(path: Path) -> dict[str, dict[str, Any]]:
    """Each item's last line (a resumed or redone item has several), in first-seen order."""
    latest: dict[str, dict[str, Any]] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise UsageError(f"{path}:{number}: not a JSON line") from None
        if isinstance(record, dict) and isinstance(record.get("id"), str):
            latest[record["id"]] = record
    return latest


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .._structured.flatten import flatten, rows_to_csv

    path = Path(args.input)
    if not path.is_file():
        raise UsageError(f"{args.input!r}: no such file")
    rows = []
    left_out = 0
    for item_id, record in _latest_lines(path).items():
        if record.get("status") != "ok" or "parsed" not in record:
            left_out += 1
            continue
        rows.append({"id": item_id, **flatten(record["parsed"])})
    text = rows_to_csv(rows, leading=["id"])
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8", newline="")
    else:
        out.write(text)
        out.flush()
    if left_out:
        say(
            err,
            f"left out: {left_out} items with no parsed answer (errors, or made without --schema)",
        )
    return 0
