"""`--shard auto`: which part of the input this task of a job array takes, from its engine.

A Kubernetes indexed job numbers its pods from 0 in `JOB_COMPLETION_INDEX` but does not tell
them how many there are (`--shards N` or `CHAT_IMAGE_SHARDS` says). A Slurm array tells both:
the task's rank is `(SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP` and
the count `SLURM_ARRAY_TASK_COUNT`. Either becomes the `Shard` K/N (K from 1) of `--shard K/N`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import attrs

from .._validation import SHARDS_ENV, check_shard
from ._items import Shard

__all__ = ["SHARDS_ENV", "ChosenShard", "resolve_shard"]


@attrs.frozen
class ChosenShard:
    """The shard a run takes and where it came from, for the line the command prints."""

    shard: Shard
    source: str

    def describe(self) -> str:
        return f"shard {self.shard.index}/{self.shard.count} ({self.source})"


def resolve_shard(
    spec: str, shards: int | None = None, environ: Mapping[str, str] | None = None
) -> ChosenShard:
    """`--shard K/N`, or `--shard auto` from the job array's environment (`os.environ` unless
    given); `shards` is `--shards N`. InvalidInputError names what is missing or wrong: the
    count (`--shards`) when the engine does not tell it."""
    index, count, source = check_shard(spec, shards, os.environ if environ is None else environ)
    return ChosenShard(Shard(index, count), source)
