"""Streamed answers as OpenAI sends them, and a caller that reads one through either client."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from chat_image import (
    AsyncChatImage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatImage,
    ChatImageError,
    UserMessage,
)
from conftest import Caller

CHUNK_HEAD = {
    "id": "chatcmpl-Str123",
    "object": "chat.completion.chunk",
    "created": 1732540800,
    "model": "gpt-4o-2024-08-06",
    "system_fingerprint": "fp_50cad350e4",
}
USAGE = {"prompt_tokens": 1118, "completion_tokens": 3, "total_tokens": 1121}


def chunk(
    content: str | None = None,
    *,
    index: int = 0,
    finish_reason: str | None = None,
    role: str | None = None,
    **delta: Any,
) -> dict[str, Any]:
    """One chunk with one choice whose delta holds what is given."""
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
    return {**CHUNK_HEAD, "choices": [choice]}


def usage_chunk() -> dict[str, Any]:
    return {**CHUNK_HEAD, "choices": [], "usage": USAGE}


def event(data: Any, *, newline: bytes = b"\n") -> bytes:
    """One SSE event: `data: <json>` (or the bytes / text given) and an empty line."""
    if isinstance(data, bytes):
        payload = data
    elif isinstance(data, str):
        payload = data.encode()
    else:
        payload = json.dumps(data).encode()
    return b"data: " + payload + newline + newline


DONE = event(b"[DONE]")
WORDS = ["A", " wooden", " boardwalk", "."]


def answer_chunks(words: list[str] = WORDS) -> list[dict[str, Any]]:
    """The chunks of a whole answer: role first, a word each, then the finish."""
    return [
        chunk("", role="assistant"),
        *(chunk(word) for word in words),
        chunk(finish_reason="stop"),
    ]


def answer_events(words: list[str] = WORDS, *, usage: bool = False) -> list[bytes]:
    """Each event of a whole answer as its own piece, ending in [DONE]."""
    events = [event(c) for c in answer_chunks(words)]
    if usage:
        events.append(event(usage_chunk()))
    return [*events, DONE]


@dataclass
class Outcome:
    """What reading a stream came to: the chunks handed out, then a completion or an error."""

    chunks: list[ChatCompletionChunk] = field(default_factory=list)
    completion: ChatCompletion | None = None
    error: ChatImageError | None = None
    request_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    retries_taken: int | None = None

    @property
    def text(self) -> str:
        return "".join(c.choices[0].delta.content or "" for c in self.chunks if c.choices)


class StreamCaller(Caller):
    """`stream(**create)` through `ChatImage` or `AsyncChatImage`: reads the whole stream
    (and its final completion, with `final=True`) and returns what happened."""

    def stream(
        self, client: dict[str, Any] | None = None, *, final: bool = False, **create: Any
    ) -> Outcome:
        create = {
            "model": "gpt-4o",
            "messages": [UserMessage("hi")],
            "max_tokens": 5,
            "stream": True,
            **create,
        }
        outcome = Outcome()
        if self.kind == "sync":
            with self.make(**(client or {})) as sync:
                assert isinstance(sync, ChatImage)
                try:
                    with sync.chat.completions.create(**create) as stream:
                        outcome.request_id = stream.request_id
                        outcome.headers = dict(stream.headers)
                        for item in stream:
                            outcome.chunks.append(item)
                        if final:
                            outcome.completion = stream.get_final_completion()
                        outcome.retries_taken = stream.retries_taken
                except ChatImageError as exc:
                    outcome.error = exc
            return outcome

        async def main() -> None:
            async with self.make(**(client or {})) as chat:
                assert isinstance(chat, AsyncChatImage)
                try:
                    async with await chat.chat.completions.create(**create) as stream:
                        outcome.request_id = stream.request_id
                        outcome.headers = dict(stream.headers)
                        async for item in stream:
                            outcome.chunks.append(item)
                        if final:
                            outcome.completion = await stream.get_final_completion()
                        outcome.retries_taken = stream.retries_taken
                except ChatImageError as exc:
                    outcome.error = exc

        asyncio.run(main())
        return outcome
