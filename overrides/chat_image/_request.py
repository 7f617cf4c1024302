"""From `create()`'s arguments to an httpx request.

The arguments are defined once (`CompletionParams`) for the sync and async, streamed and whole
forms. The generated package owns the wire format: the body is the generated
`ChatCompletionRequest`, and the method, path, headers and JSON come from the generated
endpoint's own request builder (reached through `_compat`). A request with images sent inline
(`ImagePart.from_path` / `from_bytes`) is encoded by `_images.inline` from the same
`to_dict()`, so that a large image is not copied several times over.
"""

# No `from __future__ import annotations`: TypedDict reads `Required[...]` at run time. The
# generated models in annotations are quoted, so that importing this module against a
# generated tree that renamed them fails where they are used, as in the other modules.
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, Required, TypeAlias, TypedDict

import attrs
import httpx

from chat_image_api import models as api
from chat_image_api.types import UNSET, Unset

from ._compat import endpoint_kwargs
from ._exceptions import InvalidInputError
from ._images.inline import InlineBody, InlineImages
from ._models.messages import Message, parse_message
from ._validation import (
    REASONING_EFFORTS,
    check_bool,
    check_int,
    check_items,
    check_logit_bias,
    check_max_tokens,
    check_model,
    check_nonempty,
    check_one_of,
    check_parallel_tool_calls,
    check_params,
    check_response_format,
    check_stream_options,
    check_tool_choice,
    check_tools,
    check_top_logprobs,
)

if TYPE_CHECKING:
    from ._models.completion import ChatCompletionMessage

if TYPE_CHECKING:
    from ._images.stage import ImagesOption

__all__ = [
    "CompletionParams",
    "MessageParam",
    "ParseParams",
    "ReasoningEffort",
    "RequestBody",
    "RequestFields",
    "StreamOptions",
    "build_body",
    "build_request",
    "check_param_names",
]

# A typed message, OpenAI's dict form, or the message a call returned (sent back as it is).
MessageParam: TypeAlias = "Message | Mapping[str, Any] | ChatCompletionMessage"
ReasoningEffort: TypeAlias = Literal["none", "minimal", "low", "medium", "high", "xhigh"]


class StreamOptions(TypedDict, total=False):
    """`stream_options=`: `include_usage` asks for a last chunk with the token usage."""

    include_usage: bool


class ParseParams(TypedDict, total=False):
    """Every argument of `create()` except `stream`, `stream_options` and `response_format`:
    what `parse()` and `stream()` take beside a `response_format` of their own.

    `messages` may mix typed messages and the dicts the `openai` package takes. Arguments
    left as None are not sent; `extra_body` adds fields this list does not name, and
    `extra_headers` headers. `timeout`, `total_timeout` and `max_retries` override the
    client's for the call.
    """

    model: Required[str]
    messages: Required[Iterable[MessageParam]]
    max_tokens: Required[int]
    temperature: float | None
    top_p: float | None
    n: int | None
    stop: str | Sequence[str] | None
    seed: int | None
    presence_penalty: float | None
    frequency_penalty: float | None
    user: str | None
    # Tools, in OpenAI's shapes; a tool may also be a function, a dataclass, a TypedDict or
    # a pydantic model to build one from (see `function_tool`).
    tools: Sequence[Mapping[str, Any] | Callable[..., Any]] | None
    tool_choice: Literal["none", "auto", "required"] | Mapping[str, Any] | None
    parallel_tool_calls: bool | None
    logprobs: bool | None
    top_logprobs: int | None
    max_completion_tokens: int | None
    reasoning_effort: ReasoningEffort | None
    logit_bias: Mapping[int, int] | Mapping[str, int] | None
    extra_headers: Mapping[str, str] | None
    extra_body: Mapping[str, Any] | None
    timeout: float | httpx.Timeout | None
    total_timeout: float | None
    max_retries: int | None
    # The image policy for this call (an `ImagePolicy`, a profile name or `ImageLimits`;
    # False sends the images as given). Applied by the client before the body is built.
    images: "ImagesOption"


