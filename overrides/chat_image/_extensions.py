"""The names of the httpx request/response extensions the clients and `RetryTransport` share.

Apart from `_transport` so that the clients can mark requests without loading the retry
machinery at import time.
"""

from typing import Final

__all__ = ["MAX_RETRIES_EXTENSION", "RETRIES_TAKEN_EXTENSION", "STREAM_EXTENSION"]

# On a request: its own retry budget, instead of the transport's.
MAX_RETRIES_EXTENSION: Final = "chat_image.max_retries"
# On a request: its answer is read as it arrives, so the transport must not buffer it.
STREAM_EXTENSION: Final = "chat_image.stream"
# On a final response: how many retries it took (read by `with_raw_response`).
RETRIES_TAKEN_EXTENSION: Final = "chat_image.retries_taken"
