"""Input-token estimates for --tpm and --dry-run: OpenAI's image arithmetic plus the text.

Text is counted at four characters a token, OpenAI's rule of thumb for English, with a few
tokens for each message's framing; the gateway's `usage` is the authority.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from typing import Final

from .._exceptions import InvalidImageError
from .._images.checks import LOW_DETAIL_TOKENS, estimate_image_tokens, header_size, image_size
from .._models.content import ImageData, ImagePart, TextPart
from .._models.messages import Message

__all__ = ["estimate_file_tokens", "estimate_text_tokens"]

_CHARS_PER_TOKEN: Final = 4
_TOKENS_PER_MESSAGE: Final = 4
_TOKENS_PER_REPLY: Final = 3


def estimate_text_tokens(texts: Iterable[str]) -> int:
    """Tokens for messages holding these texts, one message each, with their framing."""
    total = _TOKENS_PER_REPLY
    for text in texts:
        total += _TOKENS_PER_MESSAGE + -(-len(text) // _CHARS_PER_TOKEN)
    return total


def estimate_file_tokens(path: str | os.PathLike[str], detail: str | None) -> int | None:
    """Tokens for an image file, its size read from the header (imagesize, else Pillow);
    None if unreadable. MissingExtraError when neither library is installed."""
    if detail == "low":
        return LOW_DETAIL_TOKENS
    try:
        # Without blocking, and regular files only: a FIFO would wait for a writer for ever.
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                return None
            os.set_blocking(file.fileno(), True)
            size = header_size(file)
            if size is None:
                file.seek(0)
                size = image_size(file.read(), field="path", source=os.fspath(path))
    except (OSError, InvalidImageError):
        return None
    return estimate_image_tokens(*size, detail)


# An image behind a URL has no size here: count it as 1024 x 1024 at high detail.
_URL_IMAGE_TOKENS: Final = estimate_image_tokens(1024, 1024, "high")


def estimate_request_tokens(messages: list[Message], max_tokens: int) -> int:
    """What --tpm counts for a request: images, text, and the answer's `max_tokens`."""
    texts: list[str] = []
    image_tokens = 0
    for message in messages:
        content = message.content
        if content is None:
            continue
        if isinstance(content, str):
            texts.append(content)
            continue
        for part in content:
            if isinstance(part, TextPart):
                texts.append(part.text)
            elif isinstance(part, ImagePart) and isinstance(part.image_url, ImageData):
                image_tokens += part.estimate_tokens()
            elif isinstance(part, ImagePart):
                low = part.image_url.detail == "low"
                image_tokens += part.estimate_tokens() if low else _URL_IMAGE_TOKENS
    return estimate_text_tokens(texts) + image_tokens + max_tokens
