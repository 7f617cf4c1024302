"""What every bench case shares: the request, the key, test images and the round order."""

from __future__ import annotations

import base64
import importlib
import os
import sys
from pathlib import Path
from typing import Any, Final

CLIENTS: Final = ("chat_image", "httpx", "openai")
API_KEY: Final = "sk-bench"
MODEL: Final = "gpt-4o"
QUESTION: Final = "What is in this image?"
SEED_URL: Final = (
    "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/"
    "Gfp-wisconsin-madison-the-nature-boardwalk.jpg/"
    "2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg"
)
PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
# How a worker process is started: this package again, with a hidden flag.
SELF: Final = (sys.executable, "-m", "scripts.bench")


def openai_module() -> Any:
    """The `openai` package, imported by name: only the bench environment has it."""
    return importlib.import_module("openai")


def noise_png(size: int) -> bytes:
    """`size` bytes that sniff as PNG; the server never decodes them."""
    return PNG_SIGNATURE + os.urandom(size - len(PNG_SIGNATURE))


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def dict_messages(image_url: str | None) -> list[dict[str, Any]]:
    """The seed's user message (text and an image URL), or a short text message."""
    if image_url is None:
        return [{"role": "user", "content": QUESTION}]
    return [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": QUESTION},
                {"type": "image_url", "image_url": {"url": image_url}},
            ],
        }
    ]


def rotated(round_index: int, names: tuple[str, ...] = CLIENTS) -> list[str]:
    """The clients in this round's order: each goes first in turn, so drift is shared."""
    shift = round_index % len(names)
    return [*names[shift:], *names[:shift]]


def rss_kib(field_name: str) -> int:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field_name} in /proc/self/status")
