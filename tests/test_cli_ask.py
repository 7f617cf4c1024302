"""`chat-image ask`, the installed command, against the loopback server: each exit status."""

from __future__ import annotations

import json
import subprocess
import sys

from cli_kit import png, run
from conftest import API_KEY
from loopback import LoopbackServer, Reply, completion


def test_answers_and_exits_0(server: LoopbackServer, tmp_path):
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
    sent = server.last.json()
    assert sent["model"] == "gpt-4o"
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    parts = sent["messages"][1]["content"]
    assert parts[0] == {"type": "text", "text": "What is this?"}
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert parts[2]["image_url"] == {"url": "https://example.com/b.png", "detail": "low"}


def test_json_verbose_and_the_model_from_the_environment(server: LoopbackServer, tmp_path):
    server.responder = lambda _: Reply.json(completion("ok"), **{"x-request-id": "req_42"})
    done = run("ask", "hi", "--json", "-v", url=server.url, cwd=tmp_path, CHAT_IMAGE_MODEL="m1")
    assert done.returncode == 0
    assert json.loads(done.stdout) == completion("ok")
    assert "request id: req_42" in done.stderr
    assert "usage: 1118 in, 12 out" in done.stderr
    assert server.last.json()["model"] == "m1"


def test_python_dash_m_is_the_same_command(server: LoopbackServer, tmp_path):
    from cli_kit import env

    done = subprocess.run(
        [sys.executable, "-m", "chat_image", "ask", "hi", "--model", "m"],
        env=env(server.url), cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "A wooden boardwalk through a green meadow.\n")


def test_an_api_error_is_one_line_and_exits_1(server: LoopbackServer, tmp_path):
    server.responder = lambda _: Reply.error(401, f"Incorrect API key provided: {API_KEY}")
    done = run("ask", "hi", "--model", "m", url=server.url, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "Error code: 401" in done.stderr
    assert "Incorrect API key provided" in done.stderr
    assert API_KEY not in done.stderr
    assert "Traceback" not in done.stderr


def test_debug_shows_the_traceback(server: LoopbackServer, tmp_path):
    server.responder = lambda _: Reply.error(400, "bad")
    done = run("ask", "hi", "--model", "m", "--debug", url=server.url, cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" in done.stderr
    assert API_KEY not in done.stderr


def test_a_network_failure_exits_1(tmp_path):
    with LoopbackServer().running() as gone:
        url = gone.url
    done = run("ask", "hi", "--model", "m", "--max-retries", "0", url=url, cwd=tmp_path)
    assert done.returncode == 1
    assert "Connection error" in done.stderr


def test_bad_input_exits_2_and_sends_nothing(server: LoopbackServer, tmp_path):
    (tmp_path / "notes.png").write_bytes(b"%PDF-1.7\n")
    cases = {
        ("ask", "hi", "--model", "m", "--image", "missing.png"): "'missing.png': no such file",
        ("ask", "hi", "--model", "m", "--image", "notes.png"): "is not a PNG, JPEG, GIF or WebP",
        ("ask", "hi", "--image", "notes.png"): "pass --model NAME or set CHAT_IMAGE_MODEL",
        ("ask", "hi", "--model", "m", "--max-tokens", "0"): "max_tokens",
        ("ask", "--model", "m"): "the following arguments are required: prompt",
        ("ask", "hi", "--model", "m", "--api-key-file", "nope"): "--api-key-file: 'nope'",
    }
    for args, message in cases.items():
        done = run(*args, url=server.url, cwd=tmp_path)
        assert done.returncode == 2, args
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert server.count == 0


def test_no_key_exits_2_and_the_key_file_works(server: LoopbackServer, tmp_path):
    done = run("ask", "hi", "--model", "m", url=None, cwd=tmp_path, CHAT_IMAGE_BASE_URL=server.url)
    assert done.returncode == 2
    assert "api_key: missing" in done.stderr
    (tmp_path / "key").write_text(API_KEY + "\n")
    done = run(
        "ask", "hi", "--model", "m", "--api-key-file", "key",
        url=None, cwd=tmp_path, CHAT_IMAGE_BASE_URL=server.url,
    )  # fmt: skip
    assert done.returncode == 0
    assert server.last.headers["Authorization"] == f"Bearer {API_KEY}"
    assert server.count == 1


def test_ctrl_c_exits_130(tmp_path):
    import signal
    import time

    from cli_kit import popen

    with LoopbackServer().running() as slow:
        slow.responder = lambda _: Reply.hang()
        process = popen("ask", "hi", "--model", "m", url=slow.url, cwd=tmp_path)
        while slow.count == 0 and process.poll() is None:
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "Traceback" not in err
