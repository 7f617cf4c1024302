"""`chat-image merge`: the shard outputs of one job joined into one output, each id once.

Within a file the last line of an id is its state (the journal's rule). Across files, the
same input (`input_hash`) answered twice keeps an `ok` over an error, then the newer file's;
different input for one id means the files answer different questions, and is refused
unless the caller says the newest wins. Lines are copied byte for byte, so the merged file
is an output like any other (`chat-image batch` resumes from it). Memory holds one int per
id (and the id), never the records.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from typing import Any, Final, Literal

import attrs

from .._exceptions import ChatImageError
from .._validation import check_merge_inputs, check_one_of, check_stat

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


# An id's state in the index is one int, to keep 10 million ids in about 2 GB: bit 0 `ok`,
# bit 1 "has an input hash", then the file's place (20 bits) and the line's offset in it
# (48 bits), then 64 bits of a digest of the input hash (a collision is 2**-64 per id).
_FILE_BITS: Final = 20
_OFFSET_BITS: Final = 48
_OFFSET_SHIFT: Final = 2 + _FILE_BITS
_HASH_SHIFT: Final = _OFFSET_SHIFT + _OFFSET_BITS


def _pack(file: int, offset: int, input_hash: str | None, ok: bool) -> int:
    digest = 0
    if input_hash is not None:
        digest = int.from_bytes(hashlib.blake2b(input_hash.encode(), digest_size=8).digest())
    return (
        digest << _HASH_SHIFT
        | offset << _OFFSET_SHIFT
        | file << 2
        | (input_hash is not None) << 1
        | ok
    )


def _file(entry: int) -> int:
    return (entry >> 2) & ((1 << _FILE_BITS) - 1)


def _offset(entry: int) -> int:
    return (entry >> _OFFSET_SHIFT) & ((1 << _OFFSET_BITS) - 1)


def _ok(entry: int) -> bool:
    return bool(entry & 1)


def _same_input(one: int, other: int) -> bool:
    """Equal input hashes, or one unknown (a line whose input could not be read)."""
    both_known = one & other & 2
    return not both_known or one >> _HASH_SHIFT == other >> _HASH_SHIFT


def _scan(path: str, file: int) -> tuple[dict[str, int], int]:
    """Each id's last line in one file, and how many lines were not records."""
    state: dict[str, int] = {}
    unreadable = 0
    offset = 0
    with open(path, "rb") as lines:
        for raw in lines:
            start, offset = offset, offset + len(raw)
            record = _record(raw)
            if record is None:
                unreadable += bool(raw.strip())
                continue
            input_hash = record.get("input_hash")
            state[record["id"]] = _pack(
                file,
                start,
                input_hash if isinstance(input_hash, str) else None,
                record.get("status") == "ok",
            )
    return state, unreadable


def _record(raw: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        return None
    return record


def _line(path: str, entry: int) -> bytes:
    with open(path, "rb") as source:
        source.seek(_offset(entry))
        return source.readline()


def _input_hash(path: str, entry: int) -> str:
    record = _record(_line(path, entry))
    return str(record.get("input_hash") if record is not None else None)


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
    check_one_of("--prefer", prefer, ("newest",), optional=True)
    paths = check_merge_inputs([os.fspath(path) for path in inputs], most=(1 << _FILE_BITS) - 1)
    # Newer is a later modification time; files modified at once, a later place in the list.
    age: list[tuple[int, int]] = []
    for place, path in enumerate(paths):
        age.append((check_stat("INPUT", path).st_mtime_ns, place))
    index: dict[str, int] = {}
    unreadable = in_several = replaced = 0
    for place, path in enumerate(paths):
        state, bad = _scan(path, place)
        unreadable += bad
        for item_id, entry in state.items():
            before = index.get(item_id)
            if before is None:
                index[item_id] = entry
                continue
            in_several += 1
            newer, older = (entry, before) if age[place] > age[_file(before)] else (before, entry)
            if not _same_input(entry, before):
                if prefer != "newest":
                    first = paths[_file(before)]
                    hashes = (_input_hash(first, before), _input_hash(path, entry))
                    raise MergeConflictError(item_id, first, path, hashes)
                replaced += 1
                index[item_id] = newer
            elif _ok(older) and not _ok(newer):
                index[item_id] = older  # the same question: an answer beats a failure
            else:
                index[item_id] = newer
    ok = _write(paths, index, os.fspath(output))
    return MergeSummary(len(paths), len(index), ok, in_several, replaced, unreadable)


def _write(paths: list[str], index: dict[str, int], output: str) -> int:
    """Copy the chosen lines, file by file in their order; the number of `ok` ones."""
    by_file: list[list[int]] = [[] for _ in paths]
    for entry in index.values():
        by_file[_file(entry)].append(_offset(entry))
    folder = os.path.dirname(os.path.abspath(output))
    handle, temporary = tempfile.mkstemp(prefix=".merge-", suffix=".jsonl", dir=folder)
    try:
        os.chmod(temporary, 0o644)  # an output like the runner's, not mkstemp's private one
        with os.fdopen(handle, "wb") as out:
            for path, offsets in zip(paths, by_file, strict=True):
                offsets.sort()
                with open(path, "rb") as source:
                    for offset in offsets:
                        source.seek(offset)
                        data = source.readline()
                        out.write(data if data.endswith(b"\n") else data + b"\n")
        os.replace(temporary, output)
    except BaseException:
        os.unlink(temporary)
        raise
    return sum(_ok(entry) for entry in index.values())
