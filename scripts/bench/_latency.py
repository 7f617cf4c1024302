"""Latency: sequential calls on one long-lived client of each kind, in microseconds a call.

The seed's request shape (a user message with a text part and an image_url part,
max_tokens 300) with an image URL, the same with a 100 KB image sent inline, and a short
text message. The httpx baseline is `httpx.Client.post(json=...)` and `json.loads` of the
answer; for the inline image it builds the data URL per call, as the other two do inside.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

import chat_image
from chat_image import ImagePart, TextPart, UserMessage

from ._common import (
    API_KEY,
    CLIENTS,
    MODEL,
    QUESTION,
    SEED_URL,
    data_url,
    dict_messages,
    noise_png,
    openai_module,
    rotated,
)

SMALL_IMAGE_BYTES: Final = 100 * 1024
Call = Callable[[], object]


@dataclass
class SyncClients:
    """One long-lived client of each kind, as an application would keep them."""

    url: str
    http: httpx.Client = field(init=False)
    ours: chat_image.ChatImage = field(init=False)
    openai: Any = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(headers={"Authorization": f"Bearer {API_KEY}"})
        self.ours = chat_image.ChatImage(api_key=API_KEY, base_url=self.url)
        self.openai = openai_module().OpenAI(
            api_key=API_KEY, base_url=self.url + "/v1", max_retries=0
        )

    def close(self) -> None:
        self.http.close()
        self.ours.close()
        self.openai.close()

    def httpx_call(self, messages: Callable[[], list[dict[str, Any]]]) -> Call:
        endpoint = self.url + "/v1/chat/completions"

        def call() -> object:
            body = {"model": MODEL, "messages": messages(), "max_tokens": 300}
            response = self.http.post(endpoint, json=body)
            response.raise_for_status()
            return json.loads(response.content)

        return call

    def ours_call(self, messages: Callable[[], list[Any]]) -> Call:
        create = self.ours.chat.completions.create
        return lambda: create(model=MODEL, messages=messages(), max_tokens=300)

    def openai_call(self, messages: Callable[[], list[dict[str, Any]]]) -> Call:
        create = self.openai.chat.completions.create
        return lambda: create(model=MODEL, messages=messages(), max_tokens=300)


def latency_cases(clients: SyncClients) -> dict[str, dict[str, Call]]:
    """Case name -> client name -> one call."""
    image = noise_png(SMALL_IMAGE_BYTES)
    seed = dict_messages(SEED_URL)
    text = dict_messages(None)

    def image_dicts() -> list[dict[str, Any]]:
        return dict_messages(data_url(image))

    def image_typed() -> list[Any]:
        return [UserMessage([TextPart(QUESTION), ImagePart.from_bytes(image)])]

    return {
        "latency: seed shape, image URL": {
            "chat_image": clients.ours_call(lambda: seed),
            "httpx": clients.httpx_call(lambda: seed),
            "openai": clients.openai_call(lambda: seed),
        },
        "latency: seed shape, 100 KB image inline": {
            "chat_image": clients.ours_call(image_typed),
            "httpx": clients.httpx_call(image_dicts),
            "openai": clients.openai_call(image_dicts),
        },
        "latency: short text message": {
            "chat_image": clients.ours_call(lambda: text),
            "httpx": clients.httpx_call(lambda: text),
            "openai": clients.openai_call(lambda: text),
        },
    }


def run_latency(url: str, rounds: int, calls: int) -> dict[str, dict[str, list[float]]]:
    """Microseconds per call, one figure per client per round."""
    clients = SyncClients(url)
    cases = latency_cases(clients)
    samples: dict[str, dict[str, list[float]]] = {case: {c: [] for c in CLIENTS} for case in cases}
    try:
        for calls_by_client in cases.values():
            for call in calls_by_client.values():
                for _ in range(max(20, calls // 5)):
                    call()
        for round_index in range(rounds):
            for case, calls_by_client in cases.items():
                for name in rotated(round_index):
                    call = calls_by_client[name]
                    start = time.perf_counter()
                    for _ in range(calls):
                        call()
                    elapsed = time.perf_counter() - start
                    samples[case][name].append(elapsed / calls * 1e6)
    finally:
        clients.close()
    return samples
