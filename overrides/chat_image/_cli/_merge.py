"""`chat-image merge OUT... -o FILE`: the outputs of a batch run in shards, joined, each id once.

Exit statuses: 0 merged; 1 an id was answered for different input in two files (named, and
nothing written; `--prefer newest` takes the newest file's); 2 bad usage (a missing file).
"""

from __future__ import annotations

import argparse
from typing import TextIO

from ._common import Subcommands, fail, say

__all__ = ["add_parser", "run"]


def add_parser(commands: Subcommands, common: argparse.ArgumentParser) -> None:
    # None of the request options apply: merging reads and writes files only.
    merge = commands.add_parser(
        "merge", help="join batch outputs (shards) into one, the last state of each id"
    )
    merge.add_argument("inputs", nargs="+", metavar="OUT", help="batch outputs (JSONL)")
    merge.add_argument("--output", "-o", required=True, help="the merged output (JSONL)")
    merge.add_argument(
        "--prefer",
        choices=("newest",),
        help="for an id answered for different input in two files, keep the most recently "
        "modified file's answer (default: refuse)",
    )
    merge.add_argument("--debug", action="store_true", help="tracebacks on errors")
    merge.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..batch._merge import MergeConflictError, merge_outputs

    try:
        summary = merge_outputs(args.inputs, args.output, prefer=args.prefer)
    except MergeConflictError as exc:
        return fail(exc, args.debug, 1)
    say(
        err,
        f"merged {summary.files} files: {summary.ids} ids ({summary.ok} ok, "
        f"{summary.failed} failed) into {args.output}",
    )
    if summary.in_several:
        line = f"  {summary.in_several} ids were in more than one file"
        if summary.replaced:
            line += f"; {summary.replaced} replaced by newer input (--prefer newest)"
        err.write(line + "\n")
    if summary.unreadable_lines:
        err.write(f"  left out: {summary.unreadable_lines} lines that were not records\n")
    err.flush()
    return 0
