"""The `chat-image` command: `ask` about images from a terminal, or `batch` a folder of them.

Exit statuses: 0 answered (every item ok); 1 the API or the network failed (some items
failed); 2 bad usage or bad input, refused before anything is sent; 130 on Ctrl-C. An error
is one line on stderr naming the problem, with a traceback only under `--debug`, and never
the key. The batch runner is imported only by `batch`, so `ask` starts as fast as the client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

from ._client import ChatImage
from ._completion import ChatCompletion
from ._content import ContentPart, ImagePart, TextPart
from ._errors import APIError, ChatImageError, InvalidInputError
from ._messages import Message, SystemMessage, UserMessage
from ._settings import DEFAULT_MAX_RETRIES
from ._version import __version__

if TYPE_CHECKING:
    from .batch import BatchSummary, Shard

__all__ = ["MODEL_ENV", "main"]

MODEL_ENV: Final = "CHAT_IMAGE_MODEL"
PROG: Final = "chat-image"
# How many skipped files or lines are named one by one before only counting them.
_PROBLEMS_SHOWN: Final = 20
_URL_PREFIXES: Final = ("http://", "https://", "data:")


class _UsageError(Exception):
    """Bad usage: exit status 2, like argparse's own errors."""


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--model", help=f"the gateway's model name (default: ${MODEL_ENV})")
    common.add_argument("--max-tokens", type=int, default=300, help="default: 300")
    common.add_argument("--detail", choices=("low", "high", "auto"))
    common.add_argument("--system", metavar="TEXT", help="a system message")
    common.add_argument(
        "--resize", action="store_true", help="scale images to what the model uses (Pillow)"
    )
    common.add_argument("--base-url", help="default: $CHAT_IMAGE_BASE_URL, then $OPENAI_BASE_URL")
    common.add_argument(
        "--api-key-file",
        metavar="PATH",
        help="read the key from a file (default: $CHAT_IMAGE_API_KEY, then $OPENAI_API_KEY)",
    )
    common.add_argument("--max-retries", type=int, help="retries per request")
    common.add_argument("-v", "--verbose", action="store_true", help="usage and request ids")
    common.add_argument("--debug", action="store_true", help="tracebacks on errors")

    parser = argparse.ArgumentParser(prog=PROG, description="Ask a vision model about images.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ask = commands.add_parser("ask", parents=[common], help="ask about one or more images")
    ask.add_argument("prompt")
    ask.add_argument(
        "--image", action="append", default=[], metavar="PATH_OR_URL", help="repeatable"
    )
    ask.add_argument("--json", action="store_true", help="print the whole chat completion")
    ask.add_argument("--no-stream", dest="stream", action="store_false", help="print when whole")

    batch = commands.add_parser(
        "batch", parents=[common], help="answer a folder or JSONL manifest into JSONL, resumably"
    )
    batch.add_argument("input", metavar="INPUT", help="a folder of images or a JSONL manifest")
    batch.add_argument("--output", "-o", help="JSONL answers; running again resumes")
    batch.add_argument("--prompt", help="what to ask of each image (a manifest line may override)")
    batch.add_argument("--concurrency", type=int, default=8, help="requests in flight (8)")
    batch.add_argument("--rpm", type=float, help="requests per minute, at most")
    batch.add_argument("--tpm", type=float, help="estimated tokens per minute, at most")
    batch.add_argument("--dry-run", action="store_true", help="count and estimate; send nothing")
    batch.add_argument("--retry-failed", action="store_true", help="redo items that failed")
    batch.add_argument("--shard", metavar="K/N", help="take the K-th of N stable parts")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "ask":
            return _ask(args, sys.stdout, sys.stderr)
        return _batch(args, sys.stdout, sys.stderr)
    except KeyboardInterrupt:
        _say(sys.stderr, "interrupted")
        return 130
    except (_UsageError, InvalidInputError, ImportError) as exc:
        return _fail(exc, args.debug, 2)
    except ChatImageError as exc:
        # The batch runner's "another run writes this file" is bad usage too.
        status = 1 if isinstance(exc, APIError) else 2
        return _fail(exc, args.debug, status)


def _say(stream: TextIO, message: str) -> None:
    stream.write(f"{PROG}: {message}\n")
    stream.flush()


def _fail(exc: BaseException, debug: bool, status: int) -> int:
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    _say(sys.stderr, f"error: {exc}")
    return status


def _model(args: argparse.Namespace, *, required: bool) -> str | None:
    model: str | None = args.model or os.environ.get(MODEL_ENV, "").strip() or None
    if model is None and required:
        raise _UsageError(
            f"no model: pass --model NAME or set {MODEL_ENV} (the gateway's own model names)"
        )
    return model


def _api_key(args: argparse.Namespace) -> str | None:
    if args.api_key_file is None:
        return None
    try:
        return Path(args.api_key_file).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InvalidInputError("--api-key-file", f"{args.api_key_file!r}: {reason}") from None


def _messages(args: argparse.Namespace) -> list[Message]:
    parts: list[ContentPart] = [TextPart(args.prompt)]
    for image in args.image:
        if image.startswith(_URL_PREFIXES):
            parts.append(ImagePart.from_url(image, args.detail))
        else:
            parts.append(ImagePart.from_path(image, args.detail, resize=args.resize))
    messages: list[Message] = [SystemMessage(args.system)] if args.system else []
    messages.append(UserMessage(parts))
    return messages


def _answer(
    client: ChatImage,
    *,
    model: str,
    messages: list[Message],
    max_tokens: int,
    stream: bool,
    usage: bool,
    out: TextIO,
) -> tuple[str | None, ChatCompletion]:
    """Send and print the answer as it arrives; the request id and the whole completion.

    Streamed, each piece of the first choice is written and flushed as its chunk comes;
    `usage` asks the gateway for the usage chunk (only then: not every gateway takes it).
    """
    if not stream:
        raw = client.chat.completions.with_raw_response.create(
            model=model, messages=messages, max_tokens=max_tokens
        )
        completion = raw.parse()
        out.write((completion.choices[0].message.content or "") if completion.choices else "")
        out.write("\n")
        return raw.request_id, completion
    with client.chat.completions.create(
        model=model,
        messages=messages,
        max_tokens=max_tokens,
        stream=True,
        stream_options={"include_usage": True} if usage else None,
    ) as chunks:
        for chunk in chunks:
            for choice in chunk.choices:
                if choice.index == 0 and choice.delta.content:
                    out.write(choice.delta.content)
                    out.flush()
        completion = chunks.get_final_completion()
        out.write("\n")
        return chunks.request_id, completion


def _ask(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # Everything is checked before the client exists, so nothing is sent on bad input.
    model = _model(args, required=True)
    assert model is not None
    messages = _messages(args)
    retries = DEFAULT_MAX_RETRIES if args.max_retries is None else args.max_retries
    with ChatImage(api_key=_api_key(args), base_url=args.base_url, max_retries=retries) as client:
        if args.json:
            raw = client.chat.completions.with_raw_response.create(
                model=model, messages=messages, max_tokens=args.max_tokens
            )
            completion = raw.parse()
            request_id = raw.request_id
            out.write(json.dumps(raw.http_response.json(), indent=2, ensure_ascii=False) + "\n")
        else:
            request_id, completion = _answer(
                client,
                model=model,
                messages=messages,
                max_tokens=args.max_tokens,
                stream=args.stream,
                usage=args.verbose,
                out=out,
            )
    out.flush()
    if args.verbose:
        usage = completion.usage
        if usage is not None:
            _say(err, f"usage: {usage.prompt_tokens} in, {usage.completion_tokens} out")
        _say(err, f"request id: {request_id or '(none)'}")
    return 0


def _batch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .batch import dry_run, parse_shard

    shard = parse_shard(args.shard) if args.shard else None
    source = Path(args.input)
    folder = source.is_dir()
    if not folder and not source.is_file():
        raise _UsageError(f"INPUT {args.input!r}: no such folder or file")
    if folder and not args.prompt:
        raise _UsageError("a folder needs --prompt: what to ask of each image")
    model = _model(args, required=folder)
    if args.dry_run:
        report = dry_run(
            source,
            args.output,
            prompt=args.prompt,
            system=args.system,
            detail=args.detail,
            max_tokens=args.max_tokens,
            shard=shard,
        )
        out.write(
            f"items: {report.items} ({report.already_ok} already ok in the output, "
            f"{report.to_send} to send)\n"
            f"images: {report.images}"
            + (f" ({report.unsized_images} of unknown size)" if report.unsized_images else "")
            + f"\nestimated input tokens: {report.input_tokens}\n"
            f"max output tokens: {report.max_output_tokens}\n"
            f"skipped input: {report.problems}\n"
        )
        return 2 if report.bad_input else 0
    if not args.output:
        raise _UsageError("--output FILE is needed (JSONL; running again resumes)")
    return asyncio.run(_run_batch(args, source, model, shard, err))


async def _run_batch(
    args: argparse.Namespace, source: Path, model: str | None, shard: Shard | None, err: TextIO
) -> int:
    from .batch import DEFAULT_BATCH_RETRIES, InputProblem, run_batch
    from .batch._progress import ProgressReporter

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def interrupt() -> None:
        _say(err, "stopping: finishing the requests in flight (Ctrl-C again to quit now)")
        stop.set()
        # A second Ctrl-C raises KeyboardInterrupt as usual.
        loop.remove_signal_handler(signal.SIGINT)

    loop.add_signal_handler(signal.SIGINT, interrupt)
    shown = 0

    def problem(found: InputProblem) -> None:
        nonlocal shown
        shown += 1
        if shown <= _PROBLEMS_SHOWN:
            _say(err, f"skipped {found.where}: {found.problem}")
        elif shown == _PROBLEMS_SHOWN + 1:
            _say(err, "more skipped input: counted in the summary")

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
            concurrency=args.concurrency,
            rpm=args.rpm,
            tpm=args.tpm,
            retry_failed=args.retry_failed,
            shard=shard,
            max_retries=retries,
            api_key=_api_key(args),
            base_url=args.base_url,
            on_progress=reporter.update,
            on_problem=problem,
            on_event=lambda message: _say(err, message),
            stop=stop,
        )
    finally:
        reporter.close()
    _summarize(summary, err)
    if summary.interrupted:
        return 130
    if summary.bad_input:
        return 2
    return 1 if summary.failures or summary.skipped_failed else 0


def _summarize(summary: BatchSummary, err: TextIO) -> None:
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
        lines.append(f"  skipped input: {summary.problems} (not images, or invalid manifest lines)")
    if summary.slowdowns:
        lines.append(f"  slowed down for rate limits: {summary.slowdowns} times")
    if summary.repaired:
        lines.append("  repaired: the output's torn last line was cut off")
    lines.append(f"  tokens: {summary.tokens_in} in, {summary.tokens_out} out")
    err.write("\n".join(lines) + "\n")
    err.flush()
