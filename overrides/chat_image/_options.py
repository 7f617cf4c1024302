"""The arguments of `create()`, defined once for its sync and async, streamed and whole forms."""

# No `from __future__ import annotations`: TypedDict reads `Required[...]` at run time.
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Required, TypedDict

import httpx

if TYPE_CHECKING:
    from ._wire import MessageParam

__all__ = ["CompletionParams", "StreamOptions", "check_param_names"]


class StreamOptions(TypedDict, total=False):
    """`stream_options=`: `include_usage` asks for a last chunk with the token usage."""

    include_usage: bool


class CompletionParams(TypedDict, total=False):
    """Every argument of `create()` except `stream` and `stream_options`.

    `messages` may mix typed messages and the dicts the `openai` package takes. Arguments
    left as None are not sent; `extra_body` adds fields this list does not name, and
    `extra_headers` headers. `timeout`, `total_timeout` and `max_retries` override the
    client's for the call.
    """

    model: Required[str]
    messages: Required[Iterable["MessageParam"]]
    max_tokens: Required[int]
    temperature: float | None
    top_p: float | None
    n: int | None
    stop: str | Sequence[str] | None
    seed: int | None
    presence_penalty: float | None
    frequency_penalty: float | None
    user: str | None
    extra_headers: Mapping[str, str] | None
    extra_body: Mapping[str, Any] | None
    timeout: float | httpx.Timeout | None
    total_timeout: float | None
    max_retries: int | None


# The optional fields sent in the body when given (the rest say how to send it).
BODY_OPTIONS: Final = (
    "temperature",
    "top_p",
    "n",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "user",
)
_KNOWN: Final = CompletionParams.__required_keys__ | CompletionParams.__optional_keys__


def check_param_names(params: Mapping[str, Any]) -> None:
    """The TypeError Python raises for a plain signature: `**params` would take any name."""
    unknown = [name for name in params if name not in _KNOWN]
    if unknown:
        raise TypeError(f"create() got an unexpected keyword argument {unknown[0]!r}")
    missing = [name for name in sorted(CompletionParams.__required_keys__) if name not in params]
    if missing:
        names = " and ".join(repr(name) for name in missing)
        raise TypeError(f"create() missing required keyword-only argument: {names}")
