"""The `chat-image` command: `ask` about images from a terminal, `batch` a folder of them,
`export` a batch's parsed answers as CSV, `report` on a batch as an HTML page, or `merge`
the outputs of a batch run in shards.

Exit statuses: 0 answered (every item ok); 1 the API or the network failed (some items
failed, or the output could not be written mid-run); 2 bad usage or bad input, refused before
anything is sent; 130 on Ctrl-C, 143 on SIGTERM (a batch stops gracefully for both); 141
when the reader of standard output goes away (`| head`), quietly, as Unix tools do. An error
is one line on stderr naming the problem in the command's terms (its options and variables),
with a traceback only under `--debug`, and never the key. Each subcommand is a module here
with `add_parser()` and `run()`.
"""

from __future__ import annotations

import argparse
import sys

from .._exceptions import APIError, ChatImageError, InvalidInputError
from .._version import __version__
from . import _ask, _batch, _export, _merge, _report
from ._common import (
    EXIT_SIGINT,
    MODEL_ENV,
    PROG,
    UsageError,
    common_options,
    escape_unencodable_output,
    fail,
    reader_gone,
    say,
)

__all__ = ["MODEL_ENV", "main"]

# The subcommands, in the order `--help` lists them. A new one is a module with
# `add_parser(commands, common)` (which sets `run` as its default) and one line here.
_COMMANDS = (_ask, _batch, _export, _report, _merge)


def _parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = argparse.ArgumentParser(prog=PROG, description="Ask a vision model about images.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.add_parser(commands, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    escape_unencodable_output()
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.run(args, sys.stdout, sys.stderr)
        return status
    except KeyboardInterrupt:
        say(sys.stderr, "interrupted")
        return EXIT_SIGINT
    except BrokenPipeError:
        return reader_gone()
    except (UsageError, InvalidInputError, ImportError) as exc:
        return fail(exc, args.debug, 2)
    except ChatImageError as exc:
        # The batch runner's "another run writes this file" is bad usage too.
        status = 1 if isinstance(exc, APIError) else 2
        return fail(exc, args.debug, status)
