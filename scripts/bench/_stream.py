"""Streaming: reading a 1,000-chunk streamed answer, per chunk and to the first chunk.

Its own server process answers every request with the kit's streamed answer, each event in
its own HTTP chunk. The httpx baseline is `iter_lines` plus `json.loads` of each `data:` line.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable
from typing import Final

from ._common import CLIENTS, MODEL, SEED_URL, dict_messages, rotated
from ._latency import SyncClients
from ._server import STREAM_CHUNKS, Server

STREAM_PER_CHUNK: Final = f"stream: {STREAM_CHUNKS:,} chunks, per chunk"
STREAM_FIRST: Final = "stream: time to first chunk"
# (seconds to the first chunk, chunks read)
Read = Callable[[], tuple[float, int]]


def _timed(start: float, items: Iterable[object]) -> tuple[float, int]:
    """Read `items` to the end: seconds from `start` to the first, and how many."""
    first = 0.0
    count = 0
    for _ in items:
        if not count:
            first = time.perf_counter() - start
        count += 1
    return first, count


def _stream_calls(clients: SyncClients) -> dict[str, Read]:
    """Per client: read one whole stream."""
    messages = dict_messages(SEED_URL)
    endpoint = clients.url + "/v1/chat/completions"

    def ours() -> tuple[float, int]:
        start = time.perf_counter()
        stream = clients.ours.chat.completions.create(
            model=MODEL, messages=messages, max_tokens=300, stream=True
        )
        return _timed(start, stream)

    def theirs() -> tuple[float, int]:
        start = time.perf_counter()
        stream = clients.openai.chat.completions.create(
            model=MODEL, messages=messages, max_tokens=300, stream=True
        )
        return _timed(start, stream)

    def raw() -> tuple[float, int]:
        start = time.perf_counter()
        body = {"model": MODEL, "messages": messages, "max_tokens": 300, "stream": True}
        with clients.http.stream("POST", endpoint, json=body) as response:
            chunks = (
                json.loads(line[6:])
                for line in response.iter_lines()
                if line.startswith("data: ") and line != "data: [DONE]"
            )
            return _timed(start, chunks)

    return {"chat_image": ours, "httpx": raw, "openai": theirs}


def run_stream(rounds: int, calls: int) -> dict[str, dict[str, list[float]]]:
    """Microseconds per chunk and to the first chunk, one figure per client per round."""
    server = Server("--serve-stream")
    clients = SyncClients(server.url)
    calls_by_client = _stream_calls(clients)
    samples: dict[str, dict[str, list[float]]] = {
        STREAM_PER_CHUNK: {c: [] for c in CLIENTS},
        STREAM_FIRST: {c: [] for c in CLIENTS},
    }
    try:
        for call in calls_by_client.values():
            for _ in range(3):
                assert call()[1] == STREAM_CHUNKS
        for round_index in range(rounds):
            for name in rotated(round_index):
                firsts = []
                start = time.perf_counter()
                for _ in range(calls):
                    firsts.append(calls_by_client[name]()[0])
                elapsed = time.perf_counter() - start
                samples[STREAM_PER_CHUNK][name].append(elapsed / calls / STREAM_CHUNKS * 1e6)
                samples[STREAM_FIRST][name].append(statistics.median(firsts) * 1e6)
    finally:
        clients.close()
        server.stop()
    return samples
