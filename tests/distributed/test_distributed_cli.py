"""The installed `chat-image` against the fake gateway: `batch --shard auto` from a Kubernetes
indexed job's and a Slurm array's variables, then `merge` of the shard outputs."""

from __future__ import annotations

import os
import re
from collections import Counter

import pytest

from chat_image.batch import Shard
from chat_image.testing import FakeGateway
from cli_kit import image_folder, lines, run

ENGINE_VARIABLES = (
    "JOB_COMPLETION_INDEX",
    "CHAT_IMAGE_SHARDS",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "SLURM_ARRAY_TASK_STEP",
    "SLURM_ARRAY_TASK_COUNT",
)


@pytest.fixture(autouse=True)
def _no_job_array(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests say which job array they are in: none from the machine running them."""
    for name in ENGINE_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def batch(output: str, *args: str) -> tuple[str, ...]:
    return ("batch", "images", "-o", output, "--prompt", "p", "--model", "m", *args)


def _ids_of(shard: Shard, ids) -> set[str]:
    return {item_id for item_id in ids if item_id in shard}


def test_kubernetes_indexed_job_tasks_split_the_input(server: FakeGateway, tmp_path):
    ids = set(image_folder(tmp_path / "images", 12).values())
    seen: Counter[str] = Counter()
    for index in range(3):
        output = f"out-{index}.jsonl"
        # The count from --shards for one task, from CHAT_IMAGE_SHARDS for the others.
        extra = ("--shards", "3") if index == 0 else ()
        env = {"JOB_COMPLETION_INDEX": str(index)}
        if index:
            env["CHAT_IMAGE_SHARDS"] = "3"
        done = run(*batch(output, "--shard", "auto", *extra), url=server.url, cwd=tmp_path, **env)
        assert done.returncode == 0, done.stderr
        assert f"chat-image: shard {index + 1}/3 (JOB_COMPLETION_INDEX={index}, " in done.stderr
        got = {r["id"] for r in lines(tmp_path / output)}
        assert got == _ids_of(Shard(index + 1, 3), ids)
        seen.update(got)
    assert seen == Counter(ids)
    assert server.count == 12


def test_slurm_array_tasks_split_the_input_by_rank(server: FakeGateway, tmp_path):
    ids = set(image_folder(tmp_path / "images", 12).values())
    seen: Counter[str] = Counter()
    # sbatch --array=10-30:10: task ids 10, 20, 30.
    for rank, task in enumerate((10, 20, 30)):
        env = {
            "SLURM_ARRAY_TASK_ID": str(task),
            "SLURM_ARRAY_TASK_MIN": "10",
            "SLURM_ARRAY_TASK_MAX": "30",
            "SLURM_ARRAY_TASK_STEP": "10",
            "SLURM_ARRAY_TASK_COUNT": "3",
        }
        output = f"out-{task}.jsonl"
        done = run(*batch(output, "--shard", "auto"), url=server.url, cwd=tmp_path, **env)
        assert done.returncode == 0, done.stderr
        assert f"chat-image: shard {rank + 1}/3 (SLURM_ARRAY_TASK_ID={task}," in done.stderr
        got = {r["id"] for r in lines(tmp_path / output)}
        assert got == _ids_of(Shard(rank + 1, 3), ids)
        seen.update(got)
    assert seen == Counter(ids)


def test_an_unknown_count_exits_2_naming_shards_and_sends_nothing(server: FakeGateway, tmp_path):
    image_folder(tmp_path / "images", 2)
    done = run(
        *batch("out.jsonl", "--shard", "auto"),
        url=server.url,
        cwd=tmp_path,
        JOB_COMPLETION_INDEX="1",
    )
    assert done.returncode == 2
    assert "error: --shards: " in done.stderr
    assert server.count == 0
    assert not (tmp_path / "out.jsonl").exists()


def test_auto_outside_a_job_array_exits_2(server: FakeGateway, tmp_path):
    image_folder(tmp_path / "images", 2)
    done = run(
        *batch("out.jsonl", "--shard", "auto", "--shards", "2"), url=server.url, cwd=tmp_path
    )
    assert done.returncode == 2
    assert "JOB_COMPLETION_INDEX" in done.stderr
    assert "SLURM_ARRAY_TASK_ID" in done.stderr
    assert server.count == 0


def test_a_lone_resubmitted_slurm_task_is_refused_not_run_on_everything(
    server: FakeGateway, tmp_path
):
    image_folder(tmp_path / "images", 2)
    env = {
        "SLURM_ARRAY_TASK_ID": "3",
        "SLURM_ARRAY_TASK_MIN": "3",
        "SLURM_ARRAY_TASK_COUNT": "1",
    }
    args = batch("out.jsonl", "--shard", "auto", "--shards", "8")
    done = run(*args, url=server.url, cwd=tmp_path, **env)
    assert done.returncode == 2
    assert "--shards 8 but the Slurm array has SLURM_ARRAY_TASK_COUNT=1" in done.stderr
    assert server.count == 0


def test_dry_run_says_the_shard_too(server: FakeGateway, tmp_path):
    image_folder(tmp_path / "images", 4)
    done = run(
        *batch("out.jsonl", "--shard", "auto", "--dry-run"),
        url=server.url,
        cwd=tmp_path,
        JOB_COMPLETION_INDEX="0",
        CHAT_IMAGE_SHARDS="2",
    )
    assert done.returncode == 0, done.stderr
    assert "shard 1/2" in done.stderr
    assert server.count == 0


def test_merge_joins_three_shards(server: FakeGateway, tmp_path):
    ids = set(image_folder(tmp_path / "images", 9).values())
    for k in (1, 2, 3):
        done = run(*batch(f"out-{k}.jsonl", "--shard", f"{k}/3"), url=server.url, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    merged = run(
        "merge", "out-1.jsonl", "out-2.jsonl", "out-3.jsonl", "-o", "all.jsonl",
        url=None, cwd=tmp_path,
    )  # fmt: skip
    assert merged.returncode == 0, merged.stderr
    assert sorted(r["id"] for r in lines(tmp_path / "all.jsonl")) == sorted(ids)
    assert "merged 3 files: 9 ids (9 ok, 0 failed)" in merged.stderr
    # The merged file is an output: the whole folder against it sends nothing more.
    sent = server.count
    again = run(*batch("all.jsonl"), url=server.url, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert server.count == sent


def test_merge_refuses_an_id_answered_for_different_input(server: FakeGateway, tmp_path):
    image_folder(tmp_path / "images", 4)
    first = run(*batch("out-1.jsonl"), url=server.url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    # The same images asked another question: every id now has another input hash.
    second = run(
        "batch", "images", "-o", "out-2.jsonl", "--prompt", "q", "--model", "m",
        url=server.url, cwd=tmp_path,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    os.utime(tmp_path / "out-1.jsonl", (1_000_000, 1_000_000))  # out-2 is the newer
    refused = run("merge", "out-1.jsonl", "out-2.jsonl", "-o", "all.jsonl", url=None, cwd=tmp_path)
    assert refused.returncode == 1
    named = re.search(r"error: id '([^']+)' was answered for different input", refused.stderr)
    assert named is not None, refused.stderr
    assert named[1] in {r["id"] for r in lines(tmp_path / "out-1.jsonl")}
    assert "in out-1.jsonl and out-2.jsonl" in refused.stderr
    assert "--prefer newest" in refused.stderr
    assert not (tmp_path / "all.jsonl").exists()
    preferred = run(
        "merge", "out-1.jsonl", "out-2.jsonl", "-o", "all.jsonl", "--prefer", "newest",
        url=None, cwd=tmp_path,
    )  # fmt: skip
    assert preferred.returncode == 0, preferred.stderr
    assert lines(tmp_path / "all.jsonl") == lines(tmp_path / "out-2.jsonl")
    assert "4 replaced by newer input (--prefer newest)" in preferred.stderr


def test_merge_of_a_missing_file_exits_2(tmp_path):
    done = run("merge", "nowhere.jsonl", "-o", "all.jsonl", url=None, cwd=tmp_path)
    assert done.returncode == 2
    assert "nowhere.jsonl" in done.stderr
