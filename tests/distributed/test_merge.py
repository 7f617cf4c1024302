"""`merge_outputs`: shard outputs joined, the last state of each id kept, different input
for one id refused unless the newest is preferred."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from chat_image import InvalidInputError
from chat_image.batch import parse_shard, run_batch
from chat_image.batch._merge import MergeConflictError, merge_outputs
from chat_image.testing import FakeGateway
from cli_kit import image_folder, lines
from conftest import API_KEY


def _record(item_id: str, status: str = "ok", input_hash: str | None = "sha256:aa", **extra):
    return {"id": item_id, "input_hash": input_hash, "status": status, **extra}


def _write(path: Path, *records: dict, tail: bytes = b"") -> Path:
    body = "".join(json.dumps(record) + "\n" for record in records).encode()
    path.write_bytes(body + tail)
    return path


def _age(path: Path, seconds: int) -> None:
    os.utime(path, ns=(seconds * 10**9, seconds * 10**9))


def test_three_real_shards_merge_into_every_item_once(server: FakeGateway, tmp_path):
    digests = image_folder(tmp_path / "images", 12)
    outputs = []
    for k in (1, 2, 3):
        output = tmp_path / f"out-{k}.jsonl"
        asyncio.run(
            run_batch(
                tmp_path / "images",
                output,
                prompt="p",
                model="m",
                shard=parse_shard(f"{k}/3"),
                api_key=API_KEY,
                base_url=server.url,
            )
        )
        outputs.append(output)
    summary = merge_outputs(outputs, tmp_path / "all.jsonl")
    merged = lines(tmp_path / "all.jsonl")
    assert sorted(r["id"] for r in merged) == sorted(digests.values())
    assert (summary.files, summary.ids, summary.ok, summary.failed) == (3, 12, 12, 0)
    assert (summary.in_several, summary.replaced, summary.unreadable_lines) == (0, 0, 0)
    # Lines are copied as they were written.
    written = b"".join(path.read_bytes() for path in outputs)
    assert sorted((tmp_path / "all.jsonl").read_bytes().splitlines()) == sorted(
        written.splitlines()
    )
    # The merged file is an output the runner resumes from: nothing is sent again.
    sent = server.count
    again = asyncio.run(
        run_batch(
            tmp_path / "images",
            tmp_path / "all.jsonl",
            prompt="p",
            model="m",
            api_key=API_KEY,
            base_url=server.url,
        )
    )
    assert again.skipped == 12
    assert server.count == sent


def test_within_a_file_the_last_line_of_an_id_is_its_state(tmp_path):
    first = _write(
        tmp_path / "a.jsonl",
        _record("x", "error", "sha256:11"),
        _record("y"),
        _record("x", "ok", "sha256:22", content="second"),
    )
    merge_outputs([first], tmp_path / "all.jsonl")
    merged = lines(tmp_path / "all.jsonl")
    assert [(r["id"], r.get("content")) for r in merged] == [("y", None), ("x", "second")]


def test_the_same_input_in_two_files_keeps_the_answer_over_the_failure(tmp_path):
    answered = _write(tmp_path / "a.jsonl", _record("x", "ok", content="yes"))
    failed = _write(tmp_path / "b.jsonl", _record("x", "error"))
    _age(answered, 1000)
    _age(failed, 2000)  # newer, but a failure
    summary = merge_outputs([answered, failed], tmp_path / "all.jsonl")
    assert [r["content"] for r in lines(tmp_path / "all.jsonl")] == ["yes"]
    assert (summary.in_several, summary.replaced, summary.ok) == (1, 0, 1)


def test_the_same_input_answered_twice_keeps_the_newer_file(tmp_path):
    old = _write(tmp_path / "a.jsonl", _record("x", content="old"))
    new = _write(tmp_path / "b.jsonl", _record("x", content="new"))
    _age(old, 2000)
    _age(new, 3000)
    merge_outputs([new, old], tmp_path / "all.jsonl")
    assert [r["content"] for r in lines(tmp_path / "all.jsonl")] == ["new"]


def test_different_input_for_one_id_is_refused_naming_it(tmp_path):
    first = _write(
        tmp_path / "out-1.jsonl", _record("a"), _record("img7.png", input_hash="sha256:1")
    )
    second = _write(tmp_path / "out-2.jsonl", _record("img7.png", input_hash="sha256:2"))
    target = _write(tmp_path / "all.jsonl", _record("kept"))
    with pytest.raises(MergeConflictError) as caught:
        merge_outputs([first, second], target)
    assert caught.value.item_id == "img7.png"
    message = str(caught.value)
    assert "'img7.png'" in message
    assert str(first) in message
    assert str(second) in message
    assert "--prefer newest" in message
    # Nothing was written: the output is as it was, and no temporary file is left.
    assert lines(target) == [_record("kept")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.jsonl", "out-1.jsonl", "out-2.jsonl"]


def test_prefer_newest_keeps_the_newest_files_answer(tmp_path):
    first = _write(tmp_path / "out-1.jsonl", _record("x", input_hash="sha256:1", content="one"))
    second = _write(tmp_path / "out-2.jsonl", _record("x", input_hash="sha256:2", content="two"))
    _age(first, 5000)
    _age(second, 4000)  # the first file is the newer one
    summary = merge_outputs([first, second], tmp_path / "all.jsonl", prefer="newest")
    assert [r["content"] for r in lines(tmp_path / "all.jsonl")] == ["one"]
    assert summary.replaced == 1


def test_an_unknown_input_hash_is_not_a_conflict(tmp_path):
    # A line whose input could not be read has no hash: it cannot disagree with one.
    unread = _write(tmp_path / "a.jsonl", _record("x", "error", None))
    answered = _write(tmp_path / "b.jsonl", _record("x", "ok", "sha256:1"))
    merge_outputs([unread, answered], tmp_path / "all.jsonl")
    assert [r["status"] for r in lines(tmp_path / "all.jsonl")] == ["ok"]


def test_torn_and_foreign_lines_are_counted_not_copied(tmp_path):
    torn = _write(tmp_path / "a.jsonl", _record("x"), {"no": "id"}, tail=b'{"id": "y", "sta')
    whole = _write(tmp_path / "b.jsonl", tail=json.dumps(_record("z")).encode())  # no newline
    summary = merge_outputs([torn, whole], tmp_path / "all.jsonl")
    assert [r["id"] for r in lines(tmp_path / "all.jsonl")] == ["x", "z"]
    assert (tmp_path / "all.jsonl").read_bytes().endswith(b"}\n")
    assert summary.unreadable_lines == 2


def test_the_output_may_be_one_of_the_inputs(tmp_path):
    first = _write(tmp_path / "a.jsonl", _record("x"))
    second = _write(tmp_path / "b.jsonl", _record("y"))
    merge_outputs([first, second], first)
    assert [r["id"] for r in lines(first)] == ["x", "y"]


def test_missing_inputs_are_bad_input(tmp_path):
    with pytest.raises(InvalidInputError, match=r"^INPUT: .*missing.jsonl"):
        merge_outputs([tmp_path / "missing.jsonl"], tmp_path / "all.jsonl")
    with pytest.raises(InvalidInputError, match=r"^INPUT: no output files"):
        merge_outputs([], tmp_path / "all.jsonl")
