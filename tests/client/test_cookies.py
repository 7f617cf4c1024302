"""Cookies a gateway sets come back on the next request, on every client we build.

Our own pools skip http.cookiejar for answers that set no cookie (see `_compat.lean_cookies`);
this holds them to keeping the cookies an answer does set, as httpx does: a load balancer's
sticky-session cookie, say.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from chat_image import AsyncChatImage, ChatImage
from chat_image.testing import FakeGateway, Reply

HI = [{"role": "user", "content": "hi"}]
STICKY = Reply(content="first", headers={"Set-Cookie": "route=b7; Path=/"})


def _cookie_sent(gateway: FakeGateway) -> list[str | None]:
    return [request.headers.get("cookie") for request in gateway.requests]


def test_a_sync_client_sends_back_the_cookie_an_answer_set():
    with FakeGateway() as gateway:
        gateway.queue(STICKY)
        with ChatImage(api_key=gateway.api_key, base_url=gateway.url) as client:
            for _ in range(3):
                client.chat.completions.create(model="m", messages=HI, max_tokens=5)
            assert type(client._http().cookies) is not httpx.Cookies  # the lean store is in
    assert _cookie_sent(gateway) == [None, "route=b7", "route=b7"]


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
def test_an_async_client_sends_back_the_cookie_an_answer_set(backend):
    from chat_image import DefaultAioHttpClient

    async def main(gateway: FakeGateway) -> None:
        http = DefaultAioHttpClient() if backend == "aiohttp" else None
        async with AsyncChatImage(
            api_key=gateway.api_key, base_url=gateway.url, http_client=http
        ) as client:
            for _ in range(3):
                await client.chat.completions.create(model="m", messages=HI, max_tokens=5)
            assert type(client._http().cookies) is not httpx.Cookies

    with FakeGateway() as gateway:
        gateway.queue(STICKY)
        asyncio.run(main(gateway))
    assert _cookie_sent(gateway) == [None, "route=b7", "route=b7"]


def test_a_callers_own_httpx_client_is_left_as_it_is():
    with FakeGateway() as gateway:
        gateway.queue(STICKY)
        with httpx.Client(base_url=gateway.url) as http:
            client = ChatImage(api_key=gateway.api_key, base_url=gateway.url, http_client=http)
            for _ in range(2):
                client.chat.completions.create(model="m", messages=HI, max_tokens=5)
            assert type(http.cookies) is httpx.Cookies
    assert _cookie_sent(gateway) == [None, "route=b7"]
