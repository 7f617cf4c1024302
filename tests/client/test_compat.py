"""Each reach into httpx, httpcore or the generated client finds its target in the installed
versions; a moved internal fails here (and loudly at run time), never silently."""

from __future__ import annotations

import httpcore
import httpx
import pytest

from chat_image import _compat
from chat_image._request import build_body
from chat_image._transports import deadline, early_answer


def test_the_generated_request_builder_is_there():
    body = build_body(
        model="m", messages=[{"role": "user", "content": "Hi"}], max_tokens=5, params={}
    )
    kwargs = _compat.endpoint_kwargs(body.request)
    assert kwargs["method"].lower() == "post"
    assert kwargs["url"] == "/v1/chat/completions"
    assert kwargs["json"]["messages"] == [{"role": "user", "content": "Hi"}]


def test_a_body_read_by_hand_is_kept_as_read_would_keep_it():
    response = httpx.Response(200, stream=httpx.ByteStream(b"unused"))
    _compat.keep_content(response, b'{"ok": true}')
    assert response.content == b'{"ok": true}'
    assert response.json() == {"ok": True}


@pytest.mark.parametrize(
    ("transport", "backend_type"),
    [
        (httpx.HTTPTransport(), httpcore.NetworkBackend),
        (httpx.AsyncHTTPTransport(), httpcore.AsyncNetworkBackend),
    ],
)
def test_the_pools_network_backend_is_reachable(transport, backend_type):
    backend = _compat.network_backend(transport)
    assert isinstance(backend, backend_type)


def test_our_backends_go_under_httpx_pools():
    sync = deadline.install(httpx.HTTPTransport())
    assert isinstance(_compat.network_backend(sync), deadline.DeadlineBackend)
    asynchronous = early_answer.install(httpx.AsyncHTTPTransport())
    assert isinstance(_compat.network_backend(asynchronous), early_answer.EarlyAnswerBackend)


def test_a_moved_pool_is_an_error_not_a_silent_skip():
    class Elsewhere(httpx.HTTPTransport):
        def __init__(self) -> None:
            super().__init__()
            self._moved = self._pool
            del self._pool

    with pytest.raises(_compat.CompatError, match="_network_backend is gone"):
        deadline.install(Elsewhere())


def test_httpx_still_builds_transports_through_the_hooks_aiohttp_overrides():
    _compat.check_transport_hooks()
    for name in _compat.TRANSPORT_HOOKS:
        assert callable(getattr(httpx.AsyncClient, name))


def test_httpxs_reading_of_the_proxy_variables_is_there(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTP_PROXY", "user:pw@127.0.0.1:3128")
    monkeypatch.setenv("NO_PROXY", "localhost")
    proxies = _compat.environment_proxies()
    assert proxies["http://"] == "http://user:pw@127.0.0.1:3128"
    assert proxies["all://localhost"] is None
    assert _compat.url_pattern("all://localhost").matches(httpx.URL("http://localhost:9/x"))
    assert not _compat.url_pattern("https://").matches(httpx.URL("http://localhost:9/x"))


@pytest.mark.parametrize("client_type", [httpx.Client, httpx.AsyncClient])
def test_a_clients_cookie_store_can_be_made_lean(client_type):
    client = client_type()
    jar = client.cookies.jar
    _compat.lean_cookies(client)
    assert type(client.cookies) is not httpx.Cookies
    assert client.cookies.jar is jar  # the same cookies, before and after
    _compat.lean_cookies(client)  # twice is once


def test_a_moved_cookie_store_is_an_error_not_a_silent_skip():
    client = httpx.Client()
    del client._cookies
    with pytest.raises(_compat.CompatError, match="_cookies"):
        _compat.lean_cookies(client)
