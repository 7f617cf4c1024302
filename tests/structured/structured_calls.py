"""Calling `parse()` and `stream()` through either client, for the structured-output tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from chat_image import AsyncChatImage, ChatImage
from chat_image.testing import FakeGateway

KINDS = ("sync", "async")
MESSAGES = [{"role": "user", "content": "Read this receipt."}]


def base(**kwargs: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": MESSAGES, "max_tokens": 500, **kwargs}


def bodies(server: FakeGateway) -> list[dict[str, Any]]:
    return [json.loads(request.body) for request in server.requests]


class Parser:
    """Runs `parse()` calls on one client of its kind: sync, or async in one event loop."""

    def __init__(self, kind: str, server: FakeGateway) -> None:
        self.kind = kind
        self.server = server

    def run(self, *calls: dict[str, Any], client: dict[str, Any] | None = None) -> list[Any]:
        """Each call's result, or the exception it raised, in order, on one client."""
        if self.kind == "sync":
            results: list[Any] = []
            with self.server.client(**(client or {})) as sync:
                for call in calls:
                    try:
                        results.append(parse_on(sync, **call))
                    except Exception as exc:
                        results.append(exc)
            return results

        async def main() -> list[Any]:
            results: list[Any] = []
            async with self.server.async_client(**(client or {})) as chat:
                for call in calls:
                    try:
                        results.append(await aparse_on(chat, **call))
                    except Exception as exc:
                        results.append(exc)
            return results

        return asyncio.run(main())

    def one(self, **call: Any) -> Any:
        """One call: its result, or it raises what the call raised."""
        (result,) = self.run(call)
        if isinstance(result, Exception):
            raise result
        return result


def parse_on(client: ChatImage, **kwargs: Any) -> Any:
    return client.chat.completions.parse(**kwargs)


async def aparse_on(client: AsyncChatImage, **kwargs: Any) -> Any:
    return await client.chat.completions.parse(**kwargs)


def stream_on(client: ChatImage, **kwargs: Any) -> Any:
    return client.chat.completions.stream(**kwargs)


def astream_on(client: AsyncChatImage, **kwargs: Any) -> Any:
    return client.chat.completions.stream(**kwargs)
