from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings

from chat_image import AsyncChatImage, ChatCompletion, ChatImage, DefaultAioHttpClient, UserMessage
from chat_image.testing import FakeGateway, Reply
from completions import completion

API_KEY = "sk-test-3f9a1c0b7e5d"

# What an async client sends over: httpx's own pool, or aiohttp's (`DefaultAioHttpClient`).
# A sync client has only httpx. The reliability and streaming suites run on each.
BACKENDS = ("httpx", "aiohttp")
KINDS = ("sync", *(f"async-{backend}" for backend in BACKENDS))


def async_http_client(backend: str, **kwargs: Any) -> httpx.AsyncClient:
    """An `httpx.AsyncClient(**kwargs)` sending over `backend`."""
    if backend == "aiohttp":
        return DefaultAioHttpClient(**kwargs)
    return httpx.AsyncClient(**kwargs)


def backend_kwargs(backend: str) -> dict[str, Any]:
    """`AsyncChatImage`'s kwargs for `backend`: on httpx, the client's own pool (no
    `http_client`); on aiohttp, a `DefaultAioHttpClient`, which the client closes itself."""
    return {"http_client": DefaultAioHttpClient()} if backend == "aiohttp" else {}


# No deadlines anywhere: the machines are shared and noisy, and a slow example is not a bug.
# `ci` (set by .ci/run) runs enough examples to mean something; `dev` is for quick local runs.
_COMMON: dict[str, Any] = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("default", max_examples=200, **_COMMON)
settings.register_profile("ci", max_examples=1000, **_COMMON)
settings.register_profile("dev", max_examples=50, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the credentials they set: none from the machine running them."""
    for name in ("CHAT_IMAGE_API_KEY", "OPENAI_API_KEY", "CHAT_IMAGE_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[FakeGateway]:
    """The fake gateway on 127.0.0.1, checking our key and the request contract; unless told
    otherwise it answers `completion()`, one known completion."""
    with FakeGateway(api_key=API_KEY, default=Reply(body=completion())) as gateway:
        yield gateway
    if gateway.errors:  # a test's responder raised: the request was answered 500
        raise gateway.errors[0]


@pytest.fixture
def lenient_server() -> Iterator[FakeGateway]:
    """The fake gateway taking whatever arrives: for requests that are not the gateway's own
    (other paths, proxied absolute URLs, bodies the contract refuses)."""
    with FakeGateway(api_key=None, validate=False, default=Reply(body=completion())) as gateway:
        yield gateway
    if gateway.errors:
        raise gateway.errors[0]


@pytest.fixture
def client(server: FakeGateway) -> Iterator[ChatImage]:
    with ChatImage(api_key=API_KEY, base_url=server.url + "/v1") as chat:
        yield chat


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each async backend in turn: "httpx" or "aiohttp" (see `async_http_client`)."""
    return str(request.param)


@pytest.fixture
def async_client(server: FakeGateway, backend: str) -> AsyncChatImage:
    return AsyncChatImage(api_key=API_KEY, base_url=server.url, **backend_kwargs(backend))


class Caller:
    """Calls `create()` through `ChatImage` or `AsyncChatImage` alike, recording the waits
    between retries instead of sleeping them. `kind` is one of `KINDS`: "sync", or "async-"
    and the backend the async client sends over."""

    def __init__(self, kind: str, server: FakeGateway) -> None:
        assert kind in KINDS, kind
        self.kind = kind
        self.server = server
        self.sleeps: list[float] = []

    @property
    def backend(self) -> str:
        """What the client sends over: "httpx" (always, for sync) or "aiohttp"."""
        return "httpx" if self.kind == "sync" else self.kind.removeprefix("async-")

    def make(self, **client_kwargs: Any) -> ChatImage | AsyncChatImage:
        """A client of this kind on the server; the async one must be used in one event loop."""
        kwargs = {"api_key": API_KEY, "base_url": self.server.url, **client_kwargs}
        if self.kind == "sync":
            sync = ChatImage(**kwargs)
            sync._sleep = self.sleeps.append
            return sync

        async def record(seconds: float) -> None:
            self.sleeps.append(seconds)

        if "http_client" not in kwargs:
            kwargs.update(backend_kwargs(self.backend))
        chat = AsyncChatImage(**kwargs)
        chat._sleep = record
        return chat

    def __call__(self, client: dict[str, Any] | None = None, **create: Any) -> ChatCompletion:
        """One call on a new client made with `client` kwargs; returns or raises as it does."""
        create = {
            "model": "gpt-4o",
            "messages": [UserMessage("hi")],
            "max_tokens": 5,
            **create,
        }
        if self.kind == "sync":
            with self.make(**(client or {})) as sync:
                assert isinstance(sync, ChatImage)
                return sync.chat.completions.create(**create)

        async def main() -> ChatCompletion:
            async with self.make(**(client or {})) as chat:
                assert isinstance(chat, AsyncChatImage)
                return await chat.chat.completions.create(**create)

        return asyncio.run(main())


@pytest.fixture(params=KINDS)
def call(request: pytest.FixtureRequest, server: FakeGateway) -> Caller:
    """`call(**create_kwargs)` through each client in turn (see `Caller`)."""
    return Caller(request.param, server)


@pytest.fixture(params=KINDS)
def stream_call(request: pytest.FixtureRequest, server: FakeGateway) -> Any:
    """`stream_call.stream(**create_kwargs)` through each client in turn (`streams.py`)."""
    from streams import StreamCaller

    return StreamCaller(request.param, server)
