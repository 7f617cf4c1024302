"""Progress for `chat-image batch`: a tqdm bar on a terminal, else a plain line now and then.

tqdm (the `cli` extra) is imported only when a terminal is there to draw on; without it, or
when stderr is a file or a pipe (CI logs, `nohup`), one line every few seconds says the same.
"""

from __future__ import annotations

import time
from typing import Any, Final, TextIO

from ._runner import Progress

__all__ = ["ProgressReporter"]

PLAIN_EVERY_S: Final = 5.0


def _rate(progress: Progress) -> float:
    elapsed = time.monotonic() - progress.started
    return progress.done / elapsed if elapsed > 0 else 0.0


class ProgressReporter:
    """`update(progress)` after each item; `close()` at the end."""

    def __init__(self, stream: TextIO, *, every: float = PLAIN_EVERY_S) -> None:
        self._stream = stream
        self._every = every
        self._last = time.monotonic()
        self._bar: Any = None
        if stream.isatty():
            try:
                from tqdm import tqdm
            except ImportError:
                pass
            else:
                self._bar = tqdm(file=stream, unit="item", dynamic_ncols=True, desc="batch")

    def update(self, progress: Progress) -> None:
        if self._bar is not None:
            self._bar.total = progress.total
            self._bar.n = progress.done
            self._bar.set_postfix(
                errors=progress.failures,
                tokens=f"{progress.tokens_in}/{progress.tokens_out}",
                refresh=False,
            )
            self._bar.refresh()
            return
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            self._stream.write(self.line(progress) + "\n")
            self._stream.flush()

    @staticmethod
    def line(progress: Progress) -> str:
        """`batch: 120/1000 (118 ok, 2 failed, 0 skipped), 12.3 items/s, ETA 72 s, ...`"""
        rate = _rate(progress)
        total = "?" if progress.total is None else str(progress.total)
        eta = ""
        if progress.total is not None and rate > 0:
            eta = f", ETA {(progress.total - progress.done) / rate:.0f} s"
        return (
            f"batch: {progress.done}/{total} ({progress.ok} ok, {progress.failures} failed, "
            f"{progress.skipped} skipped), {rate:.1f} items/s{eta}, "
            f"tokens {progress.tokens_in} in / {progress.tokens_out} out"
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
