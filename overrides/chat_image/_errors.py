"""The exception tree: one base class, the `openai` package's names for the same jobs."""

from __future__ import annotations

import json
from typing import Any

import httpx

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
    "UnprocessableEntityError",
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
        super().__init__(
            f"{feature} needs {module}, which is not installed: pip install 'chat-image[{extra}]'",
            name=module,
        )


class APIError(ChatImageError):
    """A request was made and did not end in a chat completion."""

    def __init__(self, message: str, *, request: httpx.Request, body: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body


class APIConnectionError(APIError):
    """The server could not be reached, or the connection broke before a full answer."""

    def __init__(self, *, request: httpx.Request, message: str = "Connection error.") -> None:
        super().__init__(message, request=request)


class APITimeoutError(APIConnectionError):
    """The server did not answer within the timeout."""

    def __init__(self, *, request: httpx.Request) -> None:
        super().__init__(request=request, message="Request timed out.")


def _snippet(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _SNIPPET_CHARS else line[: _SNIPPET_CHARS - 1] + "…"


def _decode_body(response: httpx.Response) -> object:
    """The parsed JSON error body, or the raw text when the body is not JSON."""
    text = response.content.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


class APIResponseValidationError(APIError):
    """The server answered, but not with a chat completion; the raw body is on `.body`."""

    def __init__(self, response: httpx.Response, problem: str) -> None:
        self.response = response
        self.status_code = response.status_code
        self.problem = problem
        body = response.content.decode("utf-8", errors="replace")
        message = f"Invalid response (status {response.status_code}): {problem}"
        if body:
            message += f" - body: {_snippet(body)}"
        else:
            message += " - empty body"
        super().__init__(message, request=response.request, body=body)


class APIStatusError(APIError):
    """The server answered with an error status; `.body` holds its error body."""

    def __init__(self, response: httpx.Response, body: object) -> None:
        self.response = response
        self.status_code = response.status_code
        self.request_id: str | None = response.headers.get("x-request-id")
        error = body.get("error") if isinstance(body, dict) else None
        fields: dict[str, Any] = error if isinstance(error, dict) else {}
        self.error_message: str | None = _str_or_none(fields.get("message"))
        self.type: str | None = _str_or_none(fields.get("type"))
        self.param: str | None = _str_or_none(fields.get("param"))
        self.code: str | None = _str_or_none(fields.get("code"))
        super().__init__(self._one_line(body), request=response.request, body=body)

    def _one_line(self, body: object) -> str:
        if self.error_message is not None:
            detail = self.error_message
        elif isinstance(body, str):
            detail = body or "(empty body)"
        else:
            detail = json.dumps(body, ensure_ascii=False)
        extras = [
            f"{name}={value}"
            for name, value in (("type", self.type), ("code", self.code), ("param", self.param))
            if value is not None
        ]
        if self.request_id:
            extras.append(f"request_id={self.request_id}")
        suffix = f" ({', '.join(extras)})" if extras else ""
        return f"Error code: {self.status_code} - {_snippet(detail)}{suffix}"


def _str_or_none(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


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


def status_error(response: httpx.Response) -> APIStatusError:
    """The error for a non-2xx response, of the class its status calls for."""
    status = response.status_code
    cls = _BY_STATUS.get(status) or (InternalServerError if status >= 500 else APIStatusError)
    return cls(response, _decode_body(response))
