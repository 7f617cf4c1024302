"""Import: each import timed in a fresh interpreter, in milliseconds (startup not included)."""

from __future__ import annotations

import subprocess
import sys
from typing import Final

from ._common import CLIENTS, rotated

IMPORT_PACKAGE: Final = "import (fresh interpreter)"
# The figure (the package alone), and what a script's first line usually is: the
# client and the message classes (for httpx, the same `import httpx`).
IMPORT_CASES: Final = {
    IMPORT_PACKAGE: {
        "chat_image": "import chat_image",
        "httpx": "import httpx",
        "openai": "import openai",
    },
    "import: client and message classes": {
        "chat_image": "from chat_image import ChatImage, ImagePart, TextPart, UserMessage",
        "httpx": "import httpx",
        "openai": "from openai import OpenAI",
    },
}


def run_imports(rounds: int) -> dict[str, dict[str, list[float]]]:
    """Milliseconds to run each import in a fresh interpreter, per client per round."""
    samples: dict[str, dict[str, list[float]]] = {
        case: {name: [] for name in CLIENTS} for case in IMPORT_CASES
    }
    for round_index in range(rounds):
        for case, statements in IMPORT_CASES.items():
            for name in rotated(round_index):
                code = (
                    "import time; t = time.perf_counter(); "
                    f"{statements[name]}; print(time.perf_counter() - t)"
                )
                out = subprocess.run(
                    [sys.executable, "-c", code], check=True, capture_output=True, text=True
                ).stdout
                samples[case][name].append(float(out) * 1e3)
    return samples
