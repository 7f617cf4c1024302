"""The output JSONL as a journal: what is done, written so that a crash loses nothing finished.

Each finished item is one line, written by a single `os.write` on a file opened for
appending, so it is in the operating system's hands (and survives `kill -9`) as soon as the
call returns. A crash during that call can leave a torn last line: the next run cuts it off
before appending. The last line written for an id is its state.

An output that cannot be a journal is refused before anything is sent: a directory, a
missing folder, a read-only file system, or an existing file whose lines are not answer
lines (someone's `results.json`, left untouched). A FIFO, a terminal or standard output
(`-`) is written to as a stream, without resuming. A write that fails mid-run (a full disk)
is cut back to the last whole line and raised as `OutputWriteError`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import sys
from collections.abc import Mapping
from typing import Any, Final

import attrs

from .._exceptions import ChatImageError, InvalidInputError
from ._output import encode_line

__all__ = ["STDOUT", "Done", "Journal", "JournalBusyError", "OutputWriteError", "read_state"]

# The output name that means standard output.
STDOUT: Final = "-"
_FIELD: Final = "output"
# How every line this runner writes starts: a torn last line is ours only if it starts so.
_LINE_START: Final = b'{"id":'


class JournalBusyError(ChatImageError):
    """Another run is appending to the same output file."""


class OutputWriteError(ChatImageError):
    """The output could not be written mid-run (a full disk, say); lines before it are whole."""


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


def _refused(path: str, problem: str) -> InvalidInputError:
    return InvalidInputError(_FIELD, f"{path!r} {problem}")


def _unwritable(path: str, exc: OSError) -> InvalidInputError:
    if exc.errno == errno.EISDIR:
        return _refused(path, "is a directory")
    if exc.errno == errno.ENOENT:
        return _refused(path, "is in a folder that does not exist")
    return _refused(path, f"cannot be written: {exc.strerror or exc}")


def _is_stream(path: str) -> bool:
    """Whether `path` is written as a stream (no resume): `-`, a FIFO, a terminal, a device."""
    if path == STDOUT:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _scan(path: str) -> _Scan:
    scan = _Scan()
    if _is_stream(path):
        return scan  # nothing to resume from, and reading a FIFO would wait for a writer
    try:
        file = open(path, "rb")  # noqa: SIM115 - closed below; absent is an empty journal
    except FileNotFoundError:
        return scan
    except OSError as exc:
        raise _unwritable(path, exc) from None
    with file:
        offset = 0
        for number, raw in enumerate(file, start=1):
            offset += len(raw)
            record = _record(raw)
            last = not raw.endswith(b"\n")
            if number == 1 and record is None and not (last and raw.startswith(_LINE_START)):
                # Someone's results.json: appending would change a file this run does not
                # own. (After a first answer line the file is ours: a line that cannot be
                # read later on is counted, and the rest resumed.)
                raise _refused(
                    path,
                    "is not a batch output (its first line is not an answer line), so it is "
                    "left untouched: give a new file, or the output of an earlier run",
                )
            if last:
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
    except (ValueError, RecursionError):
        return None
    if (
        not isinstance(record, dict)
        or not isinstance(record.get("id"), str)
        or not isinstance(record.get("status"), str)
    ):
        return None
    return record


def _remember(state: dict[str, Done], record: Mapping[str, Any]) -> None:
    input_hash = record.get("input_hash")
    state[record["id"]] = Done(
        str(record.get("status")), input_hash if isinstance(input_hash, str) else None
    )


def read_state(path: str | os.PathLike[str]) -> dict[str, Done]:
    """Each id's last outcome in the output, without changing the file (for --dry-run).

    Raises InvalidInputError when the file exists and is not a batch output."""
    return _scan(os.fspath(path)).state


class Journal:
    """The output file, opened for appending whole lines; `state` is what it held when opened
    (not updated by `append`: a run takes each id once, and memory stays flat).

    Raises InvalidInputError (field `output`) when it cannot be one, JournalBusyError when
    another run writes it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.stream = _is_stream(self.path)
        scan = _scan(self.path)
        self.state = scan.state
        self.unreadable_lines = scan.unreadable_lines
        self.repaired = False
        self._fd = _open_stream(self.path) if self.stream else _open_file(self.path)
        try:
            if not self.stream:
                _lock(self._fd, self.path)
                self.repaired = _repair(self._fd, self.path, scan)
            # Where the last whole line ends: a failed write is cut back to it.
            self._end = os.lseek(self._fd, 0, os.SEEK_END) if not self.stream else 0
        except BaseException:
            os.close(self._fd)
            raise

    def append(self, record: Mapping[str, Any]) -> None:
        """Write one finished item's line (`_output.encode_line`) whole, or raise
        OutputWriteError with the file cut back to its last whole line."""
        line = encode_line(record)
        view = memoryview(line)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as exc:
            if not self.stream:
                # If even that fails, the next run cuts the torn line off.
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, self._end)
            reason = exc.strerror or str(exc)
            raise OutputWriteError(f"cannot write to {self.path!r}: {reason}") from None
        self._end += len(line)

    def close(self) -> None:
        os.close(self._fd)


def _open_file(path: str) -> int:
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError as exc:
        raise _unwritable(path, exc) from None


def _open_stream(path: str) -> int:
    """A descriptor writing to standard output, a FIFO or a device, without waiting."""
    if path == STDOUT:
        return os.dup(1)
    try:
        # O_NONBLOCK: opening a FIFO no process reads fails at once (ENXIO) instead of waiting.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise _refused(path, "is a FIFO that no process reads") from None
        raise _unwritable(path, exc) from None
    os.set_blocking(fd, True)  # then a slow reader slows the run down, as a pipe should
    return fd


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
