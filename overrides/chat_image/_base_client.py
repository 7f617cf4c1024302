"""The names of the httpx request/response extensions the clients and `RetryTransport` share.

Apart from `_transport` so that the clients can mark requests without loading the retry
machinery at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEADLINE_EXTENSION",
    "MAX_RETRIES_EXTENSION",
    "RETRIES_TAKEN_EXTENSION",
    "STREAM_EXTENSION",
    "TOTAL_TIMEOUT_EXTENSION",
    "retries_taken",
]

# On a request: its own retry budget, instead of the transport's.
MAX_RETRIES_EXTENSION: Final = "chat_image.max_retries"
# On a request: its answer is read as it arrives, so the transport must not buffer it.
STREAM_EXTENSION: Final = "chat_image.stream"
# On a final response: how many retries it took (read by `with_raw_response`).
RETRIES_TAKEN_EXTENSION: Final = "chat_image.retries_taken"
# On a request: the seconds its whole call may take, retries and waits included.
TOTAL_TIMEOUT_EXTENSION: Final = "chat_image.total_timeout"
# On a request: when (time.monotonic()) that runs out, set by its first attempt so that a
# stream's re-sends share it.
DEADLINE_EXTENSION: Final = "chat_image.deadline"


def retries_taken(response: httpx.Response) -> int:
    """How many times the request was sent again before `response` came: 0 if never."""
    value = response.extensions.get(RETRIES_TAKEN_EXTENSION, 0)
    return value if isinstance(value, int) else 0
