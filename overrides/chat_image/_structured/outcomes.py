"""What `parse()` returns and raises: typed, picklable, never carrying the API key.

`ParsedChatCompletion[T]` is a `ChatCompletion` whose messages carry `.parsed` (a `T`, or
None on a refusal), with `.total_usage` (every answer the call read, summed), `.attempts`
(answers read) and `.mode` (what produced it). The errors say which way it ended:
`LengthFinishReasonError` (cut off, with the complete part), `ContentFilterFinishReasonError`,
`StructuredOutputError` (re-asks used up), `ResponseFormatUnsupportedError` (an explicit mode
the gateway refused).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, Literal, TypeAlias, TypeVar

import attrs

from .._exceptions import BadRequestError, ChatImageError
from .._models.completion import (
    ChatCompletion,
    ChatCompletionMessage,
    ChatCompletionMessageToolCall,
    Choice,
    CompletionTokensDetails,
    Function,
    PromptTokensDetails,
    Usage,
)
from .convert import Problem

__all__ = [
    "ContentFilterFinishReasonError",
    "LengthFinishReasonError",
    "Mode",
    "ParsedChatCompletion",
    "ParsedChatCompletionMessage",
    "ParsedChoice",
    "ParsedFunction",
    "ParsedFunctionToolCall",
    "Problem",
    "ResponseFormatUnsupportedError",
    "StructuredOutputError",
    "add_usage",
]

_T = TypeVar("_T")
Mode: TypeAlias = Literal["json_schema", "json_object", "prompt"]


@attrs.frozen
class ParsedFunction(Function):
    """A tool call's function, with `parsed_arguments`: its arguments checked against a
    strict tool's `parameters` (None for a tool that is not strict, or arguments that do not
    fit)."""

    parsed_arguments: Any = attrs.field(default=None, kw_only=True)


@attrs.frozen
class ParsedFunctionToolCall(ChatCompletionMessageToolCall):
    function: ParsedFunction | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class ParsedChatCompletionMessage(ChatCompletionMessage, Generic[_T]):
    """The answer's message, with `parsed`: the `T` read from it, None on a refusal."""

    parsed: _T | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class ParsedChoice(Choice, Generic[_T]):
    message: ParsedChatCompletionMessage[_T] = attrs.field(kw_only=True)


@attrs.frozen
class ParsedChatCompletion(ChatCompletion, Generic[_T]):
    """A `ChatCompletion` with each choice's message parsed into `T`.

    `usage` is the last answer's; `total_usage` sums every answer this call read (re-asks
    and fallbacks included); `attempts` counts them; `mode` says what produced this one.
    """

    choices: tuple[ParsedChoice[_T], ...] = attrs.field(kw_only=True)
    total_usage: Usage | None = attrs.field(default=None, kw_only=True)
    attempts: int = attrs.field(default=1, kw_only=True)
    mode: Mode = attrs.field(default="json_schema", kw_only=True)

    @property
    def parsed(self) -> _T | None:
        """The first choice's `message.parsed`."""
        return self.choices[0].message.parsed if self.choices else None


def _add_numbers(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return a + b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return _add_maps(a, b)
    return b


def _add_maps(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _add_numbers(a.get(key), b.get(key)) for key in {**a, **b}}


def _add_details(a: Any, b: Any, cls: type[Any]) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    fields = {
        field.name: (
            _add_maps(getattr(a, field.name), getattr(b, field.name))
            if field.name == "extra"
            else _add_numbers(getattr(a, field.name), getattr(b, field.name))
        )
        for field in attrs.fields(cls)
    }
    return cls(**fields)


def add_usage(a: Usage | None, b: Usage | None) -> Usage | None:
    """Two answers' usage summed field by field, nested details and unknown numbers included."""
    if a is None:
        return b
    if b is None:
        return a
    return Usage(
        _add_numbers(a.prompt_tokens, b.prompt_tokens),
        _add_numbers(a.completion_tokens, b.completion_tokens),
        _add_numbers(a.total_tokens, b.total_tokens),
        _add_details(a.prompt_tokens_details, b.prompt_tokens_details, PromptTokensDetails),
        _add_details(
            a.completion_tokens_details, b.completion_tokens_details, CompletionTokensDetails
        ),
        _add_maps(a.extra, b.extra),
    )


class LengthFinishReasonError(ChatImageError):
    """The answer was cut off (`finish_reason == "length"`) before its JSON was whole.

    `.completion` is the answer; `.partial` the complete fields of the cut-off JSON, as a
    dict (None when no JSON had begun). Never re-asked: a longer `max_tokens` is the fix.
    """

    def __init__(
        self, completion: ChatCompletion, partial: Any = None, *, total_usage: Usage | None = None
    ) -> None:
        self.completion = completion
        self.partial = partial
        self.total_usage = total_usage
        usage = completion.usage
        message = "the answer was cut off at max_tokens (finish_reason 'length')"
        if usage is not None and usage.completion_tokens:
            message += f" after {usage.completion_tokens} completion tokens"
            details = usage.completion_tokens_details
            reasoning = details.reasoning_tokens if details is not None else None
            if reasoning:
                message += (
                    f", {reasoning} of them reasoning tokens: the model's reasoning used up "
                    "the budget; raise max_tokens or lower reasoning_effort"
                )
        message += "; its complete part is on .partial" if partial else "; no JSON was complete"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_length, (self.completion, self.partial, self.total_usage))


def _rebuild_length(
    completion: ChatCompletion, partial: Any, total_usage: Usage | None
) -> LengthFinishReasonError:
    return LengthFinishReasonError(completion, partial, total_usage=total_usage)


class ContentFilterFinishReasonError(ChatImageError):
    """The gateway's content filter stopped the answer (`finish_reason == "content_filter"`)."""

    def __init__(self, completion: ChatCompletion) -> None:
        self.completion = completion
        super().__init__(
            "the answer was stopped by the content filter (finish_reason "
            "'content_filter'); it is not asked again"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.completion,))


class StructuredOutputError(ChatImageError):
    """No answer gave a valid `T`, re-asks included.

    `.attempts` answers were read; `.errors` holds one list of problems per answer (each a
    `Problem` with its `.path` and `.message`); `.last_content` is the last answer's text;
    `.total_usage` sums every answer; `.completion` is the last answer.
    """

    def __init__(
        self,
        *,
        attempts: int,
        errors: Sequence[Sequence[Problem]],
        last_content: str | None,
        total_usage: Usage | None,
        completion: ChatCompletion | None,
    ) -> None:
        self.attempts = attempts
        self.errors = [list(problems) for problems in errors]
        self.last_content = last_content
        self.total_usage = total_usage
        self.completion = completion
        last = self.errors[-1] if self.errors else []
        shown = "; ".join(str(problem) for problem in last[:5])
        if len(last) > 5:
            shown += f"; and {len(last) - 5} more"
        answers = "answer" if attempts == 1 else f"{attempts} answers"
        super().__init__(f"no valid structured output after {answers}; the last: {shown}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_structured, (self.__dict__.copy(),))


def _rebuild_structured(state: dict[str, Any]) -> StructuredOutputError:
    return StructuredOutputError(**state)


class ResponseFormatUnsupportedError(BadRequestError):
    """The gateway refused the `response_format` of an explicitly chosen `mode` (a 4xx).

    A `BadRequestError`, whatever the status (400 or 422); `mode="auto"` would have fallen
    back instead. The gateway's message, status and body are kept.
    """

    mode: str | None = None
