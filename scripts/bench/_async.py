"""Async: a batch of concurrent calls gathered on one client, in milliseconds a batch.

Clients: plain `httpx.AsyncClient` (httpx's default pool: 100 connections, 20 kept alive)
as the baseline; the same at chat_image's pool limits (`DEFAULT_CONNECTION_LIMITS`, the
`openai` package's); ours; `openai`. Over aiohttp: ours with `DefaultAioHttpClient`, httpx
with httpx-aiohttp's client, and `openai` with its own `DefaultAioHttpClient`.
"""

from __future__ import annotations

import asyncio
import json
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


async def run_async(url: str, rounds: int, concurrency: int) -> dict[str, list[float]]:
    """Milliseconds per batch of `concurrency` calls gathered at once, per client per round."""
    from httpx_aiohttp import HttpxAiohttpClient

    openai = openai_module()
    auth = {"Authorization": f"Bearer {API_KEY}"}
    https = {
        "httpx": httpx.AsyncClient(headers=auth),
        "httpx_same_limits": httpx.AsyncClient(
            headers=auth, limits=chat_image.DEFAULT_CONNECTION_LIMITS
        ),
        "httpx_aiohttp": HttpxAiohttpClient(headers=auth),
    }
    others: dict[str, Any] = {
        "chat_image": chat_image.AsyncChatImage(api_key=API_KEY, base_url=url),
        "chat_image_aiohttp": chat_image.AsyncChatImage(
            api_key=API_KEY, base_url=url, http_client=chat_image.DefaultAioHttpClient()
        ),
        "openai": openai.AsyncOpenAI(api_key=API_KEY, base_url=url + "/v1", max_retries=0),
        "openai_aiohttp": openai.AsyncOpenAI(
            api_key=API_KEY,
            base_url=url + "/v1",
            max_retries=0,
            http_client=openai.DefaultAioHttpClient(),
        ),
    }
    calls = {name: _plain_call(client, url) for name, client in https.items()}
    calls |= {name: _create_call(client) for name, client in others.items()}
    samples: dict[str, list[float]] = {name: [] for name in ASYNC_CLIENTS}
    try:
        for _ in range(ASYNC_WARMUP_BATCHES):
            for call in calls.values():
                await asyncio.gather(*(call() for _ in range(concurrency)))
        for round_index in range(rounds):
            for name in rotated(round_index, ASYNC_CLIENTS):
                start = time.perf_counter()
                await asyncio.gather(*(calls[name]() for _ in range(concurrency)))
                samples[name].append((time.perf_counter() - start) * 1e3)
    finally:
        for http in https.values():
            await http.aclose()
        for client in others.values():
            await client.close()
    return samples
