"""`--shard auto`: the shard a job array's task takes, from Kubernetes' or Slurm's variables."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat_image import InvalidInputError
from chat_image.batch import Shard
from chat_image.batch._shards import resolve_shard


def test_kubernetes_index_counts_from_zero_and_needs_the_count():
    chosen = resolve_shard("auto", 4, {"JOB_COMPLETION_INDEX": "0"})
    assert chosen.shard == Shard(1, 4)
    assert chosen.describe() == "shard 1/4 (JOB_COMPLETION_INDEX=0, --shards 4)"
    from_env = resolve_shard("auto", None, {"JOB_COMPLETION_INDEX": "3", "CHAT_IMAGE_SHARDS": "4"})
    assert from_env.shard == Shard(4, 4)
    assert "CHAT_IMAGE_SHARDS=4" in from_env.source
    # --shards wins over the environment.
    environ = {"JOB_COMPLETION_INDEX": "2", "CHAT_IMAGE_SHARDS": "4"}
    assert resolve_shard("auto", 8, environ).shard == Shard(3, 8)


def test_kubernetes_without_a_count_names_shards():
    with pytest.raises(InvalidInputError, match=r"^--shards: .*JOB_COMPLETION_INDEX=2"):
        resolve_shard("auto", None, {"JOB_COMPLETION_INDEX": "2"})


def test_kubernetes_index_past_the_count_is_refused():
    with pytest.raises(InvalidInputError, match=r"^--shard: auto: task 5 of 4"):
        resolve_shard("auto", 4, {"JOB_COMPLETION_INDEX": "4"})


def test_slurm_rank_is_from_min_and_step():
    # --array=10-40:10 -> task ids 10, 20, 30, 40: the third task is shard 3/4.
    environ = {
        "SLURM_ARRAY_TASK_ID": "30",
        "SLURM_ARRAY_TASK_MIN": "10",
        "SLURM_ARRAY_TASK_STEP": "10",
        "SLURM_ARRAY_TASK_COUNT": "4",
    }
    chosen = resolve_shard("auto", None, environ)
    assert chosen.shard == Shard(3, 4)
    assert chosen.source == (
        "SLURM_ARRAY_TASK_ID=30, SLURM_ARRAY_TASK_MIN=10, SLURM_ARRAY_TASK_STEP=10, "
        "SLURM_ARRAY_TASK_COUNT=4"
    )


def test_slurm_array_from_one_without_a_step():
    environ = {"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "1"}
    environ["SLURM_ARRAY_TASK_COUNT"] = "5"
    assert resolve_shard("auto", None, environ).shard == Shard(1, 5)


@given(
    first=st.integers(0, 1000),
    step=st.integers(1, 50),
    count=st.integers(1, 200),
    data=st.data(),
)
def test_slurm_ranks_cover_each_shard_once(first, step, count, data):
    rank = data.draw(st.integers(0, count - 1))
    environ = {
        "SLURM_ARRAY_TASK_ID": str(first + rank * step),
        "SLURM_ARRAY_TASK_MIN": str(first),
        "SLURM_ARRAY_TASK_STEP": str(step),
        "SLURM_ARRAY_TASK_COUNT": str(count),
    }
    assert resolve_shard("auto", None, environ).shard == Shard(rank + 1, count)


def test_slurm_ids_off_the_step_are_refused():
    environ = {
        "SLURM_ARRAY_TASK_ID": "7",
        "SLURM_ARRAY_TASK_MIN": "1",
        "SLURM_ARRAY_TASK_STEP": "4",
        "SLURM_ARRAY_TASK_COUNT": "3",
    }
    with pytest.raises(InvalidInputError, match=r"^--shard: auto: SLURM_ARRAY_TASK_ID=7 is not"):
        resolve_shard("auto", None, environ)


def test_slurm_count_disagreeing_with_shards_is_refused():
    environ = {"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_MIN": "0"}
    environ["SLURM_ARRAY_TASK_COUNT"] = "1"
    with pytest.raises(InvalidInputError, match=r"^--shards: --shards 10 but the Slurm array"):
        resolve_shard("auto", 10, environ)


def test_slurm_without_a_count_takes_shards():
    environ = {"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "0"}
    assert resolve_shard("auto", 3, environ).shard == Shard(3, 3)
    with pytest.raises(InvalidInputError, match=r"^--shards: auto: SLURM_ARRAY_TASK_COUNT"):
        resolve_shard("auto", None, environ)


def test_no_engine_is_refused_naming_both_variables():
    with pytest.raises(InvalidInputError) as caught:
        resolve_shard("auto", 4, {})
    assert caught.value.field == "--shard"
    assert "JOB_COMPLETION_INDEX" in str(caught.value)
    assert "SLURM_ARRAY_TASK_ID" in str(caught.value)


@pytest.mark.parametrize(
    ("shards", "environ", "field"),
    [
        (0, {"JOB_COMPLETION_INDEX": "0"}, "--shards"),
        (None, {"JOB_COMPLETION_INDEX": "0", "CHAT_IMAGE_SHARDS": "many"}, "CHAT_IMAGE_SHARDS"),
        (4, {"JOB_COMPLETION_INDEX": "-1"}, "JOB_COMPLETION_INDEX"),
        (None, {"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "2"}, "SLURM_ARRAY_TASK_ID"),
    ],
)
def test_bad_values_name_their_variable(shards, environ, field):
    with pytest.raises(InvalidInputError) as caught:
        resolve_shard("auto", shards, environ)
    assert caught.value.field == field


def test_an_explicit_shard_is_parsed_and_checked_against_shards():
    assert resolve_shard("2/5", None, {"JOB_COMPLETION_INDEX": "0"}).shard == Shard(2, 5)
    assert resolve_shard("2/5", 5, {}).describe() == "shard 2/5 (--shard 2/5)"
    with pytest.raises(InvalidInputError, match=r"^--shards: --shards 4 but --shard says 2/5"):
        resolve_shard("2/5", 4, {})
