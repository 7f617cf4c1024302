"""What every subcommand shares: the common options, where the model, key and gateway come
from, and how an error becomes one line and an exit status.

Errors speak the command's language: the library's argument names (`api_key`, `max_tokens`)
become the options a user typed (`--api-key-file`, `--max-tokens`), and its advice for
Python code (`pass api_key=...`) the options and variables that do the same here.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from typing import Final, TextIO, TypeAlias

from .._config import API_KEY_ENV, BASE_URL_ENV
from .._exceptions import InvalidInputError
from .._validation import check_key_file

__all__ = [
    "EXIT_SIGINT",
    "EXIT_SIGPIPE",
    "EXIT_SIGTERM",
    "MODEL_ENV",
    "PROBLEMS_SHOWN",
    "PROG",
    "Subcommands",
    "UsageError",
    "common_options",
    "escape_unencodable_output",
    "fail",
    "message",
    "read_api_key",
    "reader_gone",
    "resolve_base_url",
    "resolve_model",
    "say",
]

MODEL_ENV: Final = "CHAT_IMAGE_MODEL"
PROG: Final = "chat-image"
# How many skipped files or lines are named one by one before only counting them.
PROBLEMS_SHOWN: Final = 20
# 128 + the signal: what a shell shows for a process a signal ended, and what we exit with
# when we end gracefully for one.
EXIT_SIGINT: Final = 130
EXIT_SIGPIPE: Final = 141
EXIT_SIGTERM: Final = 143
# The library's argument names, as the options that set them here.
_OPTIONS: Final = {
    "api_key": "--api-key-file",
    "base_url": "--base-url",
    "model": "--model",
    "max_tokens": "--max-tokens",
    "max_retries": "--max-retries",
    "detail": "--detail",
    "system": "--system",
    "prompt": "--prompt",
    "output": "--output",
    "concurrency": "--concurrency",
    "rpm": "--rpm",
    "tpm": "--tpm",
    "grace": "--grace",
}
# The library's advice for Python code, as what does the same here.
_ADVICE: Final = (
    ("api_key=...", "--api-key-file PATH"),
    ("api_key=", "--api-key-file PATH"),
    ("base_url=...", "--base-url URL"),
    ("base_url=", "--base-url URL"),
)
# What `add_subparsers()` returns, which argparse names only privately (generic in typeshed
# only, so the alias is a string).
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class UsageError(Exception):
    """Bad usage: exit status 2, like argparse's own errors."""


def common_options() -> argparse.ArgumentParser:
    """The options `ask` and `batch` share, as a parent parser."""
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
    # Issue 18: --target, --keep-metadata, --urls, --pdf-pages (see `_image_options`).
    from ._image_options import add_image_options

    add_image_options(common)
    return common


def say(stream: TextIO, message: str) -> None:
    """One line on `stream`, prefixed with the program's name."""
    stream.write(f"{PROG}: {message}\n")
    stream.flush()


def message(exc: BaseException) -> str:
    """`exc` in the command's terms: its options, not the library's argument names."""
    if not isinstance(exc, InvalidInputError):
        return str(exc)
    problem = exc.problem
    for python, command in _ADVICE:
        problem = problem.replace(python, command)
    field = _OPTIONS.get(exc.field, exc.field)
    return f"{field}: {problem}" if field else problem


def fail(exc: BaseException, debug: bool, status: int) -> int:
    """Report `exc` in one line (a traceback too under --debug); returns `status`."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    say(sys.stderr, f"error: {message(exc)}")
    return status


def escape_unencodable_output() -> None:
    """Print a lone surrogate (half an emoji cut at `max_tokens`) as `\\ud83d`, not crash.

    In JSON that is the character's own escape, so `ask --json` stays valid JSON."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def reader_gone() -> int:
    """`chat-image ask ... | head`: the reader left. Exit quietly, as Unix tools do; what is
    still buffered goes to /dev/null, so the interpreter's last flush cannot fail again."""
    # ValueError: stdout is not a file (main() called from Python), with nothing to flush.
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return EXIT_SIGPIPE


def resolve_base_url(args: argparse.Namespace) -> str | None:
    """--base-url; None lets the client read the environment (a usage error when nothing
    there holds one)."""
    base_url: str | None = args.base_url
    if base_url is None and not _from_env(BASE_URL_ENV):
        raise UsageError(f"no gateway: give --base-url URL or set {' or '.join(BASE_URL_ENV)}")
    return base_url


def resolve_model(args: argparse.Namespace, *, required: bool) -> str | None:
    """--model, else $CHAT_IMAGE_MODEL; a usage error when `required` and neither is set."""
    name: str | None = args.model or os.environ.get(MODEL_ENV, "").strip() or None
    if name is None and required:
        raise UsageError(
            f"no model: pass --model NAME or set {MODEL_ENV} (the gateway's own model names)"
        )
    return name


def _from_env(names: tuple[str, ...]) -> bool:
    return any(os.environ.get(name, "").strip() for name in names)


def read_api_key(args: argparse.Namespace) -> str | None:
    """The key in --api-key-file, if given; None lets the client read the environment (a
    usage error, said in the command's terms, when nothing there holds one)."""
    if args.api_key_file is None:
        if not _from_env(API_KEY_ENV):
            raise UsageError(
                f"no API key: set {' or '.join(API_KEY_ENV)}, or give --api-key-file PATH"
            )
        return None
    return check_key_file("--api-key-file", args.api_key_file)
