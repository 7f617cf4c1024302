"""SSE parsing: the cost per byte of one long event, fed in 16 KiB pieces, at 1 MiB and 32 MiB.

A data line as long as a whole answer (a gateway that sends one event, an image in a tool
call's arguments) arrives in many pieces. A parser that joins each piece to the line so far is
quadratic: 8 MiB took 5 s, 32 MiB about 33 s. The per-byte figures at the two sizes differ for
a reason that is not the parser's: from 32 MiB on, glibc gives each buffer fresh pages from the
kernel (a page fault per 4 KiB), where a 1 MiB one reuses warm memory. So linearity is shown
against the floor any parser has: the time of one copy of the line (`b"".join` of its pieces),
at each size; a linear parser stays within a small multiple of it, a quadratic one does not.
The httpx column is `iter_lines`' decoder (text, then lines) on the same pieces: what the
raw-httpx baseline of the stream case reads with.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

import httpx._decoders as httpx_decoders

from chat_image._sse import SSEDecoder

PIECE: Final = 16 * 1024
SIZES: Final = {"1 MiB": 1 << 20, "32 MiB": 32 << 20}
_TIMED_BYTES: Final = 32 << 20
SSE_LINE: Final = "sse: one {size} line in 16 KiB pieces"
SSE_VS_COPY: Final = "sse: one {size} line, time / one copy of it"


def _pieces(size: int) -> list[bytes]:
    event = b"data: " + b"x" * (size - len(b"data: \n\n")) + b"\n\n"
    return [event[i : i + PIECE] for i in range(0, len(event), PIECE)]


def _ours(pieces: list[bytes]) -> int:
    decoder = SSEDecoder()
    events = [event for piece in pieces for event in decoder.feed(piece)]
    return len(events[0][1])


def _httpx(pieces: list[bytes]) -> int:
    text = httpx_decoders.TextDecoder()
    lines = httpx_decoders.LineDecoder()
    found = [line for piece in pieces for line in lines.decode(text.decode(piece))]
    return len(found[0])


def _copy(pieces: list[bytes]) -> int:
    return len(b"".join(pieces))


_PARSERS: Final[dict[str, Callable[[list[bytes]], int]]] = {"chat_image": _ours, "httpx": _httpx}


def _ns_per_byte(parse: Callable[[list[bytes]], int], pieces: list[bytes]) -> float:
    """Parse the line as many times as makes 32 MiB, so that both sizes are timed alike; the
    best of three such runs, on a shared machine."""
    size = sum(map(len, pieces))
    times = max(1, _TIMED_BYTES // size)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(times):
            parsed = parse(pieces)
        best = min(best, time.perf_counter() - start)
        assert parsed >= size - 16, (parsed, size)  # the whole line came out as one
    return best * 1e9 / (size * times)


def run_sse(rounds: int) -> dict[str, dict[str, list[float]]]:
    """Nanoseconds per byte for each line size per parser, and each parser's time over one
    copy's, one figure per round."""
    samples: dict[str, dict[str, list[float]]] = {}
    by_size = {label: _pieces(size) for label, size in SIZES.items()}
    for label in by_size:
        samples[SSE_LINE.format(size=label)] = {name: [] for name in _PARSERS}
        samples[SSE_VS_COPY.format(size=label)] = {name: [] for name in _PARSERS}
    for _ in range(rounds):
        for label, pieces in by_size.items():
            copy = _ns_per_byte(_copy, pieces)
            for name, parse in _PARSERS.items():
                cost = _ns_per_byte(parse, pieces)
                samples[SSE_LINE.format(size=label)][name].append(cost)
                samples[SSE_VS_COPY.format(size=label)][name].append(cost / copy)
    return samples
