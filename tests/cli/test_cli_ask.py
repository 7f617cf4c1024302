"""`chat-image ask`, the installed command, against the fake gateway: each exit status."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from chat_image.testing import FakeGateway, Reply
from cli_kit import png, run
from completions import completion
from conftest import API_KEY


def test_answers_and_exits_0(server: FakeGateway, tmp_path):
    (tmp_path / "cat.png").write_bytes(png(10, 10))
    done = run(
        "ask", "What is this?", "--image", "cat.png", "--image", "https://example.com/b.png",
        "--model", "gpt-4o", "--detail", "low", "--system", "Be brief.", "--no-stream",
        url=server.url, cwd=tmp_path,
    )  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "A wooden boardwalk through a green meadow.\n",
        "",
    )
    sent = server.last.json
    assert sent.get("stream", False) is False  # --no-stream: one whole answer
    assert sent["model"] == "gpt-4o"
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    parts = sent["messages"][1]["content"]
    assert parts[0] == {"type": "text", "text": "What is this?"}
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert parts[2]["image_url"] == {"url": "https://example.com/b.png", "detail": "low"}


def test_json_verbose_and_the_model_from_the_environment(server: FakeGateway, tmp_path):
    server.default = Reply(body=completion("ok"), headers={"x-request-id": "req_42"})
    done = run("ask", "hi", "--json", "-v", url=server.url, cwd=tmp_path, CHAT_IMAGE_MODEL="m1")
    assert done.returncode == 0
    assert json.loads(done.stdout) == completion("ok")
    assert "request id: req_42" in done.stderr
    assert "usage: 1118 in, 12 out" in done.stderr
    assert server.last.json["model"] == "m1"


def test_the_answer_streams_and_verbose_adds_usage_and_the_request_id(
    server: FakeGateway, tmp_path
):
    usage = {"prompt_tokens": 31, "completion_tokens": 6, "total_tokens": 37}
    server.default = Reply(
        content="Two cats asleep on a sofa.", pause=0.02, usage=usage,
        headers={"x-request-id": "req_s1"},
    )  # fmt: skip
    done = run("ask", "What is this?", "--model", "m", "-v", url=server.url, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "Two cats asleep on a sofa.\n")
    assert "usage: 31 in, 6 out" in done.stderr
    assert "request id: req_s1" in done.stderr
    sent = server.last.json
    assert (sent["stream"], sent["stream_options"]) == (True, {"include_usage": True})

    quiet = run("ask", "What is this?", "--model", "m", url=server.url, cwd=tmp_path)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, done.stdout, "")
    assert server.last.json["stream"] is True
    assert "stream_options" not in server.last.json  # usage only when it is printed


def test_each_piece_of_a_streamed_answer_is_printed_as_it_arrives(server: FakeGateway, tmp_path):
    from cli_kit import COMMAND, env
    from streams import chunk, event

    read_first = threading.Event()

    def answer():
        yield event(chunk("Two cats", role="assistant"))
        # The rest comes only once the test has read the first piece from the command's
        # stdout; if it never can, the answer ends short and the test fails.
        if read_first.wait(60):
            yield event(chunk(" on a sofa.", finish_reason="stop"))
            yield event("[DONE]")

    server.default = Reply(stream_body=answer())
    # The command must flush each piece itself: a pipe is block-buffered unless this is set.
    environment = {k: v for k, v in env(server.url).items() if k != "PYTHONUNBUFFERED"}
    process = subprocess.Popen(
        [COMMAND, "ask", "hi", "--model", "m"],
        env=environment, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    first = process.stdout.read(len("Two cats"))
    read_first.set()
    out, err = process.communicate(timeout=60)
    assert (process.returncode, first + out, err) == (0, "Two cats on a sofa.\n", "")


def test_python_dash_m_is_the_same_command(server: FakeGateway, tmp_path):
    from cli_kit import env

    done = subprocess.run(
        [sys.executable, "-m", "chat_image", "ask", "hi", "--model", "m"],
        env=env(server.url), cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "A wooden boardwalk through a green meadow.\n")


def test_an_api_error_is_one_line_and_exits_1(server: FakeGateway, tmp_path):
    server.default = Reply(status=401, message=f"Incorrect API key provided: {API_KEY}")
    done = run("ask", "hi", "--model", "m", url=server.url, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "Error code: 401" in done.stderr
    assert "Incorrect API key provided" in done.stderr
    assert API_KEY not in done.stderr
    assert "Traceback" not in done.stderr


def test_debug_shows_the_traceback(server: FakeGateway, tmp_path):
    server.default = Reply(status=400, message="bad")
    done = run("ask", "hi", "--model", "m", "--debug", url=server.url, cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" in done.stderr
    assert API_KEY not in done.stderr


def test_a_network_failure_exits_1(tmp_path):
    with FakeGateway() as gone:
        url = gone.url
    done = run("ask", "hi", "--model", "m", "--max-retries", "0", url=url, cwd=tmp_path)
    assert done.returncode == 1
    assert "Connection error" in done.stderr


def test_bad_input_exits_2_and_sends_nothing(server: FakeGateway, tmp_path):
    (tmp_path / "notes.png").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    cases = {
        ("ask", "hi", "--model", "m", "--image", "missing.png"): "'missing.png': no such file",
        ("ask", "hi", "--model", "m", "--image", "notes.png"): "is not a PNG, JPEG, GIF or WebP",
        ("ask", "hi", "--image", "notes.png"): "pass --model NAME or set CHAT_IMAGE_MODEL",
        ("ask", "hi", "--model", "m", "--max-tokens", "0"): "--max-tokens: expected a positive",
        ("ask", "--model", "m"): "the following arguments are required: prompt",
        ("ask", "hi", "--model", "m", "--api-key-file", "nope"): "--api-key-file: 'nope'",
    }
    for args, message in cases.items():
        done = run(*args, url=server.url, cwd=tmp_path)
        assert done.returncode == 2, args
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert server.count == 0


def test_no_key_exits_2_and_the_key_file_works(server: FakeGateway, tmp_path):
    done = run("ask", "hi", "--model", "m", url=None, cwd=tmp_path, CHAT_IMAGE_BASE_URL=server.url)
    assert done.returncode == 2
    assert "no API key: set CHAT_IMAGE_API_KEY" in done.stderr
    (tmp_path / "key").write_text(API_KEY + "\n")
    done = run(
        "ask", "hi", "--model", "m", "--api-key-file", "key",
        url=None, cwd=tmp_path, CHAT_IMAGE_BASE_URL=server.url,
    )  # fmt: skip
    assert done.returncode == 0
    assert server.last.has_api_key(API_KEY)
    assert server.count == 1


def test_ctrl_c_exits_130(server: FakeGateway, tmp_path):
    import signal
    import time

    from cli_kit import popen

    server.default = Reply(fault="hang")
    # PYTHONFAULTHANDLER: on SIGABRT the command prints every thread's stack.
    process = popen(
        "ask", "hi", "--model", "m", url=server.url, cwd=tmp_path, PYTHONFAULTHANDLER="1"
    )
    while server.count == 0 and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        # Show where the command was stuck (it was once a SIGINT the test run itself ignored,
        # see `popen`), and leave no process behind to fail the tests after this one.
        process.send_signal(signal.SIGABRT)
        _, err = process.communicate(timeout=10)
        pytest.fail(f"chat-image ask did not exit within 30 s of Ctrl-C; its stacks:\n{err}")
    assert process.returncode == 130
    assert "Traceback" not in err
