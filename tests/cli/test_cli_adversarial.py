"""`chat-image ask` (and the options both commands share) against what an adversarial run
threw at it (issues 22 and 16): lone surrogates, a reader that goes away, and messages that
name the command line's own options and variables rather than Python arguments."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from chat_image.testing import FakeGateway, Reply
from cli_kit import COMMAND, env, image_folder, run
from completions import completion

LONE = "\ud83d"  # half of an emoji's surrogate pair, as a gateway cutting at max_tokens sends it


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert not re.search(r"^\w+(Error|Exception|Interrupt|Group)\b", stderr, re.MULTILINE), stderr


# 1. Lone surrogates ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["stream", "no-stream", "json"])
def test_an_answer_with_a_lone_surrogate_is_printed_escaped(server: FakeGateway, tmp_path, mode):
    if mode == "stream":
        server.default = Reply(chunks=["a smile ", LONE])
    else:
        server.default = Reply(body=json.dumps(completion(f"a smile {LONE}")).encode())
    flag = {"stream": (), "no-stream": ("--no-stream",), "json": ("--json",)}[mode]
    done = run("ask", "hi", "--model", "m", *flag, url=server.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    _no_traceback(done.stderr)
    assert "\\ud83d" in done.stdout
    if mode == "json":
        answer = json.loads(done.stdout)
        assert answer["choices"][0]["message"]["content"] == f"a smile {LONE}"
    else:
        assert done.stdout == "a smile \\ud83d\n"


def test_a_prompt_that_is_not_utf8_is_refused_before_sending(server: FakeGateway, tmp_path):
    # Bytes that are not UTF-8 in argv reach Python as lone surrogates ("caf\udce9").
    done = subprocess.run(
        [COMMAND.encode(), b"ask", b"caf\xe9?", b"--model", b"m"],
        env=env(server.url),
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2, stderr
    _no_traceback(stderr)
    assert stderr.startswith("chat-image: error: PROMPT: "), stderr
    assert "surrogate" in stderr
    assert server.count == 0


# 19. A reader that goes away ---------------------------------------------------------------


@pytest.mark.parametrize("mode", ["stream", "no-stream", "json"])
def test_ask_into_a_reader_that_stops_early_exits_quietly(server: FakeGateway, tmp_path, mode):
    # Far more than a pipe holds (64 KiB), so the writes meet the closed pipe.
    words = [f"{i:09d} " * 100 for i in range(600)]
    if mode == "stream":
        server.default = Reply(chunks=words)
    else:
        server.default = Reply(body=completion("".join(words)))
    flag = {"stream": (), "no-stream": ("--no-stream",), "json": ("--json",)}[mode]
    # `chat-image ask ... | head -c 10`, with the real `head`.
    asking = subprocess.Popen(
        [COMMAND, "ask", "hi", "--model", "m", *flag],
        env=env(server.url),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert asking.stdout is not None
    assert asking.stderr is not None
    head = subprocess.run(
        ["head", "-c", "10"], stdin=asking.stdout, capture_output=True, check=True
    )
    asking.stdout.close()
    with asking.stderr:
        stderr = asking.stderr.read().decode()
    asking.wait(timeout=60)
    assert len(head.stdout) == 10
    _no_traceback(stderr)
    assert stderr == ""
    # 141 (128 + SIGPIPE) is what a shell shows for `yes | head`; 0 when the system took
    # the last write whole before the reader left, and so never said the pipe was broken.
    assert asking.returncode in (0, 141)


# Issue 16 item 9: the command line names its own options and variables ---------------------


@pytest.mark.parametrize("command", ["ask", "batch"])
def test_missing_settings_name_the_options_and_variables(server: FakeGateway, tmp_path, command):
    image_folder(tmp_path / "images", 1)
    args = {
        "ask": ("ask", "hi", "--model", "m"),
        "batch": ("batch", "images", "-o", "out.jsonl", "--prompt", "p", "--model", "m"),
    }[command]
    no_key = run(*args, url=None, cwd=tmp_path, CHAT_IMAGE_BASE_URL=server.url)
    assert no_key.returncode == 2, no_key.stderr
    assert "api_key" not in no_key.stderr
    assert "--api-key-file" in no_key.stderr
    assert "CHAT_IMAGE_API_KEY" in no_key.stderr
    no_url = run(*args, url=None, cwd=tmp_path, CHAT_IMAGE_API_KEY="sk-x")
    assert no_url.returncode == 2, no_url.stderr
    assert "base_url" not in no_url.stderr
    assert "--base-url" in no_url.stderr
    assert "CHAT_IMAGE_BASE_URL" in no_url.stderr
    assert server.count == 0


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (("--base-url", "ftp://example.com"), "--base-url"),
        (("--base-url", "https://user:secret@example.com"), "--base-url"),
        (("--max-retries", "-1"), "--max-retries"),
        (("--max-tokens", "0"), "--max-tokens"),
    ],
)
@pytest.mark.parametrize("command", ["ask", "batch"])
def test_bad_values_are_named_by_their_option(
    server: FakeGateway, tmp_path, command, extra, option
):
    image_folder(tmp_path / "images", 1)
    args = {
        "ask": ("ask", "hi", "--model", "m", "--no-stream"),
        "batch": ("batch", "images", "-o", "out.jsonl", "--prompt", "p", "--model", "m"),
    }[command]
    done = run(*args, *extra, url=server.url, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"chat-image: error: {option}: "), done.stderr
    # No advice for Python code (`api_key=...`, `base_url=`): the command has its own options.
    assert not re.search(r"\w=", done.stderr), done.stderr
    assert "secret" not in done.stderr
    assert server.count == 0


@pytest.mark.parametrize("option", ["--concurrency", "--rpm", "--tpm"])
def test_bad_batch_limits_are_named_by_their_option(server: FakeGateway, tmp_path, option):
    image_folder(tmp_path / "images", 1)
    done = run(
        "batch", "images", "-o", "out.jsonl", "--prompt", "p", "--model", "m", option, "0",
        url=server.url, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"chat-image: error: {option}: expected a positive number")
    assert server.count == 0
