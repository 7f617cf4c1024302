"""What the fake gateway received: requests with secrets masked, bodies decoded on demand."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

import attrs

__all__ = ["Headers", "RecordedImage", "RecordedRequest", "mask_headers"]

MASKED: Final = "[masked]"
# Headers that carry credentials in OpenAI-compatible APIs (Azure's is `api-key`).
_SECRET_HEADERS: Final = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key"})
_DATA_URL: Final = re.compile(r"data:(?P<type>[^;,]+);base64,", re.ASCII)


class Headers(Mapping[str, str]):
    """Request headers, looked up case-insensitively, in the order they arrived."""

    __slots__ = ("_items", "_lookup")

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = tuple(items)
        self._lookup: dict[str, str] = {}
        for name, value in self._items:
            self._lookup.setdefault(name.lower(), value)

    def __getitem__(self, name: str) -> str:
        return self._lookup[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lookup

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return {k.lower(): v for k, v in other.items()} == self._lookup
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({dict(self._items)!r})"


def mask_headers(items: list[tuple[str, str]]) -> tuple[Headers, str | None]:
    """The headers with credentials masked, and a sha256 of the bearer token (for comparison)."""
    masked = []
    digest = None
    for name, value in items:
        if name.lower() in _SECRET_HEADERS:
            scheme, _, token = value.partition(" ")
            if name.lower() == "authorization" and scheme.lower() == "bearer":
                digest = hashlib.sha256(token.strip().encode()).hexdigest()
                value = f"{scheme} {MASKED}"
            else:
                value = MASKED
        masked.append((name, value))
    return Headers(masked), digest


@attrs.frozen
class RecordedImage:
    """An image part of a recorded request; `data` is decoded when it came as a data URL."""

    field: str
    url: str | None = attrs.field(repr=lambda url: "None" if url is None else repr(url[:80]))
    media_type: str | None
    data: bytes | None = attrs.field(
        repr=lambda data: "None" if data is None else f"<{len(data)} bytes>"
    )
    detail: str | None = None


@attrs.frozen
class RecordedRequest:
    """One request as it arrived: the Authorization value masked, the body kept or hashed.

    `refusal` is the error the gateway answered instead of a completion when the request broke
    the contract (its message names the field), else None. `client_port` is the port the
    request came from: equal ports mean one reused connection.
    """

    method: str
    path: str
    headers: Headers
    body: bytes = attrs.field(repr=lambda body: f"<{len(body)} bytes>")
    size: int
    sha256: str
    refusal: str | None = None
    # Requests that came on one kept-alive connection share it.
    client_port: int = 0
    _bearer_sha256: str | None = attrs.field(default=None, repr=False, alias="bearer_sha256")

    @property
    def json(self) -> Any:
        """The body decoded from JSON (ValueError if the gateway was told not to keep bodies)."""
        if self.size and not self.body:
            raise ValueError("the body was not kept (FakeGateway(keep_bodies=False))")
        return json.loads(self.body)

    def has_api_key(self, api_key: str) -> bool:
        """Whether the request carried `Authorization: Bearer {api_key}` (the key itself is
        never recorded, only its hash)."""
        if self._bearer_sha256 is None:
            return False
        digest = hashlib.sha256(api_key.encode()).hexdigest()
        return hmac.compare_digest(digest, self._bearer_sha256)

    @property
    def images(self) -> list[RecordedImage]:
        """The image parts of all messages, in order, data URLs decoded to bytes."""
        body = self.json
        messages = body.get("messages") if isinstance(body, dict) else None
        found: list[RecordedImage] = []
        for m, message in enumerate(messages if isinstance(messages, list) else []):
            content = message.get("content") if isinstance(message, dict) else None
            for p, part in enumerate(content if isinstance(content, list) else []):
                if isinstance(part, dict) and part.get("type") == "image_url":
                    found.append(_image(f"messages[{m}].content[{p}]", part.get("image_url")))
        return found


def _image(field: str, image_url: object) -> RecordedImage:
    spec: Mapping[str, Any] = image_url if isinstance(image_url, Mapping) else {}
    url = spec.get("url")
    detail = spec.get("detail")
    detail = detail if isinstance(detail, str) else None
    if not isinstance(url, str):
        return RecordedImage(field, None, None, None, detail)
    head = _DATA_URL.match(url)
    if head is None:
        return RecordedImage(field, url, None, None, detail)
    try:
        data = base64.b64decode(url[head.end() :], validate=True)
    except binascii.Error as exc:
        raise ValueError(f"{field}.image_url.url: the data URL is not valid base64") from exc
    return RecordedImage(field, None, head["type"], data, detail)
