"""The output JSONL as a journal: what is done, written so that a crash loses nothing finished.

Each finished item is one line, written by a single `os.write` on a file opened for
appending, so it is in the operating system's hands (and survives `kill -9`) as soon as the
call returns. A crash during that call can leave a torn last line: the next run cuts it off
before appending. The last line written for an id is its state.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from typing import Any

import attrs

from .._exceptions import ChatImageError

__all__ = ["Done", "Journal", "JournalBusyError", "read_state"]


class JournalBusyError(ChatImageError):
    """Another run is appending to the same output file."""


@attrs.frozen
class Done:
    """An id's last recorded outcome: `ok` or `error`, for input with this hash."""

    status: str
    input_hash: str | None


@attrs.define
class _Scan:
    state: dict[str, Done] = attrs.field(factory=dict)
    # Where the last whole line ends: anything after it is a torn line.
    good_end: int = 0
    torn: bool = False
    unreadable_lines: int = 0


def _scan(path: str) -> _Scan:
    scan = _Scan()
    try:
        file = open(path, "rb")  # noqa: SIM115 - closed below; absent is an empty journal
    except FileNotFoundError:
        return scan
    with file:
        offset = 0
        for raw in file:
            offset += len(raw)
            record = _record(raw)
            if not raw.endswith(b"\n"):
                # Only the last line can lack its newline: cut off by a crash mid-write,
                # unless it is whole and only the newline is missing.
                scan.torn = record is None
                if record is not None:
                    _remember(scan.state, record)
                    scan.good_end = offset
                break
            scan.good_end = offset
            if record is None:
                scan.unreadable_lines += 1
            else:
                _remember(scan.state, record)
    return scan


def _record(raw: bytes) -> Mapping[str, Any] | None:
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        return None
    return record


def _remember(state: dict[str, Done], record: Mapping[str, Any]) -> None:
    input_hash = record.get("input_hash")
    state[record["id"]] = Done(
        str(record.get("status")), input_hash if isinstance(input_hash, str) else None
    )


def read_state(path: str | os.PathLike[str]) -> dict[str, Done]:
    """Each id's last outcome in the output, without changing the file (for --dry-run)."""
    return _scan(os.fspath(path)).state


class Journal:
    """The output file, opened for appending whole lines; `state` is what it held when opened
    (not updated by `append`: a run takes each id once, and memory stays flat)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        scan = _scan(self.path)
        self.state = scan.state
        self.unreadable_lines = scan.unreadable_lines
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            _lock(self._fd, self.path)
            self.repaired = _repair(self._fd, self.path, scan)
        except BaseException:
            os.close(self._fd)
            raise

    def append(self, record: Mapping[str, Any]) -> None:
        """Write one finished item as one whole line."""
        data = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def close(self) -> None:
        os.close(self._fd)


def _repair(fd: int, path: str, scan: _Scan) -> bool:
    """Cut a torn last line off (or end a whole one with its newline); True if either."""
    if scan.torn:
        os.truncate(path, scan.good_end)
        return True
    size = os.fstat(fd).st_size
    if size:
        with open(path, "rb") as file:
            file.seek(size - 1)
            if file.read(1) != b"\n":
                os.write(fd, b"\n")
                return True
    return False


def _lock(fd: int, path: str) -> None:
    if sys.platform == "win32":  # pragma: no cover - no flock; one run per file is on the user
        return
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise JournalBusyError(f"{path!r} is being written by another run") from None
