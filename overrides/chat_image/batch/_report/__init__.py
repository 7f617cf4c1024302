"""`write_report(...)`: a batch output as one self-contained HTML page, to look at the answers.

Each item is a card (thumbnail, id, answer or parsed fields, status, finish reason, model,
tokens, latency, error); facets with counts and a search filter them. With `compare=`, two
runs are joined on id and each card says what changed. The page loads nothing from anywhere.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

import attrs

from ..._validation import check_exists, check_int
from ._page import Totals, page_head, page_tail, side, write_items
from ._records import Entry, Run, change_of, changed_fields, join, read_run
from ._thumbs import NO_PILLOW, Picture, Thumbnailer, recorded_images

__all__ = ["DEFAULT_THUMB_PX", "ReportSummary", "write_report"]

DEFAULT_THUMB_PX: Final = 256
_CHANGES: Final = ("same", "changed", "fixed", "broke", "added", "removed")
# Thumbnails made ahead of the item being written: enough to keep every core busy, few
# enough that memory stays flat over 10,000 items.
_AHEAD: Final = 64


@attrs.frozen
class ReportSummary:
    """What a written report holds: its path, the new run's counts, thumbnails made, images
    not found, lines that were not records, and (with `compare`) the count of each change."""

    path: Path
    items: int
    ok: int
    failed: int
    thumbnails: int
    missing_images: int
    unreadable_lines: int
    pillow: bool
    changes: Mapping[str, int] = attrs.field(factory=dict)


def write_report(
    output: str | os.PathLike[str],
    report: str | os.PathLike[str],
    *,
    compare: str | os.PathLike[str] | None = None,
    images: str | os.PathLike[str] | None = None,
    thumb_px: int = DEFAULT_THUMB_PX,
    title: str | None = None,
) -> ReportSummary:
    """Write the HTML page for the batch output `output` (JSONL) to `report`.

    Where an id has several lines (a resumed or --retry-failed run appends), the last one is
    its state. `compare` is an older output to set beside it, joined on id. Images are found
    where the output line says (paths as the batch read them), else in `images` (a folder,
    for files that moved); a missing one shows as missing. Thumbnails (`thumb_px` on the long
    side) need Pillow, the `images` extra; without it the cards say so. The same inputs give
    the same bytes. Raises InvalidInputError for a missing file or folder, or a bad `thumb_px`.
    """
    check_exists("output", output, "file")
    if compare is not None:
        check_exists("compare", compare, "file")
    check_exists("report", report, "parent")
    if images is not None:
        check_exists("images", images, "folder")
    check_int("thumb_px", thumb_px, minimum=16, maximum=2048)
    new = read_run(output)
    old = read_run(compare) if compare is not None else None
    if title is None:
        title = f"chat-image report: {Path(output).name}"
        if compare is not None:
            title += f" against {Path(compare).name}"
    thumbnailer = Thumbnailer(thumb_px, images, Path(output).resolve().parent)
    totals = Totals()
    changes: Counter[str] = Counter()
    made: Counter[str] = Counter()
    destination = Path(report)
    # Written beside the destination, then moved over it: an open page is never half-written.
    handle, temporary = tempfile.mkstemp(
        prefix=".report-", suffix=".html", dir=destination.resolve().parent
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            page_head(out, title=title, compare=old is not None, thumb_px=thumb_px)
            write_items(out, _items(new, old, thumbnailer, totals, changes, made))
            notes = _notes(new, old, thumbnailer, made["missing"])
            counts = {name: changes[name] for name in _CHANGES} if old is not None else None
            page_tail(out, title=title, totals=totals, changes=counts, notes=notes)
        os.chmod(temporary, 0o644)
        os.replace(temporary, destination)
    except BaseException:
        os.unlink(temporary)
        raise
    return ReportSummary(
        path=destination,
        items=totals.items,
        ok=totals.ok,
        failed=totals.failed,
        thumbnails=made["thumbnail"],
        missing_images=made["missing"],
        unreadable_lines=new.unreadable_lines + (old.unreadable_lines if old else 0),
        pillow=thumbnailer.pillow is not None,
        changes=dict(counts or {}),
    )


def _with_pictures(
    entries: Iterable[Entry], thumbnailer: Thumbnailer
) -> Iterator[tuple[Entry, list[Picture]]]:
    """Each entry with its pictures, in order, made on a few threads a little ahead."""
    workers = min(4, os.cpu_count() or 1)
    window: deque[tuple[Entry, Future[list[Picture]]]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="report") as pool:
        for entry in entries:
            paths = recorded_images(entry.new) or recorded_images(entry.old)
            window.append((entry, pool.submit(thumbnailer.pictures, entry.id, paths)))
            if len(window) >= _AHEAD:
                done, future = window.popleft()
                yield done, future.result()
        while window:
            done, future = window.popleft()
            yield done, future.result()


def _items(
    new: Run,
    old: Run | None,
    thumbnailer: Thumbnailer,
    totals: Totals,
    changes: Counter[str],
    made: Counter[str],
) -> Iterator[dict[str, Any]]:
    for entry, pictures in _with_pictures(join(new, old), thumbnailer):
        shown_new = side(entry.new)
        if shown_new is not None:
            totals.add(shown_new)
        made.update("thumbnail" if p.src is not None else p.why or "" for p in pictures)
        item: dict[str, Any] = {"id": entry.id, "thumbs": [p.as_json() for p in pictures]}
        if old is None:
            item["runs"] = [shown_new]
        else:
            change = change_of(entry)
            changes[change] += 1
            item |= {
                "change": change,
                "fields": changed_fields(entry),
                "runs": [side(entry.old), shown_new],
            }
        yield item


def _notes(new: Run, old: Run | None, thumbnailer: Thumbnailer, missing: int) -> list[str]:
    notes = []
    unreadable = new.unreadable_lines + (old.unreadable_lines if old is not None else 0)
    if unreadable:
        notes.append(f"{unreadable} line(s) of the output were not records and are left out")
    if thumbnailer.pillow is None:
        notes.append(NO_PILLOW)
    if missing:
        notes.append(f"{missing} image(s) not found; give --images DIR if they moved")
    return notes
