"""`--dry-run`: count the items and estimate their input tokens; send and write nothing.

Image sizes come from the files' headers, so a dry run over 10,000 images reads a few
bytes of each and needs neither Pillow nor the network.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import attrs

from .._models.messages import is_url
from ._estimate import estimate_file_tokens, estimate_text_tokens
from ._items import BatchItem, InputProblem, Shard, iter_input
from ._journal import read_state

__all__ = ["DryRunReport", "dry_run"]


@attrs.frozen
class DryRunReport:
    """What a run would do. Tokens are estimates (see `estimate_text_tokens`)."""

    items: int
    already_ok: int
    to_send: int
    images: int
    unsized_images: int
    input_tokens: int
    max_output_tokens: int
    problems: int
    bad_input: int


def dry_run(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str] | None,
    *,
    prompt: str | None,
    system: str | None = None,
    detail: str | None = None,
    max_tokens: int,
    shard: Shard | None = None,
    on_problem: Callable[[InputProblem], object] | None = None,
) -> DryRunReport:
    """Count and estimate what `run_batch` would send (items already `ok` are not counted).
    `on_problem` is told of each input skipped (a file that is not an image, say)."""
    state = read_state(output) if output is not None else {}
    items = already_ok = images = unsized = tokens = out_tokens = problems = bad = 0
    for entry in iter_input(source, shard):
        if not isinstance(entry, BatchItem):
            problems += 1
            bad += entry.bad_input
            if on_problem is not None:
                on_problem(entry)
            continue
        items += 1
        before = state.get(entry.id)
        if before is not None and before.status == "ok":
            # Without reading the images, the input hash is unknown: counted as done.
            already_ok += 1
            continue
        texts = [text for text in (system, entry.prompt or prompt) if text]
        tokens += estimate_text_tokens(texts)
        out_tokens += entry.max_tokens or max_tokens
        for image in entry.images:
            images += 1
            image_detail = entry.detail or detail
            estimate = None if is_url(image) else estimate_file_tokens(image, image_detail)
            if estimate is None:
                unsized += 1
            else:
                tokens += estimate
    return DryRunReport(
        items, already_ok, items - already_ok, images, unsized, tokens, out_tokens, problems, bad
    )