class CompletionParams(ParseParams, total=False):
    """Every argument of `create()` except `stream` and `stream_options`.

    `messages` may mix typed messages and the dicts the `openai` package takes. Arguments
    left as None are not sent; `extra_body` adds fields this list does not name, and
    `extra_headers` headers. `timeout`, `total_timeout` and `max_retries` override the
    client's for the call. `response_format` is OpenAI's dict (`parse()` takes a type).
    """

    response_format: Mapping[str, Any] | None


# The optional fields the generated request model declares (overrides/openapi-patch.yaml):
# set on it as its own types, not sent beside it.
REQUEST_FIELDS: Final = (
    "response_format",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "logprobs",
    "top_logprobs",
    "max_completion_tokens",
    "reasoning_effort",
    "logit_bias",
)
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
    *REQUEST_FIELDS,
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


def _messages_to_api(
    messages: Iterable[MessageParam], inline: InlineImages
) -> "list[api.ChatMessage]":
    converted = []
    for index, item in enumerate(check_items("messages", messages, "a list of messages")):
        try:
            converted.append(inline.swap(parse_message(item)).to_api())
        except InvalidInputError as exc:
            raise exc.under(f"messages[{index}]") from None
    return check_nonempty("messages", converted, "message")


@attrs.frozen
class RequestBody:
    """The generated request model, and the inline images its placeholders stand for."""

    request: "api.ChatCompletionRequest"
    inline: InlineImages


@attrs.frozen
class RequestFields:
    """The typed fields of one request as the generated model's types (UNSET: not sent)."""

    response_format: (
        "api.ResponseFormatText | api.ResponseFormatJsonObject | api.ResponseFormatJsonSchema"
        " | Unset"
    ) = UNSET
    tools: "list[api.ChatCompletionTool] | Unset" = UNSET
    tool_choice: "api.ToolChoiceMode | api.NamedToolChoice | Unset" = UNSET
    parallel_tool_calls: bool | Unset = UNSET
    logprobs: bool | Unset = UNSET
    top_logprobs: int | Unset = UNSET
    max_completion_tokens: int | Unset = UNSET
    reasoning_effort: "api.ReasoningEffort | Unset" = UNSET
    logit_bias: "api.LogitBias | Unset" = UNSET


NO_FIELDS: Final = RequestFields()


def request_fields(params: Mapping[str, Any]) -> RequestFields:
    """The typed fields in `params` (those not None), checked (`tool_choice` and
    `parallel_tool_calls` against `tools`, `top_logprobs` against `logprobs`) and turned
    into the generated model's types; InvalidInputError names the first bad one."""
    if not params:
        return NO_FIELDS
    given = {key: params[key] for key in REQUEST_FIELDS if params.get(key) is not None}
    if not given:
        return NO_FIELDS
    fields: dict[str, Any] = {}
    if "response_format" in given:
        data = check_response_format(given["response_format"])
        fields["response_format"] = _FORMAT_MODELS[data["type"]].from_dict(data)
    tools = check_tools(given["tools"]) if "tools" in given else None
    if tools is not None:
        fields["tools"] = [api.ChatCompletionTool.from_dict(tool) for tool in tools]
    if "tool_choice" in given:
        choice = check_tool_choice(given["tool_choice"], tools)
        fields["tool_choice"] = (
            choice if isinstance(choice, str) else api.NamedToolChoice.from_dict(choice)
        )
    if "parallel_tool_calls" in given:
        fields["parallel_tool_calls"] = check_parallel_tool_calls(
            given["parallel_tool_calls"], tools
        )
    if "logprobs" in given:
        fields["logprobs"] = check_bool("logprobs", given["logprobs"])
    if "top_logprobs" in given:
        fields["top_logprobs"] = check_top_logprobs(given["top_logprobs"], given.get("logprobs"))
    if "max_completion_tokens" in given:
        fields["max_completion_tokens"] = check_int(
            "max_completion_tokens", given["max_completion_tokens"], minimum=1
        )
    if "reasoning_effort" in given:
        fields["reasoning_effort"] = check_one_of(
            "reasoning_effort", given["reasoning_effort"], REASONING_EFFORTS
        )
    if "logit_bias" in given:
        fields["logit_bias"] = api.LogitBias.from_dict(check_logit_bias(given["logit_bias"]))
    return RequestFields(**fields)


