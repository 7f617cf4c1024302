"""Ceiling: what one process can send when the gateway is never the limit (issue 20's sizing).

One fresh process runs `run_batch` over a folder of small images, and another runs
`ChatImageMapper` (no Ray) over the same images as in-memory batches, both against the
bench's local gateway in its own process. Each reports items a second, CPU seconds per item
(user + system, from `getrusage`) and peak RSS: the figures docs/distributed.md sizes a job
with. The gateway's own CPU is not counted; on a machine with few cores it shares them, so
the figures are a floor of what a process does beside a remote gateway.
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from ._common import API_KEY, MODEL, QUESTION, SELF, rss_kib

CEILING_ITEMS: Final = 10_000
CEILING_CONCURRENCY: Final = 64
# Rows per mapper call: a Ray Data batch_size a user might pick for small images.
CEILING_BATCH_ROWS: Final = 500
MODES: Final = ("runner", "mapper")


def _tiny_png(tag: int) -> bytes:
    """A small PNG-signed image, distinct per `tag` (each one is hashed)."""
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + tag.to_bytes(8, "big") + bytes(48)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _run_runner(folder: Path, url: str) -> int:
    from chat_image.batch import run_batch

    with tempfile.TemporaryDirectory() as out:
        summary = asyncio.run(
            run_batch(
                folder,
                Path(out) / "answers.jsonl",
                prompt=QUESTION,
                model=MODEL,
                max_tokens=50,
                concurrency=CEILING_CONCURRENCY,
                api_key=API_KEY,
                base_url=url,
                count_first=False,
            )
        )
    assert summary.ok == CEILING_ITEMS, summary
    return summary.ok


def _run_mapper(folder: Path, url: str) -> int:
    from chat_image.ray import ChatImageMapper

    paths = sorted(folder.iterdir())
    done = 0
    with ChatImageMapper(
        model=MODEL,
        prompt=QUESTION,
        max_tokens=50,
        in_flight=CEILING_CONCURRENCY,
        api_key=API_KEY,
        base_url=url,
    ) as mapper:
        for start in range(0, len(paths), CEILING_BATCH_ROWS):
            chunk = paths[start : start + CEILING_BATCH_ROWS]
            # Read here, as Ray's read_binary_files hands the mapper bytes.
            batch = {"bytes": [p.read_bytes() for p in chunk], "path": [str(p) for p in chunk]}
            out = mapper(batch)
            assert out["status"] == ["ok"] * len(chunk), set(out["error_message"])
            done += len(chunk)
    return done


def ceiling_worker(mode: str, folder: str, url: str) -> None:
    """One run in this fresh process; prints items/s, CPU ms per item and peak RSS, as JSON."""
    run = _run_runner if mode == "runner" else _run_mapper
    cpu, started = _cpu_seconds(), time.perf_counter()
    done = run(Path(folder), url)
    elapsed, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    print(
        json.dumps(
            {
                "items_per_s": done / elapsed,
                "cpu_ms_per_item": 1000 * cpu / done,
                "peak_rss_mib": rss_kib("VmHWM") / 1024,
            }
        )
    )


def _measure(mode: str, folder: Path, url: str) -> dict[str, float]:
    argv = [*SELF, "--ceiling-worker", mode, str(folder), url]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out)
    return result


def run_ceiling_case(url: str, rounds: int) -> dict[str, Any]:
    """Each mode's median items/s, CPU per item and peak RSS over `rounds` fresh processes."""
    with tempfile.TemporaryDirectory() as root:
        folder = Path(root)
        for index in range(CEILING_ITEMS):
            (folder / f"{index:05d}.png").write_bytes(_tiny_png(index))
        runs: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
        for _ in range(rounds):
            for mode in MODES:  # interleaved, so drift is shared
                runs[mode].append(_measure(mode, folder, url))
    return {
        "items": CEILING_ITEMS,
        "concurrency": CEILING_CONCURRENCY,
        **{
            f"{mode}_{figure}": statistics.median(run[figure] for run in runs[mode])
            for mode in MODES
            for figure in ("items_per_s", "cpu_ms_per_item", "peak_rss_mib")
        },
    }


def ceiling_table(result: dict[str, Any]) -> str:
    """The ceiling figures as text (information for sizing: there is no target)."""
    header = f"{'case':<64} {'unit':<8} {'figure':>10}"
    lines = [header, "-" * len(header)]
    names = {"runner": "run_batch", "mapper": "ChatImageMapper, no Ray"}
    for mode in MODES:
        case = (
            f"ceiling: {names[mode]}, {result['items']:,} images, {result['concurrency']} in flight"
        )
        lines += [
            f"{case:<64} {'items/s':<8} {result[f'{mode}_items_per_s']:>10.0f}",
            f"{'  CPU per item':<64} {'ms':<8} {result[f'{mode}_cpu_ms_per_item']:>10.3f}",
            f"{'  peak RSS':<64} {'MiB':<8} {result[f'{mode}_peak_rss_mib']:>10.1f}",
        ]
    return "\n".join(lines)
