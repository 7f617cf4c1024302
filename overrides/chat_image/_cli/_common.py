"""What every subcommand shares: the common options, where the model and key come from, and
how an error becomes one line and an exit status."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path
from typing import Final, TextIO, TypeAlias

from .._exceptions import InvalidInputError

__all__ = [
    "MODEL_ENV",
    "PROBLEMS_SHOWN",
    "PROG",
    "Subcommands",
    "UsageError",
    "common_options",
    "fail",
    "read_api_key",
    "resolve_model",
    "say",
]

MODEL_ENV: Final = "CHAT_IMAGE_MODEL"
PROG: Final = "chat-image"
# How many skipped files or lines are named one by one before only counting them.
PROBLEMS_SHOWN: Final = 20
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


def fail(exc: BaseException, debug: bool, status: int) -> int:
    """Report `exc` in one line (a traceback too under --debug); returns `status`."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    say(sys.stderr, f"error: {exc}")
    return status


def resolve_model(args: argparse.Namespace, *, required: bool) -> str | None:
    """--model, else $CHAT_IMAGE_MODEL; a usage error when `required` and neither is set."""
    name: str | None = args.model or os.environ.get(MODEL_ENV, "").strip() or None
    if name is None and required:
        raise UsageError(
            f"no model: pass --model NAME or set {MODEL_ENV} (the gateway's own model names)"
        )
    return name


def read_api_key(args: argparse.Namespace) -> str | None:
    """The key in --api-key-file, if given; None lets the client read the environment."""
    if args.api_key_file is None:
        return None
    try:
        return Path(args.api_key_file).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InvalidInputError("--api-key-file", f"{args.api_key_file!r}: {reason}") from None
