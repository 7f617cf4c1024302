"""`--shard auto`: which part of the input this task of a job array takes, from its engine.

A Kubernetes indexed job numbers its pods from 0 in `JOB_COMPLETION_INDEX` but does not tell
them how many there are (`--shards N` or `CHAT_IMAGE_SHARDS` says). A Slurm array tells both:
the task's rank is `(SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP` and
the count `SLURM_ARRAY_TASK_COUNT`. Either becomes the `Shard` K/N (K from 1) of `--shard K/N`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

import attrs

from .._exceptions import InvalidInputError
from ._items import Shard, parse_shard

__all__ = ["SHARDS_ENV", "ChosenShard", "resolve_shard"]

SHARDS_ENV: Final = "CHAT_IMAGE_SHARDS"
_K8S_INDEX: Final = "JOB_COMPLETION_INDEX"
_SLURM_ID: Final = "SLURM_ARRAY_TASK_ID"
_SLURM_MIN: Final = "SLURM_ARRAY_TASK_MIN"
_SLURM_STEP: Final = "SLURM_ARRAY_TASK_STEP"
_SLURM_COUNT: Final = "SLURM_ARRAY_TASK_COUNT"


@attrs.frozen
class ChosenShard:
    """The shard a run takes and where it came from, for the line the command prints."""

    shard: Shard
    source: str

    def describe(self) -> str:
        return f"shard {self.shard.index}/{self.shard.count} ({self.source})"


def _integer(name: str, text: str, *, minimum: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise InvalidInputError(name, f"expected an integer >= {minimum}, got {text!r}")
    return value


def _shard_count(shards: int | None, environ: Mapping[str, str]) -> tuple[int, str] | None:
    if shards is not None:
        if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
            raise InvalidInputError("--shards", f"expected a positive integer, got {shards!r}")
        return shards, f"--shards {shards}"
    text = environ.get(SHARDS_ENV, "").strip()
    if not text:
        return None
    return _integer(SHARDS_ENV, text, minimum=1), f"{SHARDS_ENV}={text}"


def _slurm(environ: Mapping[str, str], count: tuple[int, str] | None) -> ChosenShard:
    task = _integer(_SLURM_ID, environ[_SLURM_ID], minimum=0)
    first = _integer(_SLURM_MIN, environ.get(_SLURM_MIN) or str(task), minimum=0)
    step = _integer(_SLURM_STEP, environ.get(_SLURM_STEP) or "1", minimum=1)
    offset = task - first
    if offset < 0 or offset % step:
        raise InvalidInputError(
            "--shard",
            f"auto: {_SLURM_ID}={task} is not {_SLURM_MIN}={first} plus a multiple of "
            f"{_SLURM_STEP}={step} (an array given as a list?); give --shard K/N",
        )
    rank = offset // step
    tasks = environ.get(_SLURM_COUNT, "").strip()
    if tasks:
        total = _integer(_SLURM_COUNT, tasks, minimum=1)
        if count is not None and count[0] != total:
            raise InvalidInputError(
                "--shards",
                f"{count[1]} but the Slurm array has {_SLURM_COUNT}={total} tasks; "
                "give --shard K/N to run one part of a larger split",
            )
        source = f"{_SLURM_ID}={task}, {_SLURM_MIN}={first}, {_SLURM_STEP}={step}, "
        source += f"{_SLURM_COUNT}={total}"
    elif count is not None:
        total = count[0]
        source = f"{_SLURM_ID}={task}, {count[1]}"
    else:
        raise InvalidInputError(
            "--shards", f"auto: {_SLURM_COUNT} is not set; give --shards N (or {SHARDS_ENV})"
        )
    return _checked(rank, total, source)


def _checked(rank: int, total: int, source: str) -> ChosenShard:
    if rank >= total:
        raise InvalidInputError(
            "--shard", f"auto: task {rank + 1} of {total} is past the last shard ({source})"
        )
    return ChosenShard(Shard(rank + 1, total), source)


def resolve_shard(
    spec: str, shards: int | None = None, environ: Mapping[str, str] | None = None
) -> ChosenShard:
    """`--shard K/N`, or `--shard auto` from the job array's environment (`os.environ` unless
    given); `shards` is `--shards N`. InvalidInputError names what is missing or wrong: the
    count (`--shards`) when the engine does not tell it."""
    environ = os.environ if environ is None else environ
    count = _shard_count(shards, environ) if spec == "auto" or shards is not None else None
    if spec != "auto":
        shard = parse_shard(spec)
        if count is not None and count[0] != shard.count:
            raise InvalidInputError("--shards", f"{count[1]} but --shard says {spec}")
        return ChosenShard(shard, f"--shard {spec}")
    if environ.get(_SLURM_ID, "").strip():
        return _slurm(environ, count)
    index = environ.get(_K8S_INDEX, "").strip()
    if index:
        position = _integer(_K8S_INDEX, index, minimum=0)
        if count is None:
            raise InvalidInputError(
                "--shards",
                f"auto: {_K8S_INDEX}={position} says which shard, not how many; give "
                f"--shards N (the job's completions) or set {SHARDS_ENV}",
            )
        return _checked(position, count[0], f"{_K8S_INDEX}={position}, {count[1]}")
    raise InvalidInputError(
        "--shard",
        f"auto: neither {_K8S_INDEX} (a Kubernetes indexed job) nor {_SLURM_ID} (a Slurm "
        "array) is set; give --shard K/N",
    )
