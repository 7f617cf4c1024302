"""Memory: peak memory while sending a 20 MB image from a file, one fresh process each.

Peak resident memory above the process's baseline (VmHWM, reset just before) and Python's
own peak allocation (tracemalloc), both as multiples of the image's size. Then chat_image
alone (the others would need gigabytes) with 64 such images in flight at once on one async
client, the parts made after the baseline.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import resource
import subprocess
import tempfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Final

import httpx

import chat_image
from chat_image import ImagePart, TextPart, UserMessage

from ._common import (
    API_KEY,
    CLIENTS,
    MODEL,
    QUESTION,
    SELF,
    data_url,
    dict_messages,
    noise_png,
    openai_module,
    rotated,
    rss_kib,
)

LARGE_IMAGE_BYTES: Final = 20_000_000
IN_FLIGHT: Final = 64
IN_FLIGHT_CLIENT: Final = "chat_image_async_64"
MEMORY_ONE: Final = "memory: 20 MB image from a file"
MEMORY_MANY: Final = f"memory: {IN_FLIGHT} x 20 MB in flight"


def _reset_peak_rss() -> bool:
    """Linux: make VmHWM (peak RSS) start again from the current RSS."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _in_flight_sender(path: str, url: str) -> Callable[[], None]:
    """64 calls gathered on one async client, each with its own part for the file at `path`."""
    loop = asyncio.new_event_loop()
    ours = chat_image.AsyncChatImage(api_key=API_KEY, base_url=url)
    loop.run_until_complete(
        ours.chat.completions.create(model=MODEL, messages=dict_messages(None), max_tokens=1)
    )

    async def send_all() -> None:
        parts = [ImagePart.from_path(path) for _ in range(IN_FLIGHT)]
        await asyncio.gather(
            *(
                ours.chat.completions.create(
                    model=MODEL, messages=[UserMessage([TextPart(QUESTION), part])], max_tokens=300
                )
                for part in parts
            )
        )

    return lambda: loop.run_until_complete(send_all())


def _sender(client: str, path: str, url: str) -> Callable[[], None]:
    """One send of the image at `path` by `client`, its connection already warm."""
    text = dict_messages(None)
    if client == IN_FLIGHT_CLIENT:
        return _in_flight_sender(path, url)
    if client == "chat_image":
        ours = chat_image.ChatImage(api_key=API_KEY, base_url=url)
        ours.chat.completions.create(model=MODEL, messages=text, max_tokens=1)

        def send_ours() -> None:
            message = UserMessage([TextPart(QUESTION), ImagePart.from_path(path)])
            ours.chat.completions.create(model=MODEL, messages=[message], max_tokens=300)

        return send_ours
    if client == "httpx":
        http = httpx.Client(headers={"Authorization": f"Bearer {API_KEY}"})
        endpoint = url + "/v1/chat/completions"
        http.post(endpoint, json={"model": MODEL, "messages": text, "max_tokens": 1})

        def send_httpx() -> None:
            messages = dict_messages(data_url(Path(path).read_bytes()))
            body = {"model": MODEL, "messages": messages, "max_tokens": 300}
            json.loads(http.post(endpoint, json=body).content)

        return send_httpx
    theirs = openai_module().OpenAI(api_key=API_KEY, base_url=url + "/v1", max_retries=0)
    theirs.chat.completions.create(model=MODEL, messages=text, max_tokens=1)

    def send_openai() -> None:
        messages = dict_messages(data_url(Path(path).read_bytes()))
        theirs.chat.completions.create(model=MODEL, messages=messages, max_tokens=300)

    return send_openai


def memory_worker(client: str, path: str, url: str, tracing: bool) -> None:
    """Send the image at `path` once; print the peak above the baseline, in bytes."""
    send = _sender(client, path, url)
    gc.collect()
    if tracing:
        tracemalloc.start()
        send()
        _, peak = tracemalloc.get_traced_memory()
        print(peak)
        return
    before = rss_kib("VmRSS")
    if not _reset_peak_rss():
        # Without the reset, the peak so far stands in for the baseline.
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    send()
    print((rss_kib("VmHWM") - before) * 1024)


def run_memory(url: str, rounds: int) -> dict[str, dict[str, list[float]]]:
    """Peak memory above baseline while sending a 20 MB image, as multiples of its size."""
    samples: dict[str, dict[str, list[float]]] = {}
    cases = [(MEMORY_ONE, CLIENTS), (MEMORY_MANY, (IN_FLIGHT_CLIENT,))]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "large.png"
        path.write_bytes(noise_png(LARGE_IMAGE_BYTES))
        for round_index in range(rounds):
            for (case, workers), tracing in itertools.product(cases, (False, True)):
                row = f"{case}, {'tracemalloc' if tracing else 'peak RSS'}"
                for name in rotated(round_index, workers):
                    argv = [*SELF, "--memory-worker", name, str(path), url]
                    out = subprocess.run(
                        [*argv, "--trace"] if tracing else argv,
                        check=True,
                        capture_output=True,
                        text=True,
                    ).stdout
                    # The 64-in-flight figure is chat_image's, in its column.
                    column = "chat_image" if name == IN_FLIGHT_CLIENT else name
                    samples.setdefault(row, {}).setdefault(column, [])
                    samples[row][column].append(int(out) / LARGE_IMAGE_BYTES)
    return samples
