"""The exception tree: one base class, the `openai` package's names for the same jobs.

Every error survives `pickle` (a worker process raising one must not break its pool) with its
message and the fields users read; an `APIError` crosses without the request's headers or
body, so the API key stays behind. Server text an error shows (its message, `.body`,
`.request_id`) has the request's key masked, however a JSON body escapes it.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from ._redact import (
    body_text,
    decode_body,
    mask,
    masked_json,
    redacted,
    request_id_of,
    secret_of,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ChatImageError",
    "ConflictError",
    "InternalServerError",
    "InvalidImageError",
    "InvalidInputError",
    "MissingExtraError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "UnprocessableEntityError",
    "status_error",
    "stream_error",
    "transport_error",
]

# How much of an unparsed body goes into a one-line message; the whole body stays on `.body`.
_SNIPPET_CHARS = 200


class ChatImageError(Exception):
    """Base class of every error this package raises."""


class InvalidInputError(ChatImageError, ValueError):
    """An argument was refused before anything was sent; `field` names where."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}" if field else problem)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.field, self.problem), self.__dict__)

    def under(self, prefix: str) -> InvalidInputError:
        """The same problem, located inside `prefix` (e.g. `messages[2]`)."""
        if not self.field:
            return InvalidInputError(prefix, self.problem)
        sep = "" if self.field.startswith("[") else "."
        return InvalidInputError(f"{prefix}{sep}{self.field}", self.problem)


class InvalidImageError(InvalidInputError):
    """An image was refused before sending: unreadable, not PNG/JPEG/GIF/WebP, or too large.

    `field` is the argument (`path` or `data`); the message names the file when there is one.
    """


