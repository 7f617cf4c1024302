"""`chat-image batch` against what an adversarial run threw at it (issue 22): odd text, bad
manifest lines, outputs that cannot be written, SIGTERM, FIFOs, huge concurrency, symlinks.

Each runs the installed command in a subprocess against the fake gateway on 127.0.0.1, with
real signals, FIFOs and file systems (tests/filesystems.py mounts a small tmpfs as root).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any

import pytest

from chat_image.testing import FakeGateway, RecordedRequest, Reply
from cli_kit import COMMAND, env, image_folder, image_of, lines, png, popen, run
from completions import completion
from filesystems import tmpfs

BATCH = ("batch", "images", "-o", "out.jsonl", "--prompt", "Describe it.", "--model", "m")
# A cut emoji: the first half of the surrogate pair of U+1F600, as valid JSON carries it.
LONE = "\ud83d"


def _raw_json(body: dict[str, Any]) -> bytes:
    # ensure_ascii: the lone surrogate travels as the JSON escape `\ud83d`, as a gateway sends it.
    return json.dumps(body).encode()


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert not re.search(r"^\w+(Error|Exception|Interrupt|Group)\b", stderr, re.MULTILINE), stderr


def _wait_for_line(process: subprocess.Popen[str], text: str) -> list[str]:
    """stderr's lines up to the first holding `text` (the process says it has got there)."""
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"{text!r} never said: {seen}")


