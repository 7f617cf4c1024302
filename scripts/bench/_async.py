"""Async: a batch of concurrent calls gathered on one client, in milliseconds a batch.

Each client is timed alone, in a process of its own. Clients: plain `httpx.AsyncClient`
(httpx's default pool: 100 connections, 20 kept alive) as the baseline; the same at
chat_image's pool limits (`DEFAULT_CONNECTION_LIMITS`, the `openai` package's); ours;
`openai`. Over aiohttp: ours with `DefaultAioHttpClient`, httpx with httpx-aiohttp's client,
and `openai` with its own `DefaultAioHttpClient`."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

import httpx

import chat_image

from ._common import API_KEY, CLIENTS, MODEL, SEED_URL, dict_messages, openai_module, rotated

ASYNC_AIOHTTP: Final = ("chat_image_aiohttp", "httpx_aiohttp", "openai_aiohttp")
ASYNC_CLIENTS: Final = (*CLIENTS, "httpx_same_limits", *ASYNC_AIOHTTP)
# httpcore's pool changes shape over the first few bursts (connections opened, then
# evicted): every pool is warmed until it settles, so that rounds compare like with like.
ASYNC_WARMUP_BATCHES: Final = 6
AsyncCall = Callable[[], Awaitable[object]]


def _plain_call(client: httpx.AsyncClient, url: str) -> AsyncCall:
    endpoint = url + "/v1/chat/completions"
    messages = dict_messages(SEED_URL)

    async def plain() -> object:
        body = {"model": MODEL, "messages": messages, "max_tokens": 300}
        response = await client.post(endpoint, json=body)
        response.raise_for_status()
        return json.loads(response.content)

    return plain


def _create_call(client: Any) -> AsyncCall:
    """A call of ours or of `openai`: the same `chat.completions.create` shape."""
    messages = dict_messages(SEED_URL)

    def call() -> Awaitable[object]:
        result: Awaitable[object] = client.chat.completions.create(
            model=MODEL, messages=messages, max_tokens=300
        )
        return result

    return call


def _clients(url: str, name: str) -> tuple[AsyncCall, Callable[[], Awaitable[None]]]:
    """The call of one client under test, and how to close it."""
    auth = {"Authorization": f"Bearer {API_KEY}"}
    if name in ("httpx", "httpx_same_limits", "httpx_aiohttp"):
        if name == "httpx_aiohttp":
            from httpx_aiohttp import HttpxAiohttpClient

            http: httpx.AsyncClient = HttpxAiohttpClient(headers=auth)
        elif name == "httpx":
            http = httpx.AsyncClient(headers=auth)
        else:
            http = httpx.AsyncClient(headers=auth, limits=chat_image.DEFAULT_CONNECTION_LIMITS)
        return _plain_call(http, url), http.aclose
    client: Any
    if name == "chat_image":
        client = chat_image.AsyncChatImage(api_key=API_KEY, base_url=url)
    elif name == "chat_image_aiohttp":
        client = chat_image.AsyncChatImage(
            api_key=API_KEY, base_url=url, http_client=chat_image.DefaultAioHttpClient()
        )
    else:
        openai = openai_module()
        http_client = openai.DefaultAioHttpClient() if name == "openai_aiohttp" else None
        client = openai.AsyncOpenAI(
            api_key=API_KEY, base_url=url + "/v1", max_retries=0, http_client=http_client
        )
    return _create_call(client), client.close


async def _time_one_client(
    name: str, url: str, rounds: int, concurrency: int
) -> dict[str, list[float]]:
    """Per round of `concurrency` gathered calls, for one client alone: milliseconds a batch
    (`wall`) and this process's CPU microseconds a call (`cpu`, the client's own work)."""
    call, close = _clients(url, name)
    wall, cpu = [], []
    try:
        for _ in range(ASYNC_WARMUP_BATCHES):
            await asyncio.gather(*(call() for _ in range(concurrency)))
        for _ in range(rounds):
            start, start_cpu = time.perf_counter(), time.process_time()
            await asyncio.gather(*(call() for _ in range(concurrency)))
            wall.append((time.perf_counter() - start) * 1e3)
            cpu.append((time.process_time() - start_cpu) / concurrency * 1e6)
    finally:
        await close()
    return {"wall": wall, "cpu": cpu}


def async_worker(name: str, url: str, rounds: str, concurrency: str) -> None:
    """`--async-worker`: time one client in this process and print its samples as JSON."""
    samples = asyncio.run(_time_one_client(name, url, int(rounds), int(concurrency)))
    print(json.dumps(samples))


def run_async(url: str, rounds: int, concurrency: int) -> dict[str, dict[str, list[float]]]:
    """Per client, per round of `concurrency` calls gathered at once: milliseconds a batch
    (`wall`) and CPU microseconds a call (`cpu`).

    Each client runs alone in a process of its own (one client's connections, garbage and
    event loop never weigh on another's), in passes that each client starts in turn, so that
    a machine busy for a while, or one unlucky process, weighs on every client alike.
    """
    passes = min(rounds, 5)
    samples: dict[str, dict[str, list[float]]] = {
        name: {"wall": [], "cpu": []} for name in ASYNC_CLIENTS
    }
    for pass_index in range(passes):
        share = rounds // passes + (1 if pass_index < rounds % passes else 0)
        for name in rotated(pass_index, ASYNC_CLIENTS):
            argv = [sys.executable, "-m", "scripts.bench", "--async-worker", name, url]
            argv += [str(share), str(concurrency)]
            out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
            for kind, figures in json.loads(out.splitlines()[-1]).items():
                samples[name][kind] += figures
    return samples
