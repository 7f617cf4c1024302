from __future__ import annotations

from collections.abc import Iterator

import pytest

from chat_image import AsyncChatImage, ChatImage
from loopback import LoopbackServer

API_KEY = "sk-test-3f9a1c0b7e5d"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the credentials they set: none from the machine running them."""
    for name in ("CHAT_IMAGE_API_KEY", "OPENAI_API_KEY", "CHAT_IMAGE_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer().running() as running:
        yield running


@pytest.fixture
def client(server: LoopbackServer) -> Iterator[ChatImage]:
    with ChatImage(api_key=API_KEY, base_url=server.url + "/v1") as chat:
        yield chat


@pytest.fixture
def async_client(server: LoopbackServer) -> AsyncChatImage:
    return AsyncChatImage(api_key=API_KEY, base_url=server.url)
