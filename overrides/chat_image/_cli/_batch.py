"""`chat-image batch`: a folder or JSONL manifest answered into JSONL, resumably.

The batch runner is imported only when this command runs, so `ask` starts as fast as the client.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ._common import (
    EXIT_SIGINT,
    EXIT_SIGTERM,
    PROBLEMS_SHOWN,
    UsageError,
    read_api_key,
    resolve_base_url,
    resolve_model,
    say,
)
from ._image_options import image_policy

if TYPE_CHECKING:
    from ..batch import BatchSummary, InputProblem, Shard

__all__ = ["add_parser", "run"]


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    batch = commands.add_parser(
        "batch", parents=[common], help="answer a folder or JSONL manifest into JSONL, resumably"
    )
    batch.add_argument("input", metavar="INPUT", help="a folder of images or a JSONL manifest")
    batch.add_argument(
        "--output", "-o", help="JSONL answers; running again resumes (- : stdout, no resume)"
    )
    batch.add_argument("--prompt", help="what to ask of each image (a manifest line may override)")
    batch.add_argument("--concurrency", type=int, default=8, help="requests in flight (8)")
    batch.add_argument("--rpm", type=float, help="requests per minute, at most")
    batch.add_argument("--tpm", type=float, help="estimated tokens per minute, at most")
    batch.add_argument("--dry-run", action="store_true", help="count and estimate; send nothing")
    batch.add_argument("--retry-failed", action="store_true", help="redo items that failed")
    batch.add_argument(
        "--shard",
        metavar="K/N|auto",
        help="take the K-th of N stable parts; 'auto': K (and N) from a Kubernetes indexed "
        "job or a Slurm array",
    )
    batch.add_argument(
        "--shards",
        type=int,
        metavar="N",
        help="how many parts, for --shard auto (default: $CHAT_IMAGE_SHARDS, or Slurm's count)",
    )
    batch.add_argument(
        "--grace",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="on Ctrl-C or SIGTERM, how long requests in flight may finish (5)",
    )
    batch.add_argument(
        "--schema",
        metavar="SCHEMA",
        help="parse each answer into this type (`parsed` in each line): a JSON Schema file "
        "or module:Class",
    )
    batch.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..batch import dry_run

    shard = _shard(args, err)
    source = Path(args.input)
    folder = source.is_dir()
    if not folder and not source.is_file():
        raise UsageError(f"INPUT {args.input!r}: no such folder or file")
    if folder and not args.prompt:
        raise UsageError("a folder needs --prompt: what to ask of each image")
    model = resolve_model(args, required=folder)
    if args.dry_run:
        reasons: Counter[str] = Counter()

        def skipped(found: InputProblem) -> None:
            # Issue 18: what was skipped and why; with -v, each file by name.
            reasons[found.problem] += 1
            if args.verbose:
                say(err, f"skipped {found.where}: {found.problem}")

        report = dry_run(
            source,
            args.output,
            prompt=args.prompt,
            system=args.system,
            detail=args.detail,
            max_tokens=args.max_tokens,
            shard=shard,
            on_problem=skipped,
        )
        out.write(
            f"items: {report.items} ({report.already_ok} already ok in the output, "
            f"{report.to_send} to send)\n"
            f"images: {report.images}"
            + (f" ({report.unsized_images} of unknown size)" if report.unsized_images else "")
            + f"\nestimated input tokens: {report.input_tokens}\n"
            f"max output tokens: {report.max_output_tokens}\n"
            f"skipped input: {report.problems}\n"
            + "".join(f"  {count}: {reason}\n" for reason, count in reasons.most_common())
        )
        return 2 if report.bad_input else 0
    if not args.output:
        raise UsageError("--output FILE is needed (JSONL; running again resumes)")
    if args.schema is not None:
        from .._structured.spec import load_response_format

        args.response_format = load_response_format(args.schema)
    api_key, base_url = read_api_key(args), resolve_base_url(args)
    return asyncio.run(_run_batch(args, source, model, shard, api_key, base_url, err))


def _shard(args: argparse.Namespace, err: TextIO) -> Shard | None:
    """--shard K/N, or the job array's shard for --shard auto (said on stderr)."""
    from ..batch._shards import resolve_shard

    if args.shard is None:
        if args.shards is not None:
            raise UsageError("--shards N goes with --shard auto")
        return None
    chosen = resolve_shard(args.shard, args.shards)
    if args.shard == "auto":
        say(err, chosen.describe())
    return chosen.shard


