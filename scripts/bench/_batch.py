"""Batch: `chat_image.batch.run_batch` over 10,000 small images against a bare gather.

Items/s of the runner at concurrency 64 against the same client's calls in a bare
`asyncio.gather` held to 64 in flight by a semaphore, rounds interleaved, both over
`DefaultAioHttpClient` (the runner's choice with the aiohttp extra, which the bench session
installs); and the runner's peak RSS over 1,000 vs 10,000 images. Each run is a fresh
process. Printed as its own small table: it compares the runner with the client, not the
client with others.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import chat_image
from chat_image import ImagePart, TextPart, UserMessage

from ._common import API_KEY, MODEL, PNG_SIGNATURE, QUESTION, SELF, rss_kib

BATCH_ITEMS: Final = 10_000
BATCH_SMALL_RUN: Final = 1_000
BATCH_CONCURRENCY: Final = 64


def _tiny_png(tag: int) -> bytes:
    """A small PNG-signed image, distinct per `tag` (the runner hashes each one)."""
    return PNG_SIGNATURE + b"\x00\x00\x00\rIHDR" + tag.to_bytes(8, "big") + bytes(48)


async def _batch_gather(folder: Path, url: str) -> int:
    limit = asyncio.Semaphore(BATCH_CONCURRENCY)
    # The runner's backend: it picks DefaultAioHttpClient when the aiohttp extra is there.
    http = chat_image.DefaultAioHttpClient()
    async with chat_image.AsyncChatImage(api_key=API_KEY, base_url=url, http_client=http) as client:

        async def one(path: Path) -> None:
            async with limit:
                part = ImagePart.from_path(path)
                message = UserMessage([TextPart(QUESTION), part])
                await client.chat.completions.create(model=MODEL, messages=[message], max_tokens=50)

        paths = sorted(folder.iterdir())
        await asyncio.gather(*(one(path) for path in paths))
        return len(paths)


async def _batch_runner(folder: Path, url: str) -> int:
    from chat_image.batch import run_batch

    with tempfile.TemporaryDirectory() as out:
        summary = await run_batch(
            folder,
            Path(out) / "answers.jsonl",
            prompt=QUESTION,
            model=MODEL,
            max_tokens=50,
            concurrency=BATCH_CONCURRENCY,
            api_key=API_KEY,
            base_url=url,
        )
    assert summary.ok == summary.total, summary
    return summary.ok


def batch_worker(mode: str, folder: str, url: str) -> None:
    """One run in this fresh process; prints items/s and the peak RSS in KiB, as JSON."""
    run = _batch_runner if mode == "runner" else _batch_gather
    started = time.perf_counter()
    done = asyncio.run(run(Path(folder), url))
    elapsed = time.perf_counter() - started
    print(json.dumps({"items_per_s": done / elapsed, "peak_rss_kib": rss_kib("VmHWM")}))


def _batch_measure(mode: str, folder: Path, url: str) -> dict[str, float]:
    argv = [*SELF, "--batch-worker", mode, str(folder), url]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out)
    return result


def run_batch_case(url: str, rounds: int) -> dict[str, Any]:
    """Items/s of the runner and of a bare gather (rounds interleaved), and peak RSS."""
    with tempfile.TemporaryDirectory() as root:
        big, small = Path(root, "big"), Path(root, "small")
        big.mkdir()
        small.mkdir()
        for index in range(BATCH_ITEMS):
            data = _tiny_png(index)
            (big / f"{index:05d}.png").write_bytes(data)
            if index < BATCH_SMALL_RUN:
                (small / f"{index:05d}.png").write_bytes(data)
        runner, gather, ratios = [], [], []
        for _ in range(rounds):
            ours = _batch_measure("runner", big, url)["items_per_s"]
            bare = _batch_measure("gather", big, url)["items_per_s"]
            runner.append(ours)
            gather.append(bare)
            ratios.append(ours / bare)
        rss_small = [_batch_measure("runner", small, url)["peak_rss_kib"] for _ in range(rounds)]
        rss_big = [_batch_measure("runner", big, url)["peak_rss_kib"] for _ in range(rounds)]
    return {
        "items": BATCH_ITEMS,
        "concurrency": BATCH_CONCURRENCY,
        "runner_items_per_s": statistics.median(runner),
        "gather_items_per_s": statistics.median(gather),
        "runner_vs_gather": statistics.median(ratios),
        "peak_rss_mib_1000": statistics.median(rss_small) / 1024,
        "peak_rss_mib_10000": statistics.median(rss_big) / 1024,
        "peak_rss_10000_vs_1000": statistics.median(rss_big) / statistics.median(rss_small),
    }


def batch_table(result: dict[str, Any]) -> str:
    """The batch figures beside their targets (issue 9), as text."""
    ratio, growth = result["runner_vs_gather"], result["peak_rss_10000_vs_1000"]
    rows = [
        ("batch: runner, 10,000 images, conc. 64", "items/s", result["runner_items_per_s"], "", ""),
        ("batch: bare gather, same calls", "items/s", result["gather_items_per_s"], "", ""),
        ("batch: runner / gather", "x", ratio, ">= 0.80x", "yes" if ratio >= 0.8 else "NO"),
        ("batch: peak RSS, 1,000 images", "MiB", result["peak_rss_mib_1000"], "", ""),
        ("batch: peak RSS, 10,000 images", "MiB", result["peak_rss_mib_10000"], "", ""),
        (
            "batch: peak RSS 10,000 / 1,000",
            "x",
            growth,
            "<= 1.10x",
            "yes" if growth <= 1.1 else "NO",
        ),
    ]
    header = f"{'case':<44} {'unit':<8} {'figure':>10}  {'target':<10} met"
    lines = [header, "-" * len(header)]
    for case, unit, figure, target, met in rows:
        lines.append(f"{case:<44} {unit:<8} {figure:>10.2f}  {target:<10} {met or '-'}")
    return "\n".join(lines)
