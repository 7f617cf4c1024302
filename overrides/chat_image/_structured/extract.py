"""The JSON inside an answer, wherever the model put it.

Models and gateways that do not hold to a format answer with the JSON in fences (any tag,
none, or `~~~`), with prose before or after, after a `<think>` block, only in
`reasoning_content` / `reasoning` with `content: null`, double-encoded, or wrapped in a
one-key object (`{"Receipt": {...}}`); some echo the schema instead of an instance. Each
candidate is a complete JSON value found by the JSON decoder itself, so braces and fences
inside string values never cut it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from .convert import NonFinite

__all__ = ["candidates", "looks_like_schema", "strip_think", "unwrap"]

_THINK: Final = re.compile(
    r"^\s*<(think|thinking|reasoning)>.*?</\1>\s*", re.DOTALL | re.IGNORECASE
)
_OPEN_THINK: Final = re.compile(r"^\s*<(think|thinking|reasoning)>", re.IGNORECASE)
_DECODER: Final = json.JSONDecoder(parse_constant=NonFinite)
_MAX_TRIES: Final = 200
_REASONING_FIELDS: Final = ("reasoning_content", "reasoning")


def strip_think(text: str) -> str:
    """The text after a leading `<think>...</think>` block (unchanged without one)."""
    match = _THINK.match(text)
    return text[match.end() :] if match else text


def _decode_strings(value: Any) -> Any:
    """A JSON string holding JSON (double-encoded), decoded once more."""
    for _ in range(2):
        if not isinstance(value, str):
            return value
        stripped = value.strip()
        if not stripped.startswith(("{", "[")):
            return value
        try:
            value = _DECODER.decode(stripped)
        except ValueError:
            return value
    return value


def _scan(text: str) -> Iterator[Any]:
    """Each JSON object or array in `text`, in order; one that holds another is not split."""
    stripped = text.strip()
    try:
        whole = _DECODER.decode(stripped)
    except ValueError:
        pass
    else:
        yield _decode_strings(whole)
        return
    position = 0
    tries = 0
    while tries < _MAX_TRIES:
        starts = [i for i in (text.find("{", position), text.find("[", position)) if i >= 0]
        if not starts:
            return
        start = min(starts)
        tries += 1
        try:
            value, end = _DECODER.raw_decode(text, start)
        except ValueError:
            position = start + 1
            continue
        yield value
        position = end


def candidates(content: str | None, message_extra: Mapping[str, Any] | None = None) -> list[Any]:
    """The JSON values an answer may mean, most likely first: from the content (after any
    think block), else from the reasoning fields a gateway put it in."""
    found: list[Any] = []
    if content:
        body = strip_think(content)
        if _OPEN_THINK.match(body):  # a think block never closed: nothing after it is JSON
            body = ""
        found = [value for value in _scan(body) if isinstance(value, dict | list)]
    if not found and message_extra:
        for field in _REASONING_FIELDS:
            text = message_extra.get(field)
            if isinstance(text, str) and text:
                found = [value for value in _scan(text) if isinstance(value, dict | list)]
                if found:
                    # Reasoning shows drafts first: the last complete value is the answer.
                    found.reverse()
                    break
    # Objects before arrays: the wire's root is always an object.
    return sorted(found, key=lambda value: not isinstance(value, dict))


def unwrap(value: Any, name: str, properties: frozenset[str]) -> Any | None:
    """`{"Receipt": {...}}` -> the inner object, when the one key is not a field of ours."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, inner),) = value.items()
        if (
            key not in properties
            and isinstance(inner, dict)
            and (key.lower() == name.lower() or not (inner.keys() - properties))
        ):
            return inner
    return None


def looks_like_schema(value: Any, properties: frozenset[str]) -> bool:
    """An echo of the schema rather than an instance (as some models answer json_object)."""
    if not isinstance(value, dict) or "properties" in properties:
        return False
    keys = value.keys()
    return "properties" in keys and (
        value.get("type") == "object" or "$schema" in keys or "required" in keys
    )