async def _run_batch(
    args: argparse.Namespace,
    source: Path,
    model: str | None,
    shard: Shard | None,
    api_key: str | None,
    base_url: str | None,
    err: TextIO,
) -> int:
    from ..batch import DEFAULT_BATCH_RETRIES, run_batch
    from ..batch._progress import ProgressReporter

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    stopped_by: list[signal.Signals] = []

    def interrupt(signum: signal.Signals) -> None:
        # SIGTERM is what Kubernetes, systemd and `timeout` send: it stops the run as Ctrl-C.
        again = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
        say(err, f"stopping: finishing the requests in flight ({again} again to quit now)")
        stopped_by.append(signum)
        stop.set()
        # A second one acts as usual: KeyboardInterrupt, or SIGTERM's default (the end).
        for each in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(each)

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, interrupt, signum)
    shown = 0
    reasons: Counter[str] = Counter()

    def problem(found: InputProblem) -> None:
        nonlocal shown
        shown += 1
        reasons[found.problem] += 1  # for the summary: what was skipped and why
        if shown <= PROBLEMS_SHOWN:
            say(err, f"skipped {found.where}: {found.problem}")
        elif shown == PROBLEMS_SHOWN + 1:
            say(err, "more skipped input: counted in the summary")

    reporter = ProgressReporter(err)
    retries = DEFAULT_BATCH_RETRIES if args.max_retries is None else args.max_retries
    try:
        summary = await run_batch(
            source,
            args.output,
            prompt=args.prompt,
            model=model,
            max_tokens=args.max_tokens,
            detail=args.detail,
            system=args.system,
            resize=args.resize,
            images=image_policy(args),
            pdf_pages=args.pdf_pages,
            concurrency=args.concurrency,
            rpm=args.rpm,
            tpm=args.tpm,
            retry_failed=args.retry_failed,
            shard=shard,
            max_retries=retries,
            api_key=api_key,
            base_url=base_url,
            on_progress=reporter.update,
            on_problem=problem,
            on_event=lambda message: say(err, message),
            stop=stop,
            grace=args.grace,
            response_format=getattr(args, "response_format", None),
        )
    finally:
        reporter.close()
    if summary.output_error is not None:
        say(err, f"error: --output: {summary.output_error}; the lines before it are kept")
    _summarize(summary, reasons, err)
    if summary.interrupted:
        return EXIT_SIGTERM if stopped_by[0] == signal.SIGTERM else EXIT_SIGINT
    if summary.output_error is not None:
        return 1
    if summary.bad_input:
        return 2
    return 1 if summary.failures or summary.skipped_failed else 0


def _summarize(summary: BatchSummary, reasons: Counter[str], err: TextIO) -> None:
    failed = ", ".join(f"{name}: {count}" for name, count in sorted(summary.failed.items()))
    lines = [
        f"summary: {summary.total} items in {summary.wall_s:.1f} s"
        + (" (interrupted)" if summary.interrupted else ""),
        f"  ok: {summary.ok}",
        f"  failed: {summary.failures}" + (f" ({failed})" if failed else ""),
        f"  skipped: {summary.skipped} already in the output"
        + (
            f" ({summary.skipped_failed} failed before: --retry-failed redoes them)"
            if summary.skipped_failed
            else ""
        ),
    ]
    if summary.redone_changed:
        lines.append(f"  redone: {summary.redone_changed} whose input changed since its answer")
    if summary.not_done:
        lines.append(f"  not done: {summary.not_done} (run again to resume)")
    if summary.problems:
        lines.append(f"  skipped input: {summary.problems}, by reason:")
        lines.extend(f"    {count}: {reason}" for reason, count in reasons.most_common())
    if summary.slowdowns:
        lines.append(f"  slowed down for rate limits: {summary.slowdowns} times")
    if summary.repaired:
        lines.append("  repaired: the output's torn last line was cut off")
    lines.append(f"  tokens: {summary.tokens_in} in, {summary.tokens_out} out")
    err.write("\n".join(lines) + "\n")
    err.flush()
