"""Input-token estimates for --tpm and --dry-run: OpenAI's image arithmetic plus the text.

Text is counted at four characters a token, OpenAI's rule of thumb for English, with a few
tokens for each message's framing; the gateway's `usage` is the authority.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Final

from .._errors import InvalidImageError
from .._images import LOW_DETAIL_TOKENS, estimate_image_tokens, header_size, image_size

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
        with open(path, "rb") as file:
            size = header_size(file)
            if size is None:
                file.seek(0)
                size = image_size(file.read(), field="path", source=os.fspath(path))
    except (OSError, InvalidImageError):
        return None
    return estimate_image_tokens(*size, detail)