_FORMAT_MODELS: Final[Mapping[str, Any]] = {
    "text": api.ResponseFormatText,
    "json_object": api.ResponseFormatJsonObject,
    "json_schema": api.ResponseFormatJsonSchema,
}


def build_body(
    *,
    model: str,
    messages: Iterable[MessageParam],
    max_tokens: int,
    params: Mapping[str, Any],
    stream: bool = False,
    stream_options: Mapping[str, Any] | None = None,
) -> RequestBody:
    """The generated request model for validated arguments; `params` are optional fields:
    those the generated model declares are set on it, the others sent beside them."""
    inline = InlineImages()
    check_bool("stream", stream)
    fields = request_fields(params)
    if fields is not NO_FIELDS:
        params = {key: value for key, value in params.items() if key not in REQUEST_FIELDS}
    body = api.ChatCompletionRequest(
        model=check_model(model),
        messages=_messages_to_api(messages, inline),
        max_tokens=check_max_tokens(max_tokens),
        # Not sent unless streaming, as the `openai` package does.
        stream=True if stream else UNSET,
        stream_options=UNSET if stream_options is None else _stream_options(stream_options, stream),
        response_format=fields.response_format,
        tools=fields.tools,
        tool_choice=fields.tool_choice,
        parallel_tool_calls=fields.parallel_tool_calls,
        logprobs=fields.logprobs,
        top_logprobs=fields.top_logprobs,
        max_completion_tokens=fields.max_completion_tokens,
        reasoning_effort=fields.reasoning_effort,
        logit_bias=fields.logit_bias,
    )
    body.additional_properties = check_params(params)
    return RequestBody(body, inline)


def _stream_options(options: object, stream: bool) -> "api.StreamOptions":
    options = check_stream_options(options, stream)
    include_usage = options.get("include_usage", UNSET)
    model = api.StreamOptions(include_usage=include_usage)
    # A newer option (`include_obfuscation`, ...) is sent as given.
    model.additional_properties = {
        str(key): value for key, value in options.items() if key != "include_usage"
    }
    return model


@functools.lru_cache(maxsize=64)
def _endpoint(base_url: str, path: str) -> httpx.URL:
    # Parsed once per base URL: httpx takes a URL object as is, but parses a string each call.
    return httpx.URL(base_url + path)


def build_request(
    http: httpx.Client | httpx.AsyncClient,
    *,
    base_url: str,
    headers: Mapping[str, str],
    body: RequestBody,
    timeout: httpx.Timeout,
) -> httpx.Request:
    """The request the generated endpoint describes, on `http`, with our URL and headers.

    Headers and an absolute URL go on every request so that a caller's own httpx client,
    which knows neither, works the same as the one we build.
    """
    kwargs = endpoint_kwargs(body.request)
    url = _endpoint(base_url, kwargs["url"])
    all_headers = {**kwargs["headers"], **headers}
    if not body.inline.images:
        return http.build_request(
            kwargs["method"], url, json=kwargs["json"], headers=all_headers, timeout=timeout
        )
    # Inline images: the same JSON, encoded without copying the images (see `_inline`).
    content = body.inline.encode(kwargs["json"])
    if isinstance(content, InlineBody):
        # httpx would otherwise send an iterable body chunked, which not every server takes.
        all_headers["Content-Length"] = str(content.length)
        stream = content if isinstance(http, httpx.Client) else content.aiter()
        return http.build_request(
            kwargs["method"], url, content=stream, headers=all_headers, timeout=timeout
        )
    return http.build_request(
        kwargs["method"], url, content=content, headers=all_headers, timeout=timeout
    )
