"""`ChatImage` and `AsyncChatImage`: the `openai`-shaped entry points.

Both wrap the generated `AuthenticatedClient`, which holds the httpx client, and differ only
in how they send and sleep; building the request and reading the answer live in `_wire`,
when to retry and how long to wait in `_retry`, which error is raised in `_errors`.

Retries run here, around `httpx.Client.send`, so they apply to a caller's own `http_client`
too. The generated client underneath gets a `RetryTransport`, so that the generated endpoint
functions retry when called with `client.api_client`; requests sent from here tell that
transport not to retry again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, NoReturn, Self, SupportsIndex

import httpx

from chat_image_api import AuthenticatedClient

from ._completion import ChatCompletion
from ._errors import ChatImageError, InvalidInputError, transport_error
from ._retry import RetryPolicy, retry_async, retry_sync
from ._settings import (
    DEFAULT_LIMITS,
    DEFAULT_MAX_RETRIES,
    Settings,
    check_headers,
    check_max_retries,
    to_timeout,
)
from ._transport import MAX_RETRIES_EXTENSION, RetryTransport
from ._version import __version__
from ._wire import MessageParam, RequestBody, build_body, build_request, read_completion

__all__ = ["AsyncChatImage", "ChatImage"]

_USER_AGENT = f"chat-image-python/{__version__}"
# What httpx.Client() uses when not told otherwise (5 s for everything): a caller's client
# with any other timeout was configured on purpose, and its timeout is kept (as `openai` does).
_HTTPX_DEFAULT_TIMEOUT = httpx.Timeout(5.0)


def _timeout_for(
    timeout: float | httpx.Timeout | None, http_client: httpx.Client | httpx.AsyncClient | None
) -> float | httpx.Timeout | None:
    if (
        timeout is None
        and http_client is not None
        and http_client.timeout != _HTTPX_DEFAULT_TIMEOUT
    ):
        return http_client.timeout
    return timeout


def _check_http_client(
    http_client: object, expected: type[httpx.Client] | type[httpx.AsyncClient]
) -> None:
    if http_client is not None and not isinstance(http_client, expected):
        raise InvalidInputError(
            "http_client", f"expected an {expected.__name__}, got {type(http_client).__name__}"
        )


def _check_open(http: httpx.Client | httpx.AsyncClient) -> None:
    if http.is_closed:
        raise ChatImageError("the client is closed; make a new one (or use it inside `with`)")


class _BaseClient:
    """Settings and the generated client; no I/O."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | httpx.URL | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
        retry_policy: RetryPolicy | None,
    ) -> None:
        self._settings = Settings.resolve(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
        self._retry_policy = retry_policy or RetryPolicy()
        default_headers = check_headers("default_headers", default_headers)
        self._headers = {
            "User-Agent": _USER_AGENT,
            **(default_headers or {}),
            "Authorization": f"Bearer {self._settings.api_key}",
        }
        # The httpx client the generated one builds carries these headers itself (it adds
        # the Authorization); only a caller's own httpx client needs them on each request.
        self._api = AuthenticatedClient(
            base_url=self._settings.base_url,
            token=self._settings.api_key,
            timeout=self._settings.timeout,
            headers={"User-Agent": _USER_AGENT, **(default_headers or {})},
            # The transport carries the pool limits: httpx ignores `limits` beside a transport.
            httpx_args={
                "transport": RetryTransport(
                    max_retries=self._settings.max_retries,
                    policy=self._retry_policy,
                    limits=DEFAULT_LIMITS,
                )
            },
        )
        self._owns_http_client = True

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    @property
    def max_retries(self) -> int:
        return self._settings.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        return self._settings.timeout

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry_policy

    @property
    def api_client(self) -> AuthenticatedClient:
        """The generated client underneath, for calling the generated endpoint directly.

        With a caller's own `http_client`, it sends on that client as it is: with that
        client's base URL and headers, not this one's, and without retries.
        """
        return self._api

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, max_retries={self.max_retries})"

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        # A copy would share (or, unpickled, lack) the connection pool and its sockets.
        raise TypeError(
            f"{type(self).__name__} cannot be pickled or copied: it owns a connection pool; "
            "make a new client where it is needed (in each process, say)"
        )

    def _request(
        self,
        http: httpx.Client | httpx.AsyncClient,
        body: RequestBody,
        extra_headers: Mapping[str, str] | None,
        timeout: float | httpx.Timeout | None,
    ) -> httpx.Request:
        # Re-sending the client's own headers costs about 6 us a call in httpx's header merge.
        headers = self._headers if not self._owns_http_client else {}
        if extra_headers:
            headers = {**headers, **check_headers("extra_headers", extra_headers)}
        request = build_request(
            http,
            base_url=self._settings.base_url,
            headers=headers,
            body=body,
            timeout=self._settings.timeout if timeout is None else to_timeout(timeout),
        )
        # Retries happen around send(), here; the RetryTransport below must not add its own.
        request.extensions[MAX_RETRIES_EXTENSION] = 0
        return request

    def _max_retries(self, max_retries: int | None) -> int:
        if max_retries is None:
            return self._settings.max_retries
        return check_max_retries(max_retries)


