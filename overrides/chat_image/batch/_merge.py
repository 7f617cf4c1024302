"""`chat-image merge`: the shard outputs of one job joined into one output, each id once.

Within a file the last line of an id is its state (the journal's rule). Across files, the
same input (`input_hash`) answered twice keeps an `ok` over an error, then the newer file's;
different input for one id means the files answer different questions, and is refused
unless the caller says the newest wins. Lines are copied byte for byte, so the merged file
is an output like any other (`chat-image batch` resumes from it). Memory holds an index entry
per id, never the records.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from typing import Final, Literal

import attrs

from .._errors import ChatImageError, InvalidInputError

__all__ = ["MergeConflictError", "MergeSummary", "merge_outputs"]

Prefer = Literal["newest"]
_HASH_SHOWN: Final = 19  # "sha256:" and the first 12 hex digits


class MergeConflictError(ChatImageError):
    """One id was answered for different input (its `input_hash` differs) in two files."""

    def __init__(self, item_id: str, first: str, second: str, hashes: tuple[str, str]) -> None:
        self.item_id = item_id
        self.files = (first, second)
        shown = " vs ".join(h[:_HASH_SHOWN] + "..." for h in hashes)
        super().__init__(
            f"id {item_id!r} was answered for different input in {first} and {second} "
            f"(input_hash {shown}); --prefer newest keeps the newest file's answer"
        )


@attrs.frozen
class MergeSummary:
    """What a merge wrote: `ids` lines (`ok` of them ok), from `files` files; `in_several`
    ids were in more than one, `replaced` of those for newer input; lines that were not
    records (a torn last line, say) are counted in `unreadable_lines`."""

    files: int
    ids: int
    ok: int
    in_several: int
    replaced: int
    unreadable_lines: int

    @property
    def failed(self) -> int:
        return self.ids - self.ok


@attrs.frozen
class _Line:
    """Where an id's state is, and what decides between two of them."""

    file: int
    offset: int
    length: int
    input_hash: str | None
    ok: bool


def _scan(path: str, file: int) -> tuple[dict[str, _Line], int]:
    """Each id's last line in one file, and how many lines were not records."""
    state: dict[str, _Line] = {}
    unreadable = 0
    offset = 0
    with open(path, "rb") as lines:
        for raw in lines:
            start, offset = offset, offset + len(raw)
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                unreadable += 1
                continue
            item_id = record.get("id") if isinstance(record, dict) else None
            if not isinstance(item_id, str):
                unreadable += 1
                continue
            input_hash = record.get("input_hash")
            state[item_id] = _Line(
                file,
                start,
                len(raw),
                input_hash if isinstance(input_hash, str) else None,
                record.get("status") == "ok",
            )
    return state, unreadable


def merge_outputs(
    inputs: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    prefer: Prefer | None = None,
) -> MergeSummary:
    """Write the last state of each id in `inputs` (batch outputs, JSONL) to `output`.

    Raises MergeConflictError for an id answered for different input in two files, unless
    `prefer="newest"` (the most recently modified file's answer wins); InvalidInputError
    for a missing input or a bad argument. `output` is replaced whole, never half written.
    """
    if prefer not in (None, "newest"):
        raise InvalidInputError("--prefer", f"expected 'newest', got {prefer!r}")
    paths = [os.fspath(path) for path in inputs]
    if not paths:
        raise InvalidInputError("INPUT", "no output files to merge")
    # Newer is a later modification time; files modified at once, a later place in the list.
    age: list[tuple[int, int]] = []
    for place, path in enumerate(paths):
        try:
            age.append((os.stat(path).st_mtime_ns, place))
        except OSError as exc:
            raise InvalidInputError("INPUT", f"{path!r}: {exc.strerror or exc}") from None
    index: dict[str, _Line] = {}
    unreadable = in_several = replaced = 0
    for place, path in enumerate(paths):
        state, bad = _scan(path, place)
        unreadable += bad
        for item_id, line in state.items():
            before = index.get(item_id)
            if before is None:
                index[item_id] = line
                continue
            in_several += 1
            newer = line if age[line.file] > age[before.file] else before
            older = before if newer is line else line
            ours, theirs = line.input_hash, before.input_hash
            if ours is not None and theirs is not None and ours != theirs:
                if prefer != "newest":
                    raise MergeConflictError(item_id, paths[before.file], path, (theirs, ours))
                replaced += 1
                index[item_id] = newer
            elif older.ok and not newer.ok:
                index[item_id] = older  # the same question: an answer beats a failure
            else:
                index[item_id] = newer
    ok = _write(paths, index, os.fspath(output))
    return MergeSummary(len(paths), len(index), ok, in_several, replaced, unreadable)


def _write(paths: list[str], index: dict[str, _Line], output: str) -> int:
    """Copy the chosen lines, file by file in their order; the number of `ok` ones."""
    by_file: list[list[_Line]] = [[] for _ in paths]
    for line in index.values():
        by_file[line.file].append(line)
    folder = os.path.dirname(os.path.abspath(output))
    handle, temporary = tempfile.mkstemp(prefix=".merge-", suffix=".jsonl", dir=folder)
    try:
        os.chmod(temporary, 0o644)  # an output like the runner's, not mkstemp's private one
        with os.fdopen(handle, "wb") as out:
            for path, chosen in zip(paths, by_file, strict=True):
                chosen.sort(key=lambda line: line.offset)
                with open(path, "rb") as source:
                    for line in chosen:
                        source.seek(line.offset)
                        data = source.read(line.length)
                        out.write(data if data.endswith(b"\n") else data + b"\n")
        os.replace(temporary, output)
    except BaseException:
        os.unlink(temporary)
        raise
    return sum(line.ok for line in index.values())
