"""`chat-image report OUT.jsonl -o report.html`: a batch's answers as one page to look at.

With `--compare OLD.jsonl`, two runs side by side. Writes one self-contained HTML file and
sends nothing anywhere; exit status 0 when written, 2 for bad usage or input.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

from .._exceptions import InvalidInputError
from .._validation import relabel
from ._common import Subcommands, UsageError, say

if TYPE_CHECKING:
    from ..batch import ReportSummary

__all__ = ["add_parser", "run"]


def add_parser(commands: Subcommands, common: argparse.ArgumentParser) -> None:
    """`report`: it neither sends nor needs a key, so it takes none of `common`'s options."""
    report = commands.add_parser(
        "report",
        help="write an HTML page of a batch's answers (--compare: beside an earlier run)",
        description=(
            "Write one self-contained HTML page (it loads nothing from anywhere) with a card "
            "per item of a batch output, facets and a search. Where an id has several lines, "
            "the last one wins."
        ),
    )
    report.add_argument("output", metavar="OUT.jsonl", help="what `chat-image batch` wrote")
    report.add_argument(
        "-o", "--html", metavar="PATH", help="the page to write (default: OUT.jsonl as .html)"
    )
    report.add_argument(
        "--compare", metavar="OLD.jsonl", help="an earlier output: each card says what changed"
    )
    report.add_argument("--images", metavar="DIR", help="where the images are, if they moved")
    report.add_argument(
        "--thumb-px",
        type=int,
        help="thumbnails' longer side in pixels (default: 256; thumbnails need Pillow)",
    )
    report.add_argument("--title", help="the page's title (default: from the file names)")
    report.add_argument("--debug", action="store_true", help="tracebacks on errors")
    report.set_defaults(run=run)


# write_report's argument names, as this command spells them.
_ARGUMENTS: Final = {
    "output": "OUT.jsonl",
    "html": "-o",
    "compare": "--compare",
    "images": "--images",
    "thumb_px": "--thumb-px",
    "title": "--title",
}


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # Imported here, as `batch` does: `chat-image ask` does not load the batch package.
    from ..batch import write_report

    output = Path(args.output)
    html = Path(args.html) if args.html else output.with_suffix(".html")
    if html.resolve() == output.resolve() or (
        args.compare is not None and html.resolve() == Path(args.compare).resolve()
    ):
        raise UsageError(f"-o {str(html)!r} would overwrite an input; name another file")
    # write_report's own default when --thumb-px is not given.
    options: dict[str, Any] = {} if args.thumb_px is None else {"thumb_px": args.thumb_px}
    try:
        summary = write_report(
            output,
            html,
            compare=args.compare,
            images=args.images,
            title=args.title,
            **options,
        )
    except InvalidInputError as exc:
        # write_report's argument names, as this command's arguments and options.
        raise relabel(exc, _ARGUMENTS.get(exc.field, exc.field)) from None
    say(err, _described(summary))
    return 0


def _described(summary: ReportSummary) -> str:
    text = f"wrote {summary.path}: {summary.items} items ({summary.ok} ok, {summary.failed} failed)"
    if summary.changes:
        text += "; " + ", ".join(f"{name} {count}" for name, count in summary.changes.items())
    if not summary.pillow:
        text += "; no thumbnails (Pillow is not installed: pip install 'chat-image[images]')"
    else:
        text += f"; {summary.thumbnails} thumbnails"
    if summary.missing_images:
        text += f"; {summary.missing_images} images not found (--images DIR if they moved)"
    if summary.unreadable_lines:
        text += f"; {summary.unreadable_lines} lines were not records"
    return text
