"""What `ChatImage` and `AsyncChatImage` share and do no I/O for.

`create()`'s arguments become one frozen `Call` (the request, its retry budget, its deadline,
whether it streams), and every decision around sending is written once here: when an attempt
must end, what a client closed mid-call means, which answer is final, and what a stream's
re-send carries over. The two clients in `_client` only send, sleep and read.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn, SupportsIndex

import attrs
import httpx

from ._config import (
    DEFAULT_LIMITS,
    MAX_RETRIES_EXTENSION,
    RETRIES_TAKEN_EXTENSION,
    Settings,
    to_timeout,
)
from ._exceptions import ChatImageError, status_error, transport_error
from ._request import BODY_OPTIONS, StreamOptions, build_body, build_request, check_param_names
from ._transports import deadline as _deadline
from ._validation import (
    check_headers,
    check_max_response_bytes,
    check_max_retries,
    check_seconds,
)
from ._version import __version__

if TYPE_CHECKING:
    from chat_image_api import AuthenticatedClient

    from ._images.stage import ImagesOption
    from ._retry import OnRetry, RetryPolicy

__all__ = ["BaseClient", "Call", "closed_during_call", "timeout_for"]

USER_AGENT = f"chat-image-python/{__version__}"
# What httpx.Client() uses when not told otherwise (5 s for everything): a caller's client
# with any other timeout was configured on purpose, and its timeout is kept (as `openai` does).
_HTTPX_DEFAULT_TIMEOUT = httpx.Timeout(5.0)
# In a forked child: the generated clients (and so the pools) the parent made, never to be
# used or finalized here (see `BaseClient._after_fork`).
_PARENT_POOLS: list[object] = []


@attrs.frozen
class Call:
    """One `create()` call, decided before anything is sent.

    `deadline` is when the whole call must end (`time.monotonic()`), from `total_timeout`,
    fixed when the call is made so that a stream's re-sends count against the same bound.
    `retries_before` counts the retries earlier sends of a stream took.
    """

    request: httpx.Request = attrs.field(repr=False)
    max_retries: int
    stream: bool
    deadline: float | None
    deadline_reason: str
    attempt_seconds: float | None
    max_response_bytes: int
    retries_before: int = 0

    def attempt_deadline(self) -> tuple[float | None, str]:
        """When the next attempt must end, and what that deadline is."""
        if self.attempt_seconds is None:
            return self.deadline, self.deadline_reason
        ends = time.monotonic() + self.attempt_seconds
        if self.deadline is not None and self.deadline < ends:
            return self.deadline, self.deadline_reason
        return ends, f"the attempt's {self.attempt_seconds:g} s timeout"

    def unread(self, response: httpx.Response) -> bool:
        """Whether `response` is handed on unread: a stream's success, read event by event."""
        return self.stream and response.is_success

    def resent(self, retries_done: int) -> Call:
        """The same call sent again after a stream failed before its first event, having
        taken `retries_done` retries: what is left of its budget, and the count so far."""
        return attrs.evolve(
            self,
            max_retries=self.max_retries - retries_done - 1,
            retries_before=self.retries_before + retries_done + 1,
        )


def timeout_for(
    timeout: float | httpx.Timeout | None, http_client: httpx.Client | httpx.AsyncClient | None
) -> float | httpx.Timeout | None:
    """The client's timeout: the one given, else a caller's `http_client`'s own if it is not
    httpx's default, else ours."""
    if (
        timeout is None
        and http_client is not None
        and http_client.timeout != _HTTPX_DEFAULT_TIMEOUT
    ):
        return http_client.timeout
    return timeout


def closed_during_call() -> ChatImageError:
    """The error for a pool closed under a call: what failed then is only that, so say so."""
    return ChatImageError(
        "the client was closed (close() from another thread or task) while this call was "
        "under way; close a client only after its calls have returned"
    )


def check_open(http: httpx.Client | httpx.AsyncClient) -> None:
    """Refuse a call on a closed client before anything is built or sent."""
    if http.is_closed:
        raise ChatImageError("the client is closed; make a new one (or use it inside `with`)")


def check_still_open(http: httpx.Client | httpx.AsyncClient, cause: BaseException | None) -> None:
    """After an attempt (or its failure): a pool closed under it makes the outcome chance, so
    one rule holds whatever got through (and httpx's own error would be a RuntimeError)."""
    if http.is_closed:
        raise closed_during_call() from cause


