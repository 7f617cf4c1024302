"""Running the installed `chat-image` command against the fake gateway, for the CLI tests."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

from chat_image.testing import RecordedRequest
from conftest import API_KEY

# The console script pip installed beside this interpreter (the nox session's venv).
COMMAND = shutil.which("chat-image", path=str(Path(sys.executable).parent)) or "chat-image"


def env(url: str | None, **extra: str) -> dict[str, str]:
    """The environment of a command run: the machine's, without its keys, plus ours."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CHAT_IMAGE_", "OPENAI_"))}
    if url is not None:
        base |= {"CHAT_IMAGE_BASE_URL": url, "CHAT_IMAGE_API_KEY": API_KEY}
    return base | extra


def run(*args: str, url: str | None, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, *args],
        env=env(url, **extra),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def popen(*args: str, url: str, cwd: Path, **extra_env: str) -> subprocess.Popen[str]:
    """The command started as from a terminal, to be signalled: with Ctrl-C (SIGINT) not ignored.

    A test run started in the background (a CI runner, `nox ... &`) has SIGINT ignored, which a
    child inherits, and Python then never raises KeyboardInterrupt; a handler of ours, unlike
    an ignored signal, is reset to the default when the child starts.
    """
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen(
            [COMMAND, *args],
            env=env(url, **extra_env),
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def png(width: int, height: int, tag: int = 0) -> bytes:
    """A PNG whose header says `width` x `height` (enough for imagesize and sniffing); `tag`
    makes each file's bytes, and so its request body, unique."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + b"tag"
        + str(tag).encode()
    )


def image_folder(root: Path, count: int) -> dict[str, str]:
    """`count` distinct small images under `root`; returns their sha256 -> id (file name)."""
    root.mkdir(parents=True, exist_ok=True)
    digests = {}
    for index in range(count):
        data = png(64, 48, index)
        name = f"img{index:03d}.png"
        (root / name).write_bytes(data)
        digests[hashlib.sha256(data).hexdigest()] = name
    return digests


def image_of(request: RecordedRequest, digests: dict[str, str]) -> str:
    """The id of the image a request carried (its data URL decoded and hashed)."""
    parts = request.json["messages"][-1]["content"]
    url = next(part["image_url"]["url"] for part in parts if part["type"] == "image_url")
    data = base64.b64decode(url.split(",", 1)[1])
    return digests[hashlib.sha256(data).hexdigest()]


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