class _Held:
    """A responder that holds every request until `release()`: requests stay in flight."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.arrived = threading.Semaphore(0)

    def __call__(self, request: RecordedRequest) -> Reply | None:
        self.arrived.release()
        self.released.wait(120)
        return None

    def wait_for(self, count: int) -> None:
        for _ in range(count):
            assert self.arrived.acquire(timeout=60), "the requests never arrived"


def _end(process: subprocess.Popen[str], held: _Held) -> None:
    """Let the requests go, and leave no process or pipe behind, whatever the test saw."""
    held.released.set()
    if process.poll() is None:
        process.kill()
    process.wait(60)
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()


# 1. Lone surrogates --------------------------------------------------------------------------


def test_an_answer_with_a_lone_surrogate_is_written_escaped_and_resume_asks_nothing(
    server: FakeGateway, tmp_path
):
    image_folder(tmp_path / "images", 3)
    server.default = Reply(body=_raw_json(completion(f"a smile {LONE}")))
    done = run(*BATCH, url=server.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    _no_traceback(done.stderr)
    raw = (tmp_path / "out.jsonl").read_bytes()
    assert b"\\ud83d" in raw  # escaped: the file is valid UTF-8
    raw.decode("utf-8")
    out = lines(tmp_path / "out.jsonl")
    assert [r["content"] for r in out] == [f"a smile {LONE}"] * 3
    again = run(*BATCH, url=server.url, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "skipped: 3 already in the output" in again.stderr
    assert server.count == 3


def test_a_file_name_that_is_not_utf8_is_an_id_written_escaped(server: FakeGateway, tmp_path):
    image_folder(tmp_path / "images", 1)
    name = b"caf\xe9.png"  # Latin-1: Python names it "caf\udce9.png"
    with open(os.path.join(os.fsencode(tmp_path / "images"), name), "wb") as file:
        file.write(png(8, 8, 7))
    done = run(*BATCH, url=server.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    _no_traceback(done.stderr)
    (tmp_path / "out.jsonl").read_bytes().decode("utf-8")
    ids = {r["id"] for r in lines(tmp_path / "out.jsonl")}
    assert ids == {"img000.png", os.fsdecode(name)}
    again = run(*BATCH, url=server.url, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert server.count == 2


def test_a_manifest_id_with_a_lone_surrogate_is_kept_sharded_and_resumed(
    server: FakeGateway, tmp_path
):
    (tmp_path / "a.png").write_bytes(png(5, 5))
    (tmp_path / "in.jsonl").write_text(
        json.dumps({"id": f"x{LONE}", "image": "a.png", "metadata": {"note": LONE}})
        + "\n"
        + json.dumps({"id": "plain", "image": "a.png"})
        + "\n"
    )
    for shard in ("1/2", "2/2"):
        done = run(
            "batch", "in.jsonl", "-o", "out.jsonl", "--prompt", "p", "--model", "m",
            "--shard", shard, url=server.url, cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        _no_traceback(done.stderr)
    out = {r["id"]: r for r in lines(tmp_path / "out.jsonl")}
    assert set(out) == {f"x{LONE}", "plain"}
    assert out[f"x{LONE}"]["metadata"] == {"note": LONE}
    assert server.count == 2
    again = run(
        "batch", "in.jsonl", "-o", "out.jsonl", "--prompt", "p", "--model", "m",
        url=server.url, cwd=tmp_path,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert server.count == 2


# 2. Bad manifest lines -----------------------------------------------------------------------


def test_every_kind_of_bad_manifest_line_is_named_by_number_and_skipped(
    server: FakeGateway, tmp_path
):
    (tmp_path / "a.png").write_bytes(png(5, 5))
    good = {"image": "a.png"}
    rows = [
        json.dumps({"id": "first", **good}),
        json.dumps({"id": "blank-model", **good, "model": "   "}),
        json.dumps({"id": "nul", "image": "a\x00.png"}),
        "[" * 100_000 + "]" * 100_000,
        json.dumps({"id": "lone-prompt", **good, "prompt": f"why {LONE}"}),
        json.dumps({"id": "last", **good}),
    ]
    (tmp_path / "in.jsonl").write_text("\n".join(rows) + "\n")
    done = run(
        "batch", "in.jsonl", "-o", "out.jsonl", "--prompt", "p", "--model", "m",
        url=server.url, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    _no_traceback(done.stderr)
    expected = {2: "model", 3: "image", 4: "nested", 5: "prompt"}
    for number, field in expected.items():
        line = next((s for s in done.stderr.splitlines() if f"skipped line {number}:" in s), "")
        assert field in line, (number, done.stderr)
    assert "skipped input: 4" in done.stderr
    assert {r["id"] for r in lines(tmp_path / "out.jsonl")} == {"first", "last"}
    assert server.count == 2


# 3. Outputs that cannot be written -----------------------------------------------------------


def _refused_before_sending(done: subprocess.CompletedProcess[str], server: FakeGateway) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr  # one line
    assert done.stderr.startswith("chat-image: error: --output"), done.stderr
    assert server.count == 0


def test_an_output_that_is_a_directory_or_in_a_missing_folder_is_refused_at_once(
    server: FakeGateway, tmp_path
):
    image_folder(tmp_path / "images", 2)
    (tmp_path / "adir").mkdir()
    for output in ("adir", "missing/out.jsonl"):
        done = run(
            "batch", "images", "-o", output, "--prompt", "p", "--model", "m",
            url=server.url, cwd=tmp_path,
        )  # fmt: skip
        _refused_before_sending(done, server)
        assert output in done.stderr


def test_an_output_on_a_read_only_file_system_is_refused_at_once(server: FakeGateway, tmp_path):
    image_folder(tmp_path / "images", 2)
    with tmpfs(tmp_path / "ro", size="64k", read_only=True):
        done = run(
            "batch", "images", "-o", "ro/out.jsonl", "--prompt", "p", "--model", "m",
            url=server.url, cwd=tmp_path,
        )  # fmt: skip
    _refused_before_sending(done, server)
    assert "read-only" in done.stderr.lower()


def test_a_disk_full_mid_run_keeps_what_finished_and_says_so(server: FakeGateway, tmp_path):
    digests = image_folder(tmp_path / "images", 40)
    server.default = Reply(body=completion("x" * 3000))  # about 3.4 KB a line
    with tmpfs(tmp_path / "disk", size="64k"):
        done = run(
            "batch", "images", "-o", "disk/out.jsonl", "--prompt", "Describe it.", "--model", "m",
            "--concurrency", "4", url=server.url, cwd=tmp_path,
        )  # fmt: skip
        kept = (tmp_path / "disk" / "out.jsonl").read_bytes()
    assert done.returncode == 1, done.stderr
    _no_traceback(done.stderr)
    assert "No space left on device" in done.stderr
    assert "summary:" in done.stderr
    assert "not done:" in done.stderr
    # Whole lines only, each a finished answer: the next run resumes from them.
    assert kept.endswith(b"\n")
    finished = [json.loads(line) for line in kept.splitlines()]
    assert 5 <= len(finished) < 40
    assert all(r["status"] == "ok" for r in finished)
    (tmp_path / "out.jsonl").write_bytes(kept)
    sent = server.count
    resumed = run(*BATCH, url=server.url, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    out = lines(tmp_path / "out.jsonl")
    assert Counter(r["id"] for r in out) == Counter(set(digests.values()))
    asked_again = {image_of(r, digests) for r in server.requests[sent:]}
    assert not asked_again & {r["id"] for r in finished}


# 4. SIGTERM like SIGINT, and a stop that waits only for what is in flight ----------------------


@pytest.mark.parametrize(
    ("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 128 + signal.SIGTERM)]
)
def test_a_stop_signal_keeps_the_answers_in_flight_and_ends_when_they_do(
    server: FakeGateway, tmp_path, signum, status
):
    image_folder(tmp_path / "images", 40)
    held = _Held()
    server.responder = held
    # A grace far longer than the test: the run must end because the requests in flight did.
    process = popen(*BATCH, "--concurrency", "3", "--grace", "600", url=server.url, cwd=tmp_path)
    try:
        held.wait_for(3)
        process.send_signal(signum)
        said = _wait_for_line(process, "stopping: finishing the requests in flight")
        held.released.set()
        _, rest = process.communicate(timeout=60)
        err = "".join(said) + rest
    finally:
        _end(process, held)
    assert process.returncode == status, err
    _no_traceback(err)
    assert "stopping: finishing the requests in flight" in err
    assert "(interrupted)" in err
    out = lines(tmp_path / "out.jsonl")
    assert all(r["status"] == "ok" for r in out)
    # Every request sent was answered and kept; nothing else was taken after the signal.
    assert len(out) == server.count == 3


def test_the_grace_period_still_bounds_requests_that_never_end(server: FakeGateway, tmp_path):
    image_folder(tmp_path / "images", 5)
    held = _Held()
    server.responder = held
    process = popen(*BATCH, "--concurrency", "2", "--grace", "0.5", url=server.url, cwd=tmp_path)
    try:
        held.wait_for(2)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        _end(process, held)
    assert process.returncode == 143, err
    _no_traceback(err)
    assert "not done: 5" in err


# 5. An existing file that is not a batch output ----------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b'[\n  {"a": 1},\n  {"b": 2}\n]',
        b'{"id": "x", "score": 1}\n{"id": "y", "score": 2}',
        b"name,score\nx,1\n",
    ],
    ids=["json-array", "other-jsonl", "csv"],
)
def test_an_output_that_is_not_a_batch_output_is_refused_untouched(
    server: FakeGateway, tmp_path, content
):
    image_folder(tmp_path / "images", 2)
    (tmp_path / "results.json").write_bytes(content)
    for extra in ((), ("--dry-run",)):
        done = run(
            "batch", "images", "-o", "results.json", "--prompt", "p", "--model", "m", *extra,
            url=server.url, cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert "not a batch output" in done.stderr
        _no_traceback(done.stderr)
    assert (tmp_path / "results.json").read_bytes() == content
    assert server.count == 0


# 9. FIFOs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry-run"])
def test_a_fifo_in_a_folder_is_skipped_and_named(server: FakeGateway, tmp_path, dry_run):
    image_folder(tmp_path / "images", 2)
    os.mkfifo(tmp_path / "images" / "pipe.png")
    done = run(*BATCH, *(("--dry-run",) if dry_run else ()), url=server.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    if dry_run:
        assert done.stdout.startswith("items: 2 "), done.stdout
        assert "skipped input: 1" in done.stdout
    else:
        assert "skipped pipe.png: a FIFO" in done.stderr
        assert {r["id"] for r in lines(tmp_path / "out.jsonl")} == {"img000.png", "img001.png"}


def test_a_fifo_named_in_a_manifest_is_that_items_error(server: FakeGateway, tmp_path):
    (tmp_path / "a.png").write_bytes(png(5, 5))
    os.mkfifo(tmp_path / "pipe.png")
    rows = [{"id": "fifo", "image": "pipe.png"}, {"id": "a", "image": "a.png"}]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    for extra in (("--dry-run",), ()):
        done = run(
            "batch", "in.jsonl", "-o", "out.jsonl", "--prompt", "p", "--model", "m", *extra,
            url=server.url, cwd=tmp_path,
        )  # fmt: skip
        _no_traceback(done.stderr)
    out = {r["id"]: r for r in lines(tmp_path / "out.jsonl")}
    assert out["a"]["status"] == "ok"
    assert out["fifo"]["status"] == "error"
    assert "FIFO" in out["fifo"]["error"]["message"]
    assert server.count == 1


def test_an_output_fifo_with_a_reader_gets_every_line(server: FakeGateway, tmp_path):
    image_folder(tmp_path / "images", 3)
    fifo = tmp_path / "out.jsonl"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as pipe:
            received.append(pipe.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.2)  # the reader is there before the run opens the FIFO
    done = run(*BATCH, url=server.url, cwd=tmp_path)
    reader.join(30)
    assert done.returncode == 0, done.stderr
    _no_traceback(done.stderr)
    records = [json.loads(line) for line in b"".join(received).splitlines()]
    assert sorted(r["id"] for r in records) == ["img000.png", "img001.png", "img002.png"]


def test_an_output_fifo_without_a_reader_is_refused_at_once(server: FakeGateway, tmp_path):
    image_folder(tmp_path / "images", 2)
    os.mkfifo(tmp_path / "out.jsonl")
    done = run(*BATCH, url=server.url, cwd=tmp_path)
    _refused_before_sending(done, server)
    assert "FIFO" in done.stderr


@pytest.mark.parametrize("output", ["/dev/stdout", "-"])
def test_standard_output_as_the_output_gets_the_lines(server: FakeGateway, tmp_path, output):
    image_folder(tmp_path / "images", 3)
    done = run(
        "batch", "images", "-o", output, "--prompt", "p", "--model", "m",
        url=server.url, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    _no_traceback(done.stderr)
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert sorted(r["id"] for r in records) == ["img000.png", "img001.png", "img002.png"]
    assert all(r["status"] == "ok" for r in records)
    assert not (tmp_path / "-").exists()


# 12. Workers bounded ---------------------------------------------------------------------------


def test_a_huge_concurrency_over_one_image_stays_small(server: FakeGateway, tmp_path):
    image_folder(tmp_path / "images", 1)
    # Measured from a small parent: a child's peak RSS counts what it held before exec, and a
    # child forked straight from this pytest process starts at pytest's own size.
    measure = (
        "import resource, subprocess, sys; "
        "status = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
        "print(status, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    with open(tmp_path / "err.txt", "w") as err:
        done = subprocess.run(
            [sys.executable, "-c", measure, COMMAND, *BATCH, "--concurrency", "1000000"],
            env=env(server.url),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            check=True,
        )
    status, peak_kib = (int(word) for word in done.stdout.split())
    stderr = (tmp_path / "err.txt").read_text()
    assert status == 0, stderr
    assert server.count == 1
    # The command alone (Python, httpx, aiohttp) peaks near 60 MiB here; a worker per
    # requested slot took 1 GiB.
    assert peak_kib < 200 * 1024, peak_kib  # KiB on Linux


# 16. Symlinked subfolders -------------------------------------------------------------------


def test_symlinked_subfolders_are_followed_once_and_loops_named(server: FakeGateway, tmp_path):
    images = tmp_path / "images"
    (images / "real").mkdir(parents=True)
    (images / "real" / "a.png").write_bytes(png(5, 5, 1))
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "b.png").write_bytes(png(5, 5, 2))
    (images / "outside").symlink_to(tmp_path / "elsewhere")  # a folder kept out of the tree
    (images / "alias").symlink_to("real")  # a second name for a folder walked anyway
    (images / "real" / "loop").symlink_to("..")  # a loop
    done = run(*BATCH, url=server.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    _no_traceback(done.stderr)
    assert {r["id"] for r in lines(tmp_path / "out.jsonl")} == {"real/a.png", "outside/b.png"}
    assert "skipped alias: " in done.stderr
    assert "skipped real/loop: " in done.stderr
    assert server.count == 2


# 17. --shard "" ------------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [(), ("--dry-run",)], ids=["run", "dry-run"])
def test_an_empty_shard_is_refused(server: FakeGateway, tmp_path, extra):
    image_folder(tmp_path / "images", 2)
    done = run(*BATCH, "--shard", "", *extra, url=server.url, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "--shard: expected K/N" in done.stderr
    assert server.count == 0
    assert not (tmp_path / "out.jsonl").exists()
