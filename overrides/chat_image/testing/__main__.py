"""`python -m chat_image.testing`: the fake gateway as a server, for tests of programs that
run in another process (a CLI, a program in another language).

It prints one line, `FakeGateway listening on http://127.0.0.1:PORT/v1`, once it accepts
connections, and serves until interrupted (Ctrl-C or SIGTERM). Tests queue answers and read
the requests that arrived through its control routes (`POST /_fake/queue`, `GET
/_fake/requests`, `POST /_fake/clear`; see `chat_image.testing._control`).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from ._gateway import DEFAULT_API_KEY, FakeGateway
from ._replies import Reply


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m chat_image.testing",
        description="Run the chat-image fake gateway on 127.0.0.1 until interrupted.",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="the port to listen on (default: a free one)"
    )
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument(
        "--api-key",
        default=DEFAULT_API_KEY,
        help=f"the bearer key it accepts (default: {DEFAULT_API_KEY})",
    )
    keys.add_argument("--any-key", action="store_true", help="accept any bearer key")
    parser.add_argument(
        "--no-validate",
        action="store_true",
        help="answer every request, without checking it against the gateway's contract",
    )
    parser.add_argument("--content", help="the text of the default answer (when nothing is queued)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not 0 <= args.port <= 65535:
        print(f"--port: {args.port} is not a port (0 to 65535)", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    gateway = FakeGateway(
        api_key=None if args.any_key else args.api_key,
        validate=not args.no_validate,
        default=Reply(content=args.content),
        port=args.port,
        control=True,
    )
    try:
        gateway.start()
    except OSError as exc:
        print(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        print(f"FakeGateway listening on {gateway.base_url}", flush=True)
        while not stop.wait(0.2):
            pass
    finally:
        gateway.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
