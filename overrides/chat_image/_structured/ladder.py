"""Which mode to send next, and what to say in it: the decisions of `parse()`, with no I/O.

`mode="auto"` starts at `json_schema`. A 4xx refusing the format steps down to `json_object`
(the schema in a system message), then to `prompt` (no `response_format`; the schema and the
instructions in a system message), one request per mode at most. A 4xx naming a schema
keyword first gets one request with a portable schema. What worked is remembered for the
client, base URL and model, so the next call starts there. Written once for sync and async.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Final, Literal

import attrs

from .convert import Problem
from .outcomes import Mode
from .target import Target

__all__ = [
    "MODES",
    "Learned",
    "Refusal",
    "classify_refusal",
    "instruction",
    "learned_for",
    "next_mode",
    "reask_text",
]

MODES: Final[tuple[Mode, ...]] = ("json_schema", "json_object", "prompt")

# Substrings (case-insensitive) of the messages gateways refuse a format with; from their
# issue trackers and documentation (docs/structured-output.md lists the sources).
_CAPABILITY: Final = (
    "response_format",
    "json_schema",
    "json_object",
    "is not supported with this model",
    "unavailable now",
    "supported values are",
    "input should be true",
    "structured output",
)
_SCHEMA: Final = (
    "invalid schema for response_format",
    "not supported by xgrammar",
    "grammar error",
    "failed to parse grammar",
    'unknown name "',
    "is not permitted",
    "unimplemented keys",
    "unknown format",
)
_KEYWORD_PATTERNS: Final = (
    re.compile(r'Unknown name "([A-Za-z$_]+)"'),
    re.compile(r"'([A-Za-z$_]+)' is not permitted"),
    re.compile(r"Unimplemented keys: \[\"?'?([A-Za-z$_]+)"),
    re.compile(r"'([A-Za-z$_]+)' is required to be supplied"),
)


@attrs.frozen
class Refusal:
    """A gateway's 4xx about the format: `capability` (this mode is not supported) or
    `schema` (a keyword is not), with the keywords it named."""

    kind: Literal["capability", "schema"]
    keywords: tuple[str, ...] = ()


def classify_refusal(status: int, message: str | None, param: str | None) -> Refusal | None:
    """Whether an error answer refuses the format (and how), or is about something else."""
    if not 400 <= status < 500 and status != 500:
        return None
    text = (message or "").lower()
    if status == 500 and "response_format" not in text and "schema" not in text:
        return None  # vLLM answers a malformed response_format 500; other 500s are not ours
    if any(marker in text for marker in _SCHEMA):
        keywords = tuple(
            match.group(1)
            for pattern in _KEYWORD_PATTERNS
            for match in pattern.finditer(message or "")
        )
        if "unknown format" in text:
            keywords += ("format",)
        # OpenAI's "'additionalProperties' is required to be supplied": strict wants what we
        # left out, a portable schema without strict is the answer, not removing it.
        return Refusal("schema", tuple(dict.fromkeys(keywords)))
    if (param or "").startswith("response_format") or any(m in text for m in _CAPABILITY):
        return Refusal("capability")
    return None


def next_mode(mode: Mode) -> Mode | None:
    """The mode below `mode`, None under `prompt`."""
    index = MODES.index(mode)
    return MODES[index + 1] if index + 1 < len(MODES) else None


@attrs.define
class Learned:
    """What a client learned about one base URL and model."""

    start: Mode = "json_schema"
    portable: tuple[str, ...] | None = None
    """Keywords to leave out of a json_schema (empty: the default portable set), or None."""


# Kept on the client itself (it goes when the client goes); dict.setdefault is atomic under
# the GIL, so threads sharing a client agree on one record.
_MEMORY_ATTRIBUTE: Final = "_chat_image_structured_learned"


def learned_for(client: object, base_url: str, model: str) -> Learned:
    """The client's record for this base URL and model (made on first use)."""
    per_client: dict[tuple[str, str], Learned] = vars(client).setdefault(_MEMORY_ATTRIBUTE, {})
    key = (base_url, model)
    learned = per_client.get(key)
    if learned is None:
        learned = per_client.setdefault(key, Learned())
    return learned


def _schema_text(target: Target) -> str:
    return json.dumps(dict(target.schema), ensure_ascii=False, separators=(",", ":"))


def instruction(target: Target, mode: Mode) -> str:
    """The system message of `json_object` and `prompt` modes: the schema and how to answer."""
    text = (
        "Answer with one JSON object that is an instance of this JSON Schema (an object "
        f"filled with the data, not the schema itself):\n{_schema_text(target)}"
    )
    if mode == "prompt":
        text += "\nAnswer with the JSON only: no prose before or after it, no code fences."
    return text


def reask_text(kind: str, problems: Sequence[Problem], target: Target, *, with_schema: bool) -> str:
    """The user turn after an answer that was not a valid instance."""
    if kind == "no_json":
        text = "Your answer contained no JSON. Answer with the JSON object only."
    elif kind == "schema_echo":
        text = (
            "You answered with the JSON Schema itself. Answer with an instance of it: the JSON "
            "object it describes, filled with the data."
        )
    else:
        lines = "\n".join(f"- {problem}" for problem in problems[:20])
        more = f"\n- and {len(problems) - 20} more" if len(problems) > 20 else ""
        text = (
            "Your JSON did not match the schema:\n"
            f"{lines}{more}\n"
            "Answer again with the whole corrected JSON object only."
        )
    if with_schema:
        text += f"\nThe JSON Schema:\n{_schema_text(target)}"
    return text