class MissingExtraError(ChatImageError, ImportError):
    """A feature needs an optional extra that is not installed (e.g. Pillow for resizing)."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        self.module = module
        super().__init__(
            f"{feature} needs {module}, which is not installed: pip install 'chat-image[{extra}]'",
            name=module,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.feature, self.extra, self.module))


class APIError(ChatImageError):
    """A request was made and did not end in a chat completion.

    `type`, `code` and `param` are the server's, when it sent an error object (a status
    error, or an error event in a stream); None otherwise.
    """

    type: str | None = None
    code: str | None = None
    param: str | None = None

    def __init__(self, message: str, *, request: httpx.Request, body: object = None) -> None:
        message = _one_line(message)
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its fields, not its __init__: the request and response go as bare
        # copies (method, URL, status, masked response headers), never the request's headers.
        secret = secret_of(self.request)
        state = {
            name: _bare(value, secret)
            for name, value in self.__dict__.items()
            if not name.startswith("__")
        }
        return (_rebuild, (type(self), self.message, state))


def _rebuild(cls: type[APIError], message: str, state: dict[str, Any]) -> APIError:
    """An unpickled APIError: its message, and the fields it was pickled with."""
    error = cls.__new__(cls)
    ChatImageError.__init__(error, message)
    error.__dict__.update(state)
    return error


# Headers a bare response must not keep: its body is not carried, so nothing to decode.
_BODY_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def _bare(value: object, secret: str | None) -> object:
    """A request or response reduced to what is safe to send to another process."""
    if isinstance(value, httpx.Request):
        return httpx.Request(value.method, value.url)
    if isinstance(value, httpx.Response):
        headers = [
            (name, mask(header, secret))
            for name, header in value.headers.multi_items()
            if name.lower() not in _BODY_HEADERS
        ]
        request = httpx.Request(value.request.method, value.request.url)
        return httpx.Response(value.status_code, headers=headers, request=request)
    return value


class APIConnectionError(APIError):
    """The server could not be reached, or the connection broke before a full answer."""

    def __init__(self, *, request: httpx.Request, message: str = "Connection error.") -> None:
        super().__init__(message, request=request)


class APITimeoutError(APIConnectionError):
    """The server did not answer within the timeout."""

    def __init__(self, *, request: httpx.Request, message: str = "Request timed out.") -> None:
        super().__init__(request=request, message=message)


class ResponseTooLargeError(APIError):
    """The answer grew past the client's `max_response_bytes` (after decompression) while
    it was read; reading stopped there. `.limit` is that limit, `.status_code` the status."""

    def __init__(self, response: httpx.Response, limit: int) -> None:
        self.response = response
        self.status_code = response.status_code
        self.limit = limit
        where = _host_and_port(response.request.url)
        super().__init__(
            f"The answer from {where} (status {response.status_code}) is over "
            f"max_response_bytes={limit} bytes once decompressed; it was refused while being "
            "read. Raise the client's max_response_bytes if answers this large are expected.",
            request=response.request,
        )


# Starts the text of a timeout raised when a deadline passed (see `_deadline`).
_DEADLINE_PREFIX = "deadline: "

_TIMEOUT_PHASES: dict[type[httpx.TimeoutException], str] = {
    httpx.ConnectTimeout: "connect",
    httpx.ReadTimeout: "read",
    httpx.WriteTimeout: "write",
    httpx.PoolTimeout: "pool",
}


def transport_error(request: httpx.Request, exc: httpx.HTTPError) -> APIConnectionError:
    """The error for an httpx failure that left no response to read."""
    where = _host_and_port(request.url)
    if isinstance(exc, httpx.TimeoutException):
        phase = _TIMEOUT_PHASES.get(type(exc))
        detail = f"{phase} timeout" if phase else ""
        text = str(exc)
        if text.startswith(_DEADLINE_PREFIX):  # ours: "the attempt's 2 s timeout passed"
            detail = "; ".join(filter(None, [detail, text.removeprefix(_DEADLINE_PREFIX)]))
        detail = f" ({detail})" if detail else ""
        return APITimeoutError(request=request, message=f"Request to {where} timed out{detail}.")
    # Some failures (an illegal header value, say) quote the request's headers.
    detail = mask(str(exc) or type(exc).__name__, secret_of(request))
    if isinstance(exc, httpx.ConnectError):
        message = f"Connection error: could not reach {where}: {detail}"
    else:
        message = f"Connection error with {where}: {detail}"
    return APIConnectionError(request=request, message=message)


def _host_and_port(url: httpx.URL) -> str:
    """`host:port`, the port given or the scheme's; an IPv6 host in brackets."""
    port = url.port or {"https": 443, "http": 80}.get(url.scheme)
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{host}:{port}" if port else host


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _snippet(text: str) -> str:
    line = _one_line(text)
    return line if len(line) <= _SNIPPET_CHARS else line[: _SNIPPET_CHARS - 1] + "…"


class APIResponseValidationError(APIError):
    """The server answered, but not with a chat completion; the raw body is on `.body`."""

    def __init__(self, response: httpx.Response, problem: str, *, body: str | None = None) -> None:
        """`body` is what was wrong when it is not the whole body (a stream's bad line)."""
        self.response = response
        self.status_code = response.status_code
        self.problem = problem
        self.request_id: str | None = request_id_of(response)
        body = body_text(response) if body is None else redacted(body, response.request)
        content_type = redacted(response.headers.get("content-type", ""), response.request)
        where = f"status {response.status_code}"
        if content_type and "json" not in content_type.lower():
            where += f", content-type {content_type}"
        message = f"Invalid response ({where}): {problem}"
        message += f" - body: {_snippet(body)}" if body else " - empty body"
        if self.request_id:
            message += f" (request_id={self.request_id})"
        super().__init__(message, request=response.request, body=body)


