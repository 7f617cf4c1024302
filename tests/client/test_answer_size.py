"""An answer is refused past `max_response_bytes` while it is read, counted after decompression.

The server sends a small gzip body that inflates far past the limit; the client must stop
reading at the limit (not inflate it all) and say which limit it hit.
"""

from __future__ import annotations

import asyncio
import gzip
import pickle
from typing import Any

import pytest

import chat_image
from chat_image import AsyncChatImage, ChatImage, DefaultAioHttpClient, UserMessage
from chat_image.testing import FakeGateway, Reply
from conftest import API_KEY

_LIMIT = 1024 * 1024
# 64 MiB of spaces (valid JSON padding) in about 64 KB of gzip.
_BOMB = gzip.compress(b"{" + b" " * (64 * 1024 * 1024) + b"}", compresslevel=9)


def _params() -> dict[str, Any]:
    return {"model": "m", "messages": [UserMessage("hi")], "max_tokens": 5}


def _call(kind: str, base_url: str, **client_kwargs: Any) -> None:
    kwargs = {"api_key": API_KEY, "base_url": base_url, "max_retries": 2, **client_kwargs}
    if kind == "sync":
        with ChatImage(**kwargs) as client:
            client.chat.completions.create(**_params())
        return

    async def main() -> None:
        http_client = DefaultAioHttpClient() if kind == "aiohttp" else None
        async with AsyncChatImage(http_client=http_client, **kwargs) as client:
            await client.chat.completions.create(**_params())

    asyncio.run(main())


@pytest.mark.parametrize("status", [200, 500])
@pytest.mark.parametrize("kind", ["sync", "async", "aiohttp"])
def test_a_gzip_bomb_is_refused_at_the_limit(kind: str, status: int) -> None:
    assert len(_BOMB) < _LIMIT  # what arrives is under the limit; what it inflates to is not
    with FakeGateway(api_key=API_KEY) as gateway:
        gateway.default = Reply(status=status, body=_BOMB, headers={"Content-Encoding": "gzip"})
        with pytest.raises(chat_image.ResponseTooLargeError) as caught:
            _call(kind, gateway.base_url, max_response_bytes=_LIMIT)
        assert gateway.count == 1  # too large is not retried
    error = caught.value
    assert error.limit == _LIMIT
    assert error.status_code == status
    assert f"max_response_bytes={_LIMIT}" in str(error)
    assert isinstance(error, chat_image.APIError)
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_answer_within_the_limit_is_read(kind: str) -> None:
    with FakeGateway(api_key=API_KEY) as gateway:
        _call(kind, gateway.base_url, max_response_bytes=_LIMIT)


@pytest.mark.parametrize("value", [0, -1, 1.5, "1", True])
def test_max_response_bytes_is_checked(value: object) -> None:
    with pytest.raises(chat_image.InvalidInputError, match="max_response_bytes"):
        ChatImage(api_key=API_KEY, base_url="http://127.0.0.1:9/v1", max_response_bytes=value)  # type: ignore[arg-type]
