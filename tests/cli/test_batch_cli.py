"""`chat-image batch`, the installed command, against the fake gateway: resuming after
kill -9 and Ctrl-C, torn lines, limits, 429s, --dry-run, shards and each exit status."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from pathlib import Path

from chat_image import estimate_image_tokens
from chat_image.testing import FakeGateway, Reply
from cli_kit import image_folder, image_of, lines, png, popen, run
from completions import completion

BATCH = ("batch", "images", "-o", "out.jsonl", "--prompt", "Describe it.", "--model", "m")


def _wait_for_lines(path: Path, count: int, process) -> None:
    # Bounded: the process ends (and the test fails on its output) if it never gets there.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"fewer than {count} lines written")


def test_a_run_then_a_rerun_answers_each_image_once(server: FakeGateway, tmp_path):
    digests = image_folder(tmp_path / "images", 6)
    (tmp_path / "images" / "README.txt").write_text("not an image")
    first = run(*BATCH, url=server.url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "skipped README.txt: not a PNG, JPEG, GIF or WebP image" in first.stderr
    out = lines(tmp_path / "out.jsonl")
    assert sorted(r["id"] for r in out) == sorted(digests.values())
    record = out[0]
    assert record["status"] == "ok"
    assert record["content"] == "A wooden boardwalk through a green meadow."
    assert record["usage"] == {"prompt_tokens": 1118, "completion_tokens": 12, "total_tokens": 1130}
    assert (record["finish_reason"], record["attempts"]) == ("stop", 1)
    assert record["input_hash"].startswith("sha256:")
    assert "ok: 6" in first.stderr
    again = run(*BATCH, url=server.url, cwd=tmp_path)
    assert again.returncode == 0
    assert "skipped: 6 already in the output" in again.stderr
    assert server.count == 6
    assert sorted(image_of(r, digests) for r in server.requests) == sorted(digests.values())


def test_sigkill_mid_run_then_resume_answers_every_item_exactly_once(server: FakeGateway, tmp_path):
    digests = image_folder(tmp_path / "images", 24)
    server.default = Reply(body=completion(), delay=0.05)
    process = popen(*BATCH, "--concurrency", "4", url=server.url, cwd=tmp_path)
    _wait_for_lines(tmp_path / "out.jsonl", 6, process)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    answered_before = {r["id"] for r in lines(tmp_path / "out.jsonl")}
    assert 6 <= len(answered_before) < 24
    sent_before = server.count
    resumed = run(*BATCH, "--concurrency", "4", url=server.url, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    out = lines(tmp_path / "out.jsonl")
    assert Counter(r["id"] for r in out) == Counter(set(digests.values()))
    assert all(r["status"] == "ok" for r in out)
    # What was answered before the kill was not asked again; the rest was asked once more.
    asked_after = Counter(image_of(r, digests) for r in server.requests[sent_before:])
    assert not answered_before & set(asked_after)
    assert set(asked_after) == set(digests.values()) - answered_before
    assert max(asked_after.values()) == 1


def test_a_torn_last_line_is_repaired(server: FakeGateway, tmp_path):
    digests = image_folder(tmp_path / "images", 3)
    assert run(*BATCH, url=server.url, cwd=tmp_path).returncode == 0
    output = tmp_path / "out.jsonl"
    whole = output.read_bytes().splitlines(keepends=True)
    torn_id = json.loads(whole[-1])["id"]
    output.write_bytes(b"".join(whole[:-1]) + whole[-1][:25])  # cut as a crash would
    repaired = run(*BATCH, url=server.url, cwd=tmp_path)
    assert repaired.returncode == 0, repaired.stderr
    assert "repaired" in repaired.stderr
    out = lines(output)  # every line parses
    assert Counter(r["id"] for r in out) == Counter(set(digests.values()))
    assert image_of(server.last, digests) == torn_id
    assert server.count == 4


def test_the_server_never_sees_more_than_the_concurrency(server: FakeGateway, tmp_path):
    image_folder(tmp_path / "images", 16)
    server.default = Reply(body=completion(), delay=0.1)
    done = run(*BATCH, "--concurrency", "3", url=server.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert server.count == 16
    assert 1 < server.max_in_flight <= 3


def test_a_burst_of_429s_slows_the_run_and_it_still_finishes(server: FakeGateway, tmp_path):
    digests = image_folder(tmp_path / "images", 12)
    limited = Reply(status=429, message="Rate limit reached", headers={"retry-after-ms": "200"})
    server.queue(*[limited] * 6)  # then the default, a completion
    done = run(*BATCH, "--concurrency", "4", url=server.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "rate limited (429)" in done.stderr
    assert "slowed down for rate limits" in done.stderr
    out = lines(tmp_path / "out.jsonl")
    assert Counter(r["id"] for r in out) == Counter(set(digests.values()))
    assert all(r["status"] == "ok" for r in out)
    assert sum(r["attempts"] for r in out) == 12 + 6
    assert server.count == 18


def test_dry_run_sends_nothing_and_writes_nothing(server: FakeGateway, tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "wide.png").write_bytes(png(2048, 1024))
    (tmp_path / "images" / "small.png").write_bytes(png(100, 100))
    done = run(*BATCH, "--dry-run", "--detail", "high", url=server.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    expected_images = estimate_image_tokens(2048, 1024, "high") + estimate_image_tokens(
        100, 100, "high"
    )
    report = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    assert report["items"].startswith("2 ")
    assert int(report["estimated input tokens"]) > expected_images
    assert int(report["estimated input tokens"]) < expected_images + 40
    assert report["max output tokens"] == "600"
    assert server.count == 0
    assert not (tmp_path / "out.jsonl").exists()


def test_ctrl_c_writes_what_finished_and_exits_130(server: FakeGateway, tmp_path):
    digests = image_folder(tmp_path / "images", 40)
    server.default = Reply(body=completion(), delay=0.2)
    process = popen(*BATCH, "--concurrency", "2", url=server.url, cwd=tmp_path)
    _wait_for_lines(tmp_path / "out.jsonl", 2, process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "summary:" in err
    assert "(interrupted)" in err
    out = lines(tmp_path / "out.jsonl")
    assert 2 <= len(out) < 40
    assert all(r["status"] == "ok" for r in out)
    # Every request the server answered in time is in the output; the next run does the rest.
    resumed = run(*BATCH, url=server.url, cwd=tmp_path)
    assert resumed.returncode == 0
    assert Counter(r["id"] for r in lines(tmp_path / "out.jsonl")) == Counter(set(digests.values()))


def test_failures_exit_1_and_retry_failed_redoes_them(server: FakeGateway, tmp_path):
    image_folder(tmp_path / "images", 4)
    server.queue(Reply(status=400, message="unsupported image"))  # then completions
    done = run(*BATCH, "--concurrency", "1", url=server.url, cwd=tmp_path)
    assert done.returncode == 1
    assert "failed: 1 (BadRequestError: 1)" in done.stderr
    failed = [r for r in lines(tmp_path / "out.jsonl") if r["status"] == "error"]
    assert len(failed) == 1
    assert failed[0]["error"]["status_code"] == 400
    assert failed[0]["error"]["type"] == "BadRequestError"
    assert "unsupported image" in failed[0]["error"]["message"]
    assert run(*BATCH, url=server.url, cwd=tmp_path).returncode == 1  # not redone
    assert server.count == 4
    redo = run(*BATCH, "--retry-failed", url=server.url, cwd=tmp_path)
    assert redo.returncode == 0, redo.stderr
    assert server.count == 5
    last = {r["id"]: r["status"] for r in lines(tmp_path / "out.jsonl")}
    assert set(last.values()) == {"ok"}


def test_a_changed_image_is_done_again(server: FakeGateway, tmp_path):
    image_folder(tmp_path / "images", 3)
    assert run(*BATCH, url=server.url, cwd=tmp_path).returncode == 0
    (tmp_path / "images" / "img001.png").write_bytes(png(9, 9, 99))
    again = run(*BATCH, url=server.url, cwd=tmp_path)
    assert again.returncode == 0
    assert "redone: 1 whose input changed" in again.stderr
    assert server.count == 4


def test_a_manifest_with_a_bad_line_does_the_rest_and_exits_2(server: FakeGateway, tmp_path):
    (tmp_path / "a.png").write_bytes(png(5, 5))
    manifest = tmp_path / "in.jsonl"
    manifest.write_text(
        json.dumps({"id": "a", "image": "a.png", "prompt": "What?", "metadata": {"k": 1}})
        + "\n{not json\n"
        + json.dumps(
            {
                "id": "b",
                "images": ["https://example.com/b.png"],
                "model": "m2",
                "max_tokens": 7,
                "detail": "low",
            }
        )
        + "\n"
        + json.dumps({"id": "c"})
        + "\n"
    )
    done = run(
        "batch", "in.jsonl", "-o", "out.jsonl", "--prompt", "Default?", "--model", "m",
        url=server.url, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert "skipped line 2: not JSON" in done.stderr
    assert "skipped line 4: images:" in done.stderr
    out = {r["id"]: r for r in lines(tmp_path / "out.jsonl")}
    assert set(out) == {"a", "b"}
    assert out["a"]["metadata"] == {"k": 1}
    bodies = {r.json["model"]: r.json for r in server.requests}
    assert bodies["m2"]["max_tokens"] == 7
    assert bodies["m2"]["messages"][0]["content"][0]["text"] == "Default?"
    assert bodies["m"]["messages"][0]["content"][0]["text"] == "What?"


def test_shards_split_the_items_with_no_overlap(server: FakeGateway, tmp_path):
    digests = image_folder(tmp_path / "images", 10)
    ids = []
    for k in (1, 2, 3):
        output = f"out{k}.jsonl"
        done = run(
            "batch", "images", "-o", output, "--prompt", "p", "--model", "m", "--shard", f"{k}/3",
            url=server.url, cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        ids += [r["id"] for r in lines(tmp_path / output)]
    assert Counter(ids) == Counter(set(digests.values()))
    bad = run(*BATCH, "--shard", "4/3", url=server.url, cwd=tmp_path)
    assert bad.returncode == 2
    assert "--shard: expected K/N" in bad.stderr


def test_bad_usage_exits_2_and_sends_nothing(server: FakeGateway, tmp_path):
    image_folder(tmp_path / "images", 1)
    no_key = run(*BATCH, url=None, cwd=tmp_path, CHAT_IMAGE_BASE_URL=server.url)
    assert no_key.returncode == 2
    assert "no API key: set CHAT_IMAGE_API_KEY" in no_key.stderr
    assert not (tmp_path / "out.jsonl").exists()
    for args, message in {
        ("batch", "nowhere", "-o", "o.jsonl", "--model", "m"): "no such folder or file",
        ("batch", "images", "-o", "o.jsonl", "--model", "m"): "a folder needs --prompt",
        ("batch", "images", "--prompt", "p", "--model", "m"): "--output FILE is needed",
        ("batch", "images", "-o", "o.jsonl", "--prompt", "p"): "set CHAT_IMAGE_MODEL",
        (*BATCH, "--concurrency", "0"): "concurrency: expected a positive number",
    }.items():
        done = run(*args, url=server.url, cwd=tmp_path)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)
    assert server.count == 0
