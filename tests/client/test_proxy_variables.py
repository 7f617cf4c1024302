"""Proxy variables are read as httpx reads them (`HTTP_PROXY=user:pass@host:port`, without a
scheme, is `http://`), on every client and backend; one httpx could not use is refused as
`InvalidInputError` naming the variable, before anything is sent, without its password."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chat_image import ChatImageError, InvalidInputError
from chat_image.testing import FakeGateway
from conftest import API_KEY, Caller

_PASSWORD = "pr0xy-s3cret-pw"
_NAMES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUEST_METHOD")


@pytest.fixture
def proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy settings but the ones a test sets."""
    for name in _NAMES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


@pytest.fixture
def proxy() -> Iterator[FakeGateway]:
    with FakeGateway(api_key=None, validate=False) as gateway:
        yield gateway


@pytest.mark.parametrize("kind", ["sync", "async-httpx", "async-aiohttp"])
def test_a_proxy_without_a_scheme_is_http_as_in_httpx(proxy_env, proxy, kind):
    host_port = proxy.url.removeprefix("http://")
    proxy_env.setenv("HTTP_PROXY", f"user:{_PASSWORD}@{host_port}")
    call = Caller(kind, proxy)
    call(client={"base_url": "http://localhost:9/v1", "api_key": API_KEY})
    assert proxy.last.path == "http://localhost:9/v1/chat/completions"
    assert "proxy-authorization" in proxy.last.headers  # the user and password were used


@pytest.mark.parametrize(
    "value",
    [
        f"ftp://user:{_PASSWORD}@127.0.0.1:21",
        f"http://user:{_PASSWORD}@[::1",
        f"http://user:{_PASSWORD}@127.0.0.1:99999",
        f"http://user:{_PASSWORD}@exa mple.test:8080",
        f"socks5://user:{_PASSWORD}@127.0.0.1:1080",
    ],
    ids=["ftp", "unclosed-ipv6", "port-over-65535", "space", "socks-without-socksio"],
)
@pytest.mark.parametrize("kind", ["sync", "async-httpx", "async-aiohttp"])
@pytest.mark.parametrize("variable", ["HTTP_PROXY", "all_proxy"])
def test_a_proxy_httpx_cannot_use_is_refused_without_its_password(
    proxy_env, server, kind, variable, value
):
    proxy_env.setenv(variable, value)
    call = Caller(kind, server)
    with pytest.raises(ChatImageError) as caught:
        call(client={"base_url": server.base_url})
    error = caught.value
    assert isinstance(error, InvalidInputError), repr(error)
    assert error.field == variable  # as it is spelt in the environment
    for text in (str(error), repr(error), error.problem):
        assert _PASSWORD not in text
    assert server.count == 0  # refused before sending


def test_a_bad_proxy_variable_is_refused_when_the_client_is_made(proxy_env, server):
    """As httpx.Client() refuses it: at construction, not at the first call."""
    from chat_image import ChatImage, DefaultAioHttpClient

    proxy_env.setenv("HTTPS_PROXY", f"ftp://user:{_PASSWORD}@127.0.0.1:21")
    with pytest.raises(InvalidInputError, match="HTTPS_PROXY") as caught:
        ChatImage(api_key=API_KEY, base_url=server.base_url)
    assert _PASSWORD not in str(caught.value)
    with pytest.raises(InvalidInputError, match="HTTPS_PROXY") as caught:
        DefaultAioHttpClient()
    assert _PASSWORD not in str(caught.value)