class BaseClient:
    """Settings, the generated client, and every decision about sending; no I/O."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | httpx.URL | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
        retry_policy: RetryPolicy | None,
        on_retry: OnRetry | None,
        total_timeout: float | None,
        max_response_bytes: int,
        tracing: bool | None = None,
        gen_ai_provider: str | None = None,
        images: ImagesOption = None,
    ) -> None:
        from ._images.stage import ImageStage
        from ._retry import RetryPolicy
        from ._tracing import tracing_for

        # Issue 18: the image policy and download cache, applied to each call (`create`).
        self._images = ImageStage(images)

        self._settings = Settings.resolve(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
        self._retry_policy = retry_policy or RetryPolicy()
        self._total_timeout = check_seconds("total_timeout", total_timeout)
        self._max_response_bytes = check_max_response_bytes(max_response_bytes)
        # Told of each retry before its wait: how a batch runner sees 429s and their headers.
        self._on_retry = on_retry
        default_headers = check_headers("default_headers", default_headers)
        self._default_headers = default_headers
        self._headers = {
            "User-Agent": USER_AGENT,
            **(default_headers or {}),
            "Authorization": f"Bearer {self._settings.api_key}",
        }
        # [tracing] Spans and metrics per call (the otel extra); UNTRACED when off or absent.
        self._tracing = tracing_for(tracing, gen_ai_provider, self._settings.base_url)
        self._api = self._new_api()
        # The process whose pool this is: a forked child must not use its parent's sockets.
        self._pid = os.getpid()
        self._owns_http_client = True

    def _new_api(self) -> AuthenticatedClient:
        """The generated client, with a pool (and retry transport) of its own."""
        from chat_image_api import AuthenticatedClient

        from ._transports.retry import RetryTransport

        # The httpx client the generated one builds carries these headers itself (it adds
        # the Authorization); only a caller's own httpx client needs them on each request.
        return AuthenticatedClient(
            base_url=self._settings.base_url,
            token=self._settings.api_key,
            timeout=self._settings.timeout,
            headers={"User-Agent": USER_AGENT, **(self._default_headers or {})},
            # The transport carries the pool limits: httpx ignores `limits` beside a transport.
            httpx_args={
                "transport": RetryTransport(
                    max_retries=self._settings.max_retries,
                    policy=self._retry_policy,
                    limits=DEFAULT_LIMITS,
                )
            },
        )

    def _forked(self) -> bool:
        """Whether this process is not the one the pool was made in (a child after a fork)."""
        return self._pid != os.getpid()

    def _after_fork(self) -> None:
        # The parent's pool is left alone, not closed: its sockets are the parent's to use.
        # It is kept referenced, too: finalized here, aiohttp's connector would close its
        # transports, which unregisters their sockets from the epoll set that parent and
        # child share after a fork, and the parent would wait forever for its answers.
        _PARENT_POOLS.append(self._api)
        self._pid = os.getpid()
        self._api = self._new_api()

    def _forked_with_own_client(self) -> NoReturn:
        raise ChatImageError(
            f"this {type(self).__name__} was made in another process (pid {self._pid}) with "
            "your own http_client, whose pooled connections belong to that process; after a "
            "fork make the client, and its http_client, in the process that uses it"
        )

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
        self._http()  # a fresh pool after a fork
        return self._api

    def _http(self) -> httpx.Client | httpx.AsyncClient:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, max_retries={self.max_retries})"

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        # A copy would share (or, unpickled, lack) the connection pool and its sockets.
        raise TypeError(
            f"{type(self).__name__} cannot be pickled or copied: it owns a connection pool; "
            "make a new client where it is needed (in each process, say)"
        )

    def _call(
        self,
        http: httpx.Client | httpx.AsyncClient,
        stream: bool,
        stream_options: StreamOptions | None,
        params: Mapping[str, Any],
    ) -> Call:
        """`create()`'s arguments checked, as the call to make. Raises before anything is sent."""
        check_param_names(params)
        max_retries = params.get("max_retries")
        retries = (
            self._settings.max_retries if max_retries is None else check_max_retries(max_retries)
        )
        options = {key: params[key] for key in BODY_OPTIONS if params.get(key) is not None}
        extra_body = params.get("extra_body")
        body = build_body(
            model=params["model"],
            messages=params["messages"],
            max_tokens=params["max_tokens"],
            params={**options, **extra_body} if extra_body else options,
            stream=stream,
            stream_options=stream_options,
        )
        # Re-sending the client's own headers costs about 6 us a call in httpx's header merge.
        headers = self._headers if not self._owns_http_client else {}
        extra_headers = params.get("extra_headers")
        if extra_headers:
            headers = {**headers, **check_headers("extra_headers", extra_headers)}
        timeout = params.get("timeout")
        request = build_request(
            http,
            base_url=self._settings.base_url,
            headers=headers,
            body=body,
            timeout=self._settings.timeout if timeout is None else to_timeout(timeout),
        )
        # Retries happen around send(), in the clients; the RetryTransport below must not add
        # its own.
        request.extensions[MAX_RETRIES_EXTENSION] = 0
        total = check_seconds("total_timeout", params.get("total_timeout"))
        total = self._total_timeout if total is None else total
        return Call(
            request=request,
            max_retries=retries,
            stream=stream,
            deadline=None if total is None else time.monotonic() + total,
            deadline_reason="" if total is None else f"the call's total_timeout of {total:g} s",
            attempt_seconds=_deadline.attempt_seconds(request.extensions.get("timeout", {})),
            max_response_bytes=self._max_response_bytes,
        )

    def _answered(self, call: Call, response: httpx.Response) -> httpx.Response:
        """The final answer of a call's retries: a 2xx response (retries counted across a
        stream's re-sends), else the error its status calls for."""
        if not response.is_success:
            raise status_error(response)
        if call.retries_before:
            taken = response.extensions.get(RETRIES_TAKEN_EXTENSION, 0)
            response.extensions[RETRIES_TAKEN_EXTENSION] = taken + call.retries_before
        return response

    def _failed(self, call: Call, exc: httpx.HTTPError) -> Exception:
        """The error for a call whose last attempt failed in transport."""
        return transport_error(call.request, exc)

    def _resend_wait(self, call: Call, retries_done: int, failure: httpx.HTTPError) -> float | None:
        """The wait before sending a stream again after it failed before its first event, or
        None when that failure is final: the same policy, budget and deadline as a send."""
        from ._retry import decide

        return decide(
            self._retry_policy,
            call.request,
            retries_done,
            call.max_retries,
            failure,
            self._on_retry,
            call.deadline,
        )