class APIStatusError(APIError):
    """The server answered with an error status; `.body` holds its error body."""

    def __init__(self, response: httpx.Response, body: object) -> None:
        self.response = response
        self.status_code = response.status_code
        self.request_id: str | None = request_id_of(response)
        fields = _error_fields(body)
        self.error_message: str | None = _str_or_none(fields.get("message"))
        self.type: str | None = _str_or_none(fields.get("type"))
        self.param: str | None = _str_or_none(fields.get("param"))
        self.code: str | None = _str_or_none(fields.get("code"))
        super().__init__(self._describe(body), request=response.request, body=body)

    def _describe(self, body: object) -> str:
        if self.error_message is not None:
            detail = self.error_message
        elif isinstance(body, str):
            detail = body or "(empty body)"
        else:
            detail = _json_text(body)
        extras = [
            f"{name}={value}"
            for name, value in (("type", self.type), ("code", self.code), ("param", self.param))
            if value is not None
        ]
        if self.request_id:
            extras.append(f"request_id={self.request_id}")
        suffix = f" ({', '.join(extras)})" if extras else ""
        return (
            f"Error code: {self.status_code} - {_snippet(detail)}{suffix}"
            f"{self._redirect()}{self._not_found()}"
        )

    def _not_found(self) -> str:
        """Which URL a 404 was for: a wrong base path is its usual cause, unless the server
        says that it is the model that does not exist."""
        if self.status_code != 404:
            return ""
        request = self.response.request
        url = mask(str(request.url.copy_with(query=None)), secret_of(request))
        hint = "" if self.code == "model_not_found" else "; check base_url"
        return f" - requested {request.method} {url}{hint}"

    def _redirect(self) -> str:
        """Where a 3xx answer pointed: redirects are not followed, so the caller must act."""
        location = self.response.headers.get("location")
        if not 300 <= self.status_code < 400 or not location:
            return ""
        secret = secret_of(self.response.request)
        try:
            target = str(self.response.request.url.join(location))
        except (httpx.InvalidURL, UnicodeError):
            target = location
        return (
            f" - redirected to {_snippet(mask(target, secret))}; "
            "redirects are not followed: check base_url"
        )


def _error_fields(body: object) -> dict[str, Any]:
    """OpenAI's `{"error": {...}}`, and the shapes other servers use for the same message:
    `{"error": "..."}`, `{"message": "..."}`, `{"detail": "..."}`."""
    if not isinstance(body, dict):
        return {}
    error = body.get("error")
    if isinstance(error, dict):
        return error
    for message in (error, body.get("message"), body.get("detail")):
        if isinstance(message, str):
            return {"message": message}
    return {}


def _json_text(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        return repr(value)


def _str_or_none(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else _json_text(value)


class BadRequestError(APIStatusError):
    """400."""


class AuthenticationError(APIStatusError):
    """401."""


class PermissionDeniedError(APIStatusError):
    """403."""


class NotFoundError(APIStatusError):
    """404."""


class ConflictError(APIStatusError):
    """409."""


class UnprocessableEntityError(APIStatusError):
    """422."""


class RateLimitError(APIStatusError):
    """429."""


class InternalServerError(APIStatusError):
    """Any 5xx."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def stream_error(response: httpx.Response, data: object) -> APIError | None:
    """The error an event in a stream reports, or None when it reports none.

    Two forms are in use: OpenAI's `{"error": {...}}` (also LiteLLM's and OpenRouter's), and
    vLLM's flat `{"object": "error", "message": ...}`.
    """
    if not isinstance(data, dict):
        return None
    if data.get("error") is None and data.get("object") != "error":
        return None
    # What the error keeps (`.body`, `.param`, ...) is read from the body with the key masked,
    # as a status error's is.
    data = masked_json(data, secret_of(response.request))
    if not isinstance(data, dict):
        return None
    if data.get("error") is not None:
        fields = _error_fields(data)
    elif data.get("object") == "error":
        fields = data
    else:
        return None
    message = _str_or_none(fields.get("message"))
    text = redacted(message or "An error occurred during streaming.", response.request)
    error = APIError(text, request=response.request, body=data)
    error.type = _str_or_none(fields.get("type"))
    error.code = _str_or_none(fields.get("code"))
    error.param = _str_or_none(fields.get("param"))
    return error


def status_error(response: httpx.Response) -> APIStatusError:
    """The error for a non-2xx response, of the class its status calls for."""
    status = response.status_code
    cls = _BY_STATUS.get(status) or (InternalServerError if status >= 500 else APIStatusError)
    return cls(response, decode_body(body_text(response)))
