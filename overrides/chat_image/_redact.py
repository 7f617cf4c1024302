"""Keeping the API key out of what errors show: a server may echo it, escaped any way JSON can.

`mask` hides every form of the key in a text; the helpers below find the key a request carried
and decode a body the way `json.loads` would, so an escaped or UTF-16 echo is caught too.
"""

from __future__ import annotations

import functools
import json
import re

import httpx

__all__ = [
    "body_text",
    "decode_body",
    "mask",
    "masked_json",
    "redacted",
    "request_id_of",
    "secret_of",
]

# What a server's echo of the API key becomes in an error's message and body.
_REDACTED = "[redacted]"
_MIN_SECRET_CHARS = 8


def secret_of(request: httpx.Request) -> str | None:
    """The bearer token the request carried, if any: never to be repeated in an error."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    # Too short a "token" would redact ordinary words out of the message.
    return token if scheme.lower() == "bearer" and len(token) >= _MIN_SECRET_CHARS else None


# JSON's two-character escapes for what an API key may contain (it is printable ASCII).
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "/": "\\/"}


def _json_escape(char: str) -> str:
    """A pattern for `char` written as JSON's `\\uXXXX`, in either case of hex digit."""
    digits = "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in f"{ord(char):04x}")
    return r"\\u" + digits


@functools.lru_cache(maxsize=16)
def _secret_pattern(secret: str) -> re.Pattern[str]:
    """The key as text may carry it: each character as itself or as any JSON escape of it."""
    forms = []
    for char in secret:
        options = [re.escape(char), _json_escape(char)]
        if char in _SHORT_ESCAPES:
            options.append(re.escape(_SHORT_ESCAPES[char]))
        forms.append(f"(?:{'|'.join(options)})")
    return re.compile("".join(forms))


def mask(text: str, secret: str | None) -> str:
    """`text` with every appearance of `secret`, escaped or not, replaced by a marker."""
    return _secret_pattern(secret).sub(_REDACTED, text) if secret else text


def masked_json(value: object, secret: str | None) -> object:
    """Parsed JSON with every appearance of `secret` masked, in its strings and keys alike."""
    if not secret:
        return value
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        return mask(repr(value), secret)
    masked = mask(text, secret)
    return value if masked == text else json.loads(masked)


def redacted(text: str, request: httpx.Request) -> str:
    """`text` with the request's key masked, should the server echo it."""
    return mask(text, secret_of(request))


def body_text(response: httpx.Response) -> str:
    """The body as text, with the request's key masked should the server echo it."""
    return mask(_decoded(response.content), secret_of(response.request))


def _decoded(content: bytes) -> str:
    """UTF-8 text, or the UTF-16 or UTF-32 JSON that json.loads would also read.

    Read as UTF-8, a key in UTF-16 would slip past the mask as characters between NULs.
    """
    encoding = json.detect_encoding(content)
    if not encoding.startswith("utf-8"):
        try:
            text = content.decode(encoding)
            json.loads(text)
        except (ValueError, RecursionError):
            pass  # not JSON after all (UnicodeDecodeError is a ValueError): as UTF-8 below
        else:
            return text
    return content.decode("utf-8", errors="replace")


def decode_body(text: str) -> object:
    """The parsed JSON error body, or the raw text when the body is not JSON."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def request_id_of(response: httpx.Response) -> str | None:
    """The gateway's `x-request-id` (or `request-id`), with the request's key masked."""
    headers = response.headers
    value: str | None = headers.get("x-request-id") or headers.get("request-id")
    return None if value is None else mask(value, secret_of(response.request))
