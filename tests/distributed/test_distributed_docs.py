"""docs/distributed.md's commands work as written: the Kubernetes manifest and the Slurm
script run `chat-image batch` (with --dry-run, on a folder made here) in their engine's
variables, the merge example merges; the Ray example names the mapper's real arguments (and
runs in the tests-ray session: test_ray_example.py)."""

from __future__ import annotations

import ast
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from chat_image.ray import ChatImageMapper
from chat_image.testing import FakeGateway
from cli_kit import image_folder, run

PAGE = Path(__file__).parents[2] / "docs" / "distributed.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)


def _batch_args(command: str) -> list[str]:
    """The arguments after `chat-image`, with the input folder and output made local."""
    words = shlex.split(command.replace("\\\n", " "))
    words = words[words.index("chat-image") + 1 :]
    words[1] = "photos"
    out = words.index("-o") + 1
    words[out] = "out.jsonl"
    return words


@pytest.fixture(autouse=True)
def _no_job_array(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JOB_COMPLETION_INDEX", "CHAT_IMAGE_SHARDS", "SLURM_ARRAY_TASK_ID"):
        monkeypatch.delenv(name, raising=False)


def test_the_kubernetes_manifest_runs_shard_auto(server: FakeGateway, tmp_path):
    [manifest] = [yaml.safe_load(block) for block in _blocks("yaml")]
    spec = manifest["spec"]
    assert spec["completionMode"] == "Indexed"
    container = spec["template"]["spec"]["containers"][0]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert int(env["CHAT_IMAGE_SHARDS"]) == spec["completions"]
    image_folder(tmp_path / "photos", 16)
    args = _batch_args(container["args"][0].replace("$JOB_COMPLETION_INDEX", "2"))
    done = run(
        *args,
        "--dry-run",
        url=server.url,
        cwd=tmp_path,
        JOB_COMPLETION_INDEX="2",
        CHAT_IMAGE_SHARDS=env["CHAT_IMAGE_SHARDS"],
    )
    assert done.returncode == 0, done.stderr
    assert f"shard 3/{spec['completions']}" in done.stderr


def test_the_slurm_script_runs_shard_auto(server: FakeGateway, tmp_path):
    script = next(block for block in _blocks("bash") if "#SBATCH --array=" in block)
    first, last = map(int, re.search(r"--array=(\d+)-(\d+)", script).groups())
    command = script[script.index("chat-image batch") :]
    image_folder(tmp_path / "photos", 16)
    done = run(
        *_batch_args(command),
        "--dry-run",
        url=server.url,
        cwd=tmp_path,
        SLURM_ARRAY_TASK_ID=str(first + 1),
        SLURM_ARRAY_TASK_MIN=str(first),
        SLURM_ARRAY_TASK_MAX=str(last),
        SLURM_ARRAY_TASK_STEP="1",
        SLURM_ARRAY_TASK_COUNT=str(last - first + 1),
    )
    assert done.returncode == 0, done.stderr
    assert f"shard 2/{last - first + 1}" in done.stderr


def test_the_merge_example_merges_two_shards_into_every_image(server: FakeGateway, tmp_path):
    [block] = [block for block in _blocks("console") if "chat-image merge" in block]
    ids = set(image_folder(tmp_path / "photos", 8).values())
    for line in block.splitlines():
        words = shlex.split(line.removeprefix("$ "))
        assert words[0] == "chat-image"
        done = run(*words[1:], url=server.url, cwd=tmp_path, CHAT_IMAGE_MODEL="m")
        assert done.returncode == 0, done.stderr
    merged = [json.loads(line) for line in (tmp_path / "answers.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in merged) == sorted(ids)
    assert server.count == 8


def test_the_ray_example_uses_the_mappers_arguments():
    [example] = [block for block in _blocks("python") if "map_batches" in block]
    tree = ast.parse(example)
    kwargs = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.keyword) and node.arg == "fn_constructor_kwargs"
    )
    names = {ast.literal_eval(key) for key in kwargs.value.keys}
    # Every key is one the mapper takes, and the mapper is made from them.
    arguments = dict.fromkeys(names, 1)
    arguments |= {"model": "m", "prompt": "p", "max_tokens": 5, "rpm": 600.0}
    ChatImageMapper(**arguments)
