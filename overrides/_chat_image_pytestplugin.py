"""chat-image's pytest plugin (entry point `pytest11`): fixtures backed by `FakeGateway`.

A top-level module, not part of `chat_image`, so that loading it (pytest loads every
installed plugin) imports neither the client nor the server: both are imported inside the
fixtures, when a test asks for one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from chat_image import AsyncChatImage, ChatImage
    from chat_image.testing import FakeGateway


@pytest.fixture
def fake_gateway() -> Iterator[FakeGateway]:
    """A started `FakeGateway` (a real server on 127.0.0.1), stopped after the test.

    It runs in its own thread, so sync and async tests use it alike. An exception raised by
    a `responder` you set fails the test at teardown (the request itself was answered 500).
    """
    from chat_image.testing import FakeGateway

    with FakeGateway() as gateway:
        yield gateway
    if gateway.errors:
        raise gateway.errors[0]


@pytest.fixture
def fake_gateway_client(fake_gateway: FakeGateway) -> Iterator[ChatImage]:
    """A `ChatImage` for `fake_gateway` that retries without waiting; closed after the test."""
    with fake_gateway.client() as client:
        yield client


@pytest.fixture
def fake_gateway_async_client(fake_gateway: FakeGateway) -> AsyncChatImage:
    """An `AsyncChatImage` for `fake_gateway` that retries without waiting.

    Made outside any event loop: open it in the test's own (`async with client:`), so it
    works with `asyncio.run`, pytest-asyncio and anyio alike.
    """
    return fake_gateway.async_client()
