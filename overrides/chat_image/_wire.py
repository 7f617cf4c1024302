"""From typed arguments to an httpx request, and from an httpx response to a typed result.

The generated package owns the wire format: the body is the generated
`ChatCompletionRequest`, and the method, path, headers and JSON come from the generated
endpoint's own request builder. We call that builder rather than `sync_detailed()` because
the latter parses the 200 body into the spec's empty `{}` model and, when the body is not
JSON, raises without the response; this layer needs the raw response to parse a typed
completion and to say what went wrong. Sync and async clients share everything here.

A request with images sent inline (`ImagePart.from_path` / `from_bytes`) is the exception to
`json=`: its body is encoded by `_inline` from the same `to_dict()`, so that a large image
is not copied several times over (the reasons are in that module).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs
import httpx

from chat_image_api import models as api
from chat_image_api.api.chat import create_chat_completion
from chat_image_api.types import UNSET, Unset

from ._content import check_json
from ._errors import APIResponseValidationError, InvalidInputError, status_error
from ._inline import InlineBody, InlineImages
from ._messages import Message, parse_message

if TYPE_CHECKING:
    from ._completion import ChatCompletion

__all__ = ["RequestBody", "build_body", "build_request", "read_completion"]

MessageParam = Message | Mapping[str, Any]


def _check_model(model: object) -> str:
    if not isinstance(model, str) or not model.strip():
        raise InvalidInputError("model", f"expected a non-empty string, got {model!r}")
    return model


def _check_max_tokens(max_tokens: object) -> int:
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens <= 0:
        raise InvalidInputError("max_tokens", f"expected a positive integer, got {max_tokens!r}")
    return max_tokens


def _messages_to_api(
    messages: Iterable[MessageParam], inline: InlineImages
) -> list[api.ChatMessage]:
    if type(messages) is not list and (
        isinstance(messages, str | bytes | Mapping) or not isinstance(messages, Iterable)
    ):
        raise InvalidInputError(
            "messages", f"expected a list of messages, got {type(messages).__name__}"
        )
    converted = []
    for index, item in enumerate(messages):
        try:
            converted.append(inline.swap(parse_message(item)).to_api())
        except InvalidInputError as exc:
            raise exc.under(f"messages[{index}]") from None
    if not converted:
        raise InvalidInputError("messages", "empty; give at least one message")
    return converted


@attrs.frozen
class RequestBody:
    """The generated request model, and the inline images its placeholders stand for."""

    request: api.ChatCompletionRequest
    inline: InlineImages


def build_body(
    *,
    model: str,
    messages: Iterable[MessageParam],
    max_tokens: int,
    params: Mapping[str, Any],
    stream: bool = False,
    stream_options: Mapping[str, Any] | None = None,
) -> RequestBody:
    """The generated request model for validated arguments; `params` are optional fields."""
    inline = InlineImages()
    if not isinstance(stream, bool):
        raise InvalidInputError("stream", f"expected True or False, got {stream!r}")
    body = api.ChatCompletionRequest(
        model=_check_model(model),
        messages=_messages_to_api(messages, inline),
        max_tokens=_check_max_tokens(max_tokens),
        # Not sent unless streaming, as the `openai` package does.
        stream=True if stream else UNSET,
        stream_options=UNSET if stream_options is None else _stream_options(stream_options, stream),
    )
    body.additional_properties = _check_params(params)
    return RequestBody(body, inline)


def _stream_options(options: object, stream: bool) -> api.StreamOptions:
    if not stream:
        raise InvalidInputError("stream_options", "only allowed with stream=True")
    if not isinstance(options, Mapping):
        raise InvalidInputError(
            "stream_options", f"expected a mapping, got {type(options).__name__}"
        )
    include_usage = options.get("include_usage", UNSET)
    if not isinstance(include_usage, bool | Unset):
        raise InvalidInputError(
            "stream_options.include_usage", f"expected True or False, got {include_usage!r}"
        )
    _check_params({f"stream_options.{key}": value for key, value in options.items()})
    model = api.StreamOptions(include_usage=include_usage)
    # A newer option (`include_obfuscation`, ...) is sent as given.
    model.additional_properties = {
        str(key): value for key, value in options.items() if key != "include_usage"
    }
    return model


# The fields the signature names, so the generated model's own keys cannot be overridden.
_RESERVED: Final = frozenset({"model", "messages", "max_tokens", "stream", "stream_options"})


_NUMBERS: Final = frozenset({"temperature", "top_p", "presence_penalty", "frequency_penalty"})
_INTEGERS: Final = frozenset({"n", "seed"})


def _check_option(key: str, value: object) -> None:
    if key in _NUMBERS and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise InvalidInputError(key, f"expected a number, got {value!r}")
    if key in _INTEGERS and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidInputError(key, f"expected an integer, got {value!r}")
    if key == "n" and isinstance(value, int) and value < 1:
        raise InvalidInputError(key, f"expected an integer >= 1, got {value!r}")
    if key == "user" and not isinstance(value, str):
        raise InvalidInputError(key, f"expected a string, got {type(value).__name__}")
    if key == "stop" and not (
        isinstance(value, str)
        or (isinstance(value, list | tuple) and all(isinstance(item, str) for item in value))
    ):
        raise InvalidInputError(key, f"expected a string or a list of strings, got {value!r}")


def _check_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Optional fields, refused here when they are of the wrong kind or not JSON."""
    for key, value in params.items():
        if key in _RESERVED:
            raise InvalidInputError(key, f"set it with the {key}= argument, not extra_body")
        if value is not None:
            _check_option(key, value)
        check_json(key, value)
    return dict(params)


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
    kwargs = create_chat_completion._get_kwargs(body=body.request)
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


def read_completion(response: httpx.Response) -> ChatCompletion:
    """The typed completion in a read response, or the error that says why there is none."""
    # Here, not at the top: the response classes load with the first answer, not the import.
    from ._completion import ResponseShapeError, parse_chat_completion

    if not response.is_success:
        raise status_error(response)
    try:
        data = json.loads(response.content)
    except (ValueError, RecursionError) as exc:
        problem = "empty body" if not response.content else f"body is not JSON ({exc})"
        raise APIResponseValidationError(response, problem) from None
    try:
        return parse_chat_completion(data)
    except ResponseShapeError as exc:
        raise APIResponseValidationError(response, f"not a chat completion: {exc}") from None
