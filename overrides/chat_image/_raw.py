"""`RawResponse`: what `with_raw_response.create(...)` returns, as in the `openai` package.

The HTTP answer behind a chat completion, for callers that need its headers (request id,
`x-ratelimit-*`) or how many retries it took; `.parse()` gives the typed completion.
"""

from __future__ import annotations

import attrs
import httpx

from ._completion import ChatCompletion
from ._errors import request_id_of
from ._extensions import retries_taken
from ._wire import read_completion

__all__ = ["RawResponse"]


@attrs.frozen
class RawResponse:
    """A successful (2xx) answer, its body read; errors are raised before one is made."""

    http_response: httpx.Response = attrs.field(repr=False)

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def request_id(self) -> str | None:
        """The gateway's `x-request-id` (or `request-id`), for support requests."""
        return request_id_of(self.http_response)

    @property
    def retries_taken(self) -> int:
        """Retries before this answer: 0 when the first attempt succeeded."""
        return retries_taken(self.http_response)

    @property
    def elapsed(self) -> float:
        """Seconds from sending the last attempt to reading its whole answer."""
        return self.http_response.elapsed.total_seconds()

    def parse(self) -> ChatCompletion:
        """The typed chat completion; `APIResponseValidationError` if the body is not one."""
        return read_completion(self.http_response)

    def __repr__(self) -> str:
        return (
            f"RawResponse(status_code={self.status_code}, request_id={self.request_id!r}, "
            f"retries_taken={self.retries_taken})"
        )
