"""`python -m chat_image.testing`: the fake gateway served to other processes.

The server runs in a real child process; the test talks to it over HTTP as a program in
another language would, and with this package's own client.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chat_image import ChatImage, UserMessage
from chat_image.testing import DEFAULT_API_KEY, tool_call


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "chat_image.testing", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=10)
        raise AssertionError(f"the server did not start: {process.stderr.read()}")  # type: ignore[union-attr]
    return process, line.strip()


def _stop(process: subprocess.Popen[str]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=10)
    finally:
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def served() -> Iterator[tuple[str, int]]:
    port = _free_port()
    process, line = _start("--port", str(port), "--content", "Served from afar.")
    try:
        yield line, port
    finally:
        assert _stop(process) == 0


def test_it_serves_on_the_port_given_until_terminated(served: tuple[str, int]) -> None:
    line, port = served
    assert line == f"FakeGateway listening on http://127.0.0.1:{port}/v1"
    with ChatImage(api_key=DEFAULT_API_KEY, base_url=f"http://127.0.0.1:{port}/v1") as client:
        answer = client.chat.completions.create(
            model="m", messages=[UserMessage("hi")], max_tokens=5
        )
    assert answer.choices[0].message.content == "Served from afar."


def test_another_process_queues_answers_and_reads_requests(served: tuple[str, int]) -> None:
    _, port = served
    root = f"http://127.0.0.1:{port}"
    call = tool_call("lookup", {"q": "x"}, id="call_1")
    with httpx.Client(base_url=root) as http:
        queued = http.post("/_fake/queue", json=[{"content": "one"}, {"tool_calls": [call]}])
        assert queued.json() == {"queued": 2}
        headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
        body: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        body["max_tokens"] = 5
        first = http.post("/v1/chat/completions", json=body, headers=headers).json()
        second = http.post("/v1/chat/completions", json=body, headers=headers).json()
        assert first["choices"][0]["message"]["content"] == "one"
        assert second["choices"][0]["message"]["tool_calls"] == [call]
        # A request the gateway refuses is answered as it would, and recorded.
        refused = http.post("/v1/chat/completions", json={"model": "m"}, headers=headers)
        assert refused.status_code == 400
        requests = http.get("/_fake/requests").json()
        assert [r["body"] for r in requests[:2]] == [body, body]
        assert requests[2]["refusal"] == "Missing required parameter: 'messages'."
        assert DEFAULT_API_KEY not in json.dumps(requests)
        assert http.post("/_fake/clear").json() == {}
        assert http.get("/_fake/requests").json() == []


def test_a_bad_queued_answer_is_refused_naming_the_field(served: tuple[str, int]) -> None:
    _, port = served
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
        answer = http.post("/_fake/queue", json={"contnet": "x"})
        assert answer.status_code == 400
        assert "[0].contnet: not a Reply field" in answer.json()["error"]["message"]
        answer = http.post("/_fake/queue", json={"status": 7})
        assert answer.status_code == 400
        assert "status must be an HTTP status" in answer.json()["error"]["message"]
        assert http.get("/_fake/nothing").status_code == 404


def test_any_key_and_a_free_port() -> None:
    process, line = _start("--any-key")
    try:
        base_url = line.rsplit(" ", 1)[1]
        with ChatImage(api_key="sk-whatever-12345", base_url=base_url) as client:
            client.chat.completions.create(model="m", messages=[UserMessage("hi")], max_tokens=5)
    finally:
        assert _stop(process) == 0


def test_a_port_in_use_is_an_error_not_a_hang() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "chat_image.testing", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ},
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
