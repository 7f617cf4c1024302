"""The image policy's errors: each an `InvalidImageError`, raised before anything is sent.

They keep what a caller acts on as attributes (the limit and the measured value, the extra to
install, the HTTP status of a download) beside the one-line message.
"""

from __future__ import annotations

from .._exceptions import InvalidImageError

__all__ = ["ImageFetchError", "ImageLimitError", "UnsupportedImageError"]


class ImageLimitError(InvalidImageError):
    """An image, or a request's images, cannot be made to fit the policy's limits.

    `limit` names the limit (`max_base64_bytes`, `max_images`, ...), `allowed` is its value
    and `measured` what was measured, as sent.
    """

    def __init__(
        self,
        field: str,
        problem: str,
        *,
        limit: str = "",
        allowed: int = 0,
        measured: int = 0,
    ) -> None:
        super().__init__(field, problem)
        self.limit = limit
        self.allowed = allowed
        self.measured = measured


class UnsupportedImageError(InvalidImageError):
    """An image's format needs a decoder that is not installed; `extra` says which to install."""

    def __init__(self, field: str, problem: str, *, extra: str = "") -> None:
        super().__init__(field, problem)
        self.extra = extra


class ImageFetchError(InvalidImageError):
    """An image URL could not be downloaded. `url` has its query string redacted; `status` is
    the HTTP status when there was an answer."""

    def __init__(
        self, field: str, problem: str, *, url: str = "", status: int | None = None
    ) -> None:
        super().__init__(field, problem)
        self.url = url
        self.status = status
