"""The command line of `nox -s bench`: runs the chosen cases, prints the table, writes JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

import chat_image

from ._async import async_worker, run_async
from ._batch import batch_table, batch_worker, run_batch_case
from ._ceiling import ceiling_table, ceiling_worker, run_ceiling_case
from ._common import openai_module
from ._images import (
    FIT_MEMORY,
    FIT_TIME,
    STRIP_MEMORY,
    STRIP_RATIO,
    STRIP_RAW_RATIO,
    fit_worker,
    run_fit,
    run_strip,
)
from ._imports import IMPORT_PACKAGE, run_imports
from ._latency import run_latency
from ._memory import MEMORY_MANY, memory_worker, run_memory
from ._page import PAGE_ITEMS, run_report_page
from ._report import Row, table
from ._server import Server, completion_response, serve, stream_response
from ._sse import SSE_VS_COPY, run_sse
from ._stream import STREAM_FIRST, STREAM_PER_CHUNK, run_stream
from ._structured import (
    PARSE_VS_CREATE,
    STREAM_VS_OPENAI,
    STREAM_VS_PLAIN,
    receipt_body,
    receipt_stream_body,
    run_parse,
    run_structured_stream,
)
from ._tracing import run_tracing, tracing_summary, tracing_table

# "tracing" runs last: it sets OpenTelemetry's global providers, which cannot be unset.
CASES = (
    "latency", "async", "import", "memory", "stream", "sse", "batch", "structured", "report",
    "ceiling", "images", "tracing",
)  # fmt: skip
CONCURRENCY = 300


def _async_rows(url: str, rounds: int) -> list[Row]:
    by_client = run_async(url, min(rounds, 15), CONCURRENCY)
    name = f"async: {CONCURRENCY} concurrent"
    rows = []
    for kind, unit in (("wall", "ms/batch"), ("cpu", "us/call")):
        concurrent = {client: figures[kind] for client, figures in by_client.items()}
        over_aiohttp = {
            "chat_image": concurrent.pop("chat_image_aiohttp"),
            "httpx": concurrent.pop("httpx_aiohttp"),
            "openai": concurrent.pop("openai_aiohttp"),
        }
        same = {**concurrent, "httpx": concurrent.pop("httpx_same_limits")}
        # The targets are on the time a batch takes; the CPU a call costs the client's own
        # process is shown beside it: on a shared machine it varies less than the time.
        cpu = kind == "cpu"
        suffix = ", CPU" if cpu else ""
        rows += [
            Row(
                f"{name} calls{suffix}",
                unit,
                concurrent,
                "(info)" if cpu else "<= 1.00x httpx",
                limit=None if cpu else 1.00,
                paired=False,
            ),
            Row(f"{name}, httpx at our limits{suffix}", unit, same, "(info)", paired=False),
            Row(
                f"{name}, all over aiohttp{suffix}",
                unit,
                over_aiohttp,
                "(info)" if cpu else "<= 1.15x httpx",
                limit=None if cpu else 1.15,
                paired=False,
            ),
        ]
    return rows


def _import_rows(rounds: int) -> list[Row]:
    rows = []
    for case, samples in run_imports(min(max(rounds, 5), 15)).items():
        target, limit = ("<= 1.25x httpx", 1.25) if case == IMPORT_PACKAGE else ("(info)", None)
        rows.append(Row(case, "ms", samples, target, limit=limit))
    return rows


def _memory_rows(url: str, rounds: int) -> list[Row]:
    rows = []
    for case, samples in run_memory(url, rounds).items():
        # Issue 11's targets: one image at most 0.25x its size above the baseline, 64 in
        # flight at most 2x one image.
        limit = 2.0 if case.startswith(MEMORY_MANY) else 0.25
        target = f"<= {limit}x image size"
        rows.append(Row(case, "x image", samples, target, limit=limit, absolute=True))
    return rows


def _image_rows(rounds: int) -> list[Row]:
    """Issue 18's figures: stripping a phone JPEG's metadata against reading it (<= 1.2x, peak
    under 1 MB above the baseline), and fitting a 12 MP photo to the anthropic profile."""
    strip = run_strip(rounds)
    fit = run_fit(rounds)
    return [
        Row(STRIP_RATIO, "x read", strip[STRIP_RATIO], "<= 1.20x", limit=1.2, absolute=True),
        Row(STRIP_RAW_RATIO, "x read", strip[STRIP_RAW_RATIO], "(info)"),
        Row(STRIP_MEMORY, "MB", strip[STRIP_MEMORY], "< 1 MB", limit=1.0, absolute=True),
        Row(FIT_TIME, "ms", fit[FIT_TIME], "(info)"),
        Row(FIT_MEMORY, "MB", fit[FIT_MEMORY], "(info)"),
    ]


def _stream_rows(rounds: int, calls: int) -> list[Row]:
    samples = run_stream(rounds, calls)
    chunks = samples[STREAM_PER_CHUNK]
    return [
        Row(STREAM_PER_CHUNK, "us/chunk", chunks, "<= 2.50x httpx", limit=2.5),
        Row(
            STREAM_PER_CHUNK.replace("per chunk", "vs openai"),
            "us/chunk",
            chunks,
            "<= 0.15x openai",
            limit=0.15,
            against="openai",
        ),
        Row(STREAM_FIRST, "us", samples[STREAM_FIRST], "<= 1.10x httpx", limit=1.10),
    ]


def _sse_rows(rounds: int) -> list[Row]:
    """Issue 22: the SSE parser linear in line length, shown against one copy of the line
    (see `_sse`): the quadratic one it replaced was 5,000 copies at 4 MiB."""
    rows = []
    for case, samples in run_sse(rounds).items():
        if case.endswith(SSE_VS_COPY.rpartition("line")[2]):
            rows.append(Row(case, "x copy", samples, "<= 10x", limit=10.0, absolute=True))
        else:
            rows.append(Row(case, "ns/byte", samples, "(info)"))
    return rows


def _structured_rows(rounds: int, calls: int) -> list[Row]:
    parse = run_parse(rounds, calls)
    stream = run_structured_stream(rounds, max(calls // 15, 3))
    return [
        Row(
            PARSE_VS_CREATE,
            "x create",
            parse[PARSE_VS_CREATE],
            "<= 1.10x create()",
            limit=1.10,
            absolute=True,
        ),
        Row(
            STREAM_VS_PLAIN,
            "x plain",
            stream[STREAM_VS_PLAIN],
            "<= 2.00x plain stream",
            limit=2.0,
            absolute=True,
        ),
        Row(
            STREAM_VS_OPENAI,
            "us/chunk",
            stream[STREAM_VS_OPENAI],
            "<= 0.50x openai",
            limit=0.5,
            against="openai",
        ),
    ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds: a smoke run")
    parser.add_argument("--rounds", type=int, help="rounds of each timed case")
    parser.add_argument("--json", default="bench-results.json", help="where to write results")
    parser.add_argument(
        "--only",
        default=",".join(CASES),
        help=f"comma-separated subset of: {', '.join(CASES)}",
    )
    # Worker processes: this package again, with one of these.
    parser.add_argument("--async-worker", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--batch-worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--ceiling-worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-stream", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-receipt", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-receipt-stream", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--images-fit-worker", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    return parser


def main() -> None:
    args = _parser().parse_args()
    if args.serve or args.serve_stream:
        asyncio.run(serve(stream_response() if args.serve_stream else completion_response()))
        return
    if args.serve_receipt or args.serve_receipt_stream:
        asyncio.run(serve(receipt_stream_body() if args.serve_receipt_stream else receipt_body()))
        return
    if args.memory_worker:
        client, path, url = args.memory_worker
        memory_worker(client, path, url, tracing=args.trace)
        return
    if args.images_fit_worker:
        fit_worker(args.images_fit_worker)
        return
    if args.async_worker:
        async_worker(*args.async_worker)
        return
    if args.batch_worker:
        batch_worker(*args.batch_worker)
        return
    if args.ceiling_worker:
        ceiling_worker(*args.ceiling_worker)
        return

    only = set(args.only.split(","))
    rounds = args.rounds or (3 if args.quick else 25)
    calls = 50 if args.quick else 150
    rows: list[Row] = []
    batch: dict[str, Any] | None = None
    ceiling: dict[str, Any] | None = None
    tracing: dict[str, float] | None = None
    server = Server()
    try:
        print(
            f"{platform.python_implementation()} {platform.python_version()}, "
            f"{os.cpu_count()} CPUs; {rounds} rounds; server at {server.url}",
            flush=True,
        )
        if "latency" in only:
            for case, samples in run_latency(server.url, rounds, calls).items():
                rows.append(Row(case, "us/call", samples, "<= 1.10x httpx", limit=1.10))
            print("latency done", flush=True)
        if "async" in only:
            rows += _async_rows(server.url, rounds)
            print("async done", flush=True)
        if "import" in only:
            rows += _import_rows(rounds)
            print("imports done", flush=True)
        if "memory" in only:
            rows += _memory_rows(server.url, 1 if args.quick else 3)
            print("memory done", flush=True)
        if "stream" in only:
            rows += _stream_rows(rounds, 3 if args.quick else 10)
            print("stream done", flush=True)
        if "sse" in only:
            rows += _sse_rows(3 if args.quick else 10)
            print("sse done", flush=True)
        if "structured" in only:
            rows += _structured_rows(rounds, calls)
            print("structured done", flush=True)
        if "images" in only:
            rows += _image_rows(1 if args.quick else 3)
            print("images done", flush=True)
        if "batch" in only:
            batch = run_batch_case(server.url, 1 if args.quick else 3)
            print("batch done", flush=True)
        if "report" in only:
            # The report page at 10,000 items (1,000 for --quick), in Debian's Chromium.
            items = 1_000 if args.quick else PAGE_ITEMS
            rows += run_report_page(1 if args.quick else 2, items)
            print("report done", flush=True)
        if "ceiling" in only:
            ceiling = run_ceiling_case(server.url, 1 if args.quick else 3)
            print("ceiling done", flush=True)
        if "tracing" in only:
            tracing = tracing_summary(run_tracing(server.url, rounds, calls))
            print("tracing done", flush=True)
    finally:
        server.stop()
    text = table(rows)
    if batch is not None:
        text += "\n\n" + batch_table(batch)
    if ceiling is not None:
        text += "\n\n" + ceiling_table(ceiling)
    if tracing is not None:
        text += "\n\n" + tracing_table(tracing)
    print()
    print(text)
    report = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "rounds": rounds,
        "calls_per_round": calls,
        "versions": {
            "chat_image": chat_image.__version__,
            "httpx": httpx.__version__,
            "openai": openai_module().__version__,
        },
        "rows": [asdict(row) for row in rows],
        "batch": batch,
        "ceiling": ceiling,
        "tracing": tracing,
        "table": text,
    }
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.json}")


if __name__ == "__main__":
    main()