def _params(
    temperature: float | None,
    top_p: float | None,
    n: int | None,
    stop: str | Sequence[str] | None,
    seed: int | None,
    presence_penalty: float | None,
    frequency_penalty: float | None,
    user: str | None,
    extra_body: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The named options that were given, then `extra_body` as is (its None is a JSON null)."""
    named = {
        "temperature": temperature,
        "top_p": top_p,
        "n": n,
        "stop": stop,
        "seed": seed,
        "presence_penalty": presence_penalty,
        "frequency_penalty": frequency_penalty,
        "user": user,
    }
    given = {key: value for key, value in named.items() if value is not None}
    return {**given, **extra_body} if extra_body else given


class ChatImage(_BaseClient):
    """A synchronous client: `ChatImage().chat.completions.create(...)`."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        _check_http_client(http_client, httpx.Client)
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=_timeout_for(timeout, http_client),
            max_retries=max_retries,
            default_headers=default_headers,
            retry_policy=retry_policy,
        )
        # How the wait between attempts is spent; tests record the waits here instead.
        self._sleep: Callable[[float], object] = time.sleep
        self._http_client: httpx.Client | None = None
        if http_client is not None:
            self._api.set_httpx_client(http_client)
            self._owns_http_client = False
        self.chat = _Chat(_Completions(self))

    def _http(self) -> httpx.Client:
        if self._http_client is None:
            self._http_client = self._api.get_httpx_client()
        return self._http_client

    def _send(self, request: httpx.Request, max_retries: int) -> ChatCompletion:
        http = self._http()
        _check_open(http)
        try:
            response = retry_sync(
                lambda: http.send(request),
                request=request,
                policy=self._retry_policy,
                max_retries=max_retries,
                sleep=self._sleep,
            )
        except httpx.HTTPError as exc:
            raise transport_error(request, exc) from exc
        return read_completion(response)

    def close(self) -> None:
        """Close the connection pool, unless the caller passed their own httpx client."""
        if self._owns_http_client:
            self._http().close()

    def __del__(self) -> None:
        # `client = ChatImage()` without `with` is the common notebook idiom (as with the
        # `openai` package): release the pool when the client goes, not at interpreter exit.
        http = getattr(self, "_http_client", None)
        try:
            if http is not None and self._owns_http_client:
                http.close()
        except Exception:  # noqa: S110 - nothing useful to do during garbage collection
            pass

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncChatImage(_BaseClient):
    """An asyncio client: `await AsyncChatImage().chat.completions.create(...)`."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        _check_http_client(http_client, httpx.AsyncClient)
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=_timeout_for(timeout, http_client),
            max_retries=max_retries,
            default_headers=default_headers,
            retry_policy=retry_policy,
        )
        # How the wait between attempts is spent; tests record the waits here instead.
        self._sleep: Callable[[float], Awaitable[object]] = asyncio.sleep
        if http_client is not None:
            self._api.set_async_httpx_client(http_client)
            self._owns_http_client = False
        self.chat = _AsyncChat(_AsyncCompletions(self))

    def _http(self) -> httpx.AsyncClient:
        return self._api.get_async_httpx_client()

    async def _send(self, request: httpx.Request, max_retries: int) -> ChatCompletion:
        http = self._http()
        _check_open(http)
        try:
            response = await retry_async(
                lambda: http.send(request),
                request=request,
                policy=self._retry_policy,
                max_retries=max_retries,
                sleep=self._sleep,
            )
        except httpx.HTTPError as exc:
            raise transport_error(request, exc) from exc
        return read_completion(response)

    async def close(self) -> None:
        """Close the connection pool, unless the caller passed their own httpx client."""
        if self._owns_http_client:
            await self._http().aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class _Completions:
    """`client.chat.completions`."""

    def __init__(self, client: ChatImage) -> None:
        self._client = client

    def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        max_tokens: int,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | Sequence[str] | None = None,
        seed: int | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        user: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
    ) -> ChatCompletion:
        """Send one chat completion request and return the typed answer.

        `messages` may mix typed messages and the dicts the `openai` package takes. Arguments
        left as None are not sent; `extra_body` adds fields this signature does not name.
        `timeout` and `max_retries` override the client's for this call.
        """
        params = _params(
            temperature, top_p, n, stop, seed, presence_penalty, frequency_penalty, user, extra_body
        )
        client = self._client
        retries = client._max_retries(max_retries)
        body = build_body(model=model, messages=messages, max_tokens=max_tokens, params=params)
        request = client._request(client._http(), body, extra_headers, timeout)
        return client._send(request, retries)


class _AsyncCompletions:
    """`client.chat.completions`, awaitable."""

    def __init__(self, client: AsyncChatImage) -> None:
        self._client = client

    async def create(
        self,
        *,
        model: str,
        messages: Iterable[MessageParam],
        max_tokens: int,
        temperature: float | None = None,
        top_p: float | None = None,
        n: int | None = None,
        stop: str | Sequence[str] | None = None,
        seed: int | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        user: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
    ) -> ChatCompletion:
        """Send one chat completion request and return the typed answer (see `ChatImage`)."""
        params = _params(
            temperature, top_p, n, stop, seed, presence_penalty, frequency_penalty, user, extra_body
        )
        client = self._client
        retries = client._max_retries(max_retries)
        body = build_body(model=model, messages=messages, max_tokens=max_tokens, params=params)
        request = client._request(client._http(), body, extra_headers, timeout)
        return await client._send(request, retries)


class _Chat:
    """`client.chat`."""

    def __init__(self, completions: _Completions) -> None:
        self.completions = completions


class _AsyncChat:
    """`client.chat`, awaitable."""

    def __init__(self, completions: _AsyncCompletions) -> None:
        self.completions = completions
