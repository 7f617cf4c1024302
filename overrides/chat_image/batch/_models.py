"""The batch runner's value types: its options, its running counts and its summary."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping

import attrs

from .._images.limits import ImagePolicy
from .._models.content import ImageDetail

__all__ = ["BatchSummary", "Progress", "RunOptions"]


@attrs.define
class Progress:
    """Counts so far, passed to `on_progress` after each item (mutable: do not keep it)."""

    total: int | None = None
    done: int = 0
    ok: int = 0
    failed: Counter[str] = attrs.field(factory=Counter)
    skipped: int = 0
    # Of the skipped, those whose last answer was an error (redone with retry_failed).
    skipped_failed: int = 0
    redone_changed: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    started: float = attrs.field(factory=time.monotonic)

    @property
    def failures(self) -> int:
        return sum(self.failed.values())


@attrs.frozen
class BatchSummary:
    """How a run ended. `skipped` counts items already in the output; `problems` what was not
    an item (files that are not images, invalid manifest lines)."""

    total: int
    ok: int
    failed: Mapping[str, int]
    skipped: int
    skipped_failed: int
    redone_changed: int
    not_done: int
    tokens_in: int
    tokens_out: int
    wall_s: float
    slowdowns: int
    repaired: bool
    interrupted: bool
    problems: int
    bad_input: int
    # Why the output stopped taking lines mid-run (a full disk, say), or None.
    output_error: str | None = None

    @property
    def failures(self) -> int:
        return sum(self.failed.values())


@attrs.frozen
class RunOptions:
    """What the run applies to every item unless the item says otherwise."""

    prompt: str | None
    system: str | None
    model: str | None
    max_tokens: int
    detail: ImageDetail | None
    resize: bool
    retry_failed: bool
    # `--schema`: answers are parsed into this (see `chat_image._structured`); None: prose.
    response_format: object = None
    # Issue 18: the image policy (None: the client's default) and the PDF pages to send.
    images: ImagePolicy | None = None
    pdf_pages: str | None = None
