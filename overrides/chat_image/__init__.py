"""A typed, `openai`-shaped client for the chat-image gateway endpoint.

The hand-written layer over the generated `chat_image_api` package: content-part unions,
messages, a typed chat completion, `ChatImage` / `AsyncChatImage`, the errors they raise, and
the retry policy they follow (`RetryPolicy`, also usable on any httpx client as
`RetryTransport`), and streamed answers (`Stream`, `AsyncStream`, `ChatCompletionChunk`,
`ChatCompletionAccumulator`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from ._version import __version__

if TYPE_CHECKING:
    from ._client import AsyncChatImage, ChatImage
    from ._config import DEFAULT_CONNECTION_LIMITS, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
    from ._exceptions import (
        APIConnectionError,
        APIError,
        APIResponseValidationError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ChatImageError,
        ConflictError,
        InternalServerError,
        InvalidImageError,
        InvalidInputError,
        MissingExtraError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        ResponseTooLargeError,
        UnprocessableEntityError,
    )
    from ._images.checks import MAX_IMAGE_BYTES, estimate_image_tokens
    from ._images.errors import ImageFetchError, ImageLimitError, UnsupportedImageError
    from ._images.limits import ImageLimits, ImagePolicy
    from ._images.policy import ImageReport
    from ._models.accumulate import ChatCompletionAccumulator
    from ._models.chunk import (
        ChatCompletionChunk,
        ChoiceDelta,
        ChoiceDeltaToolCall,
        ChunkChoice,
        parse_chat_completion_chunk,
    )
    from ._models.completion import (
        ChatCompletion,
        ChatCompletionMessage,
        ChatCompletionMessageToolCall,
        Choice,
        CompletionTokensDetails,
        Function,
        PromptTokensDetails,
        Usage,
        parse_chat_completion,
    )
    from ._models.content import (
        ContentPart,
        ImageData,
        ImageDetail,
        ImagePart,
        ImageURL,
        TextPart,
        UnknownPart,
        parse_content_part,
    )
    from ._models.messages import (
        AssistantMessage,
        DeveloperMessage,
        Message,
        Role,
        SystemMessage,
        ToolMessage,
        UserMessage,
        parse_message,
    )
    from ._request import CompletionParams, ReasoningEffort, StreamOptions
    from ._response import RawResponse
    from ._retry import RetryEvent, RetryPolicy
    from ._streaming import AsyncStream, Stream
    from ._structured.outcomes import (
        ContentFilterFinishReasonError,
        LengthFinishReasonError,
        ParsedChatCompletion,
        ParsedChatCompletionMessage,
        ParsedChoice,
        ParsedFunction,
        ParsedFunctionToolCall,
        Problem,
        ResponseFormatUnsupportedError,
        StructuredOutputError,
    )
    from ._structured.stream import (
        AsyncChatCompletionStream,
        AsyncChatCompletionStreamManager,
        ChatCompletionStream,
        ChatCompletionStreamEvent,
        ChatCompletionStreamManager,
        ChunkEvent,
        ContentDeltaEvent,
        ContentDoneEvent,
        RefusalDeltaEvent,
        RefusalDoneEvent,
    )
    from ._structured.tools import ToolDefinitionError, function_tool
    from ._transports.aiohttp import DefaultAioHttpClient
    from ._transports.retry import RetryTransport

# `import chat_image` loads nothing else: each name's module is imported when the name is
# first used (PEP 562), so a program pays only for what it touches. Module -> its names.
_LAZY: Final[dict[str, tuple[str, ...]]] = {
    "_models.accumulate": ("ChatCompletionAccumulator",),
    "_transports.aiohttp": ("DefaultAioHttpClient",),
    "_models.chunk": (
        "ChatCompletionChunk",
        "ChoiceDelta",
        "ChoiceDeltaToolCall",
        "ChunkChoice",
        "parse_chat_completion_chunk",
    ),
    "_client": (
        "AsyncChatImage",
        "ChatImage",
    ),
    "_models.completion": (
        "ChatCompletion",
        "ChatCompletionMessage",
        "ChatCompletionMessageToolCall",
        "Choice",
        "CompletionTokensDetails",
        "Function",
        "PromptTokensDetails",
        "Usage",
        "parse_chat_completion",
    ),
    "_models.content": (
        "ContentPart",
        "ImageData",
        "ImageDetail",
        "ImagePart",
        "ImageURL",
        "TextPart",
        "UnknownPart",
        "parse_content_part",
    ),
    "_exceptions": (
        "APIConnectionError",
        "APIError",
        "APIResponseValidationError",
        "APIStatusError",
        "APITimeoutError",
        "AuthenticationError",
        "BadRequestError",
        "ChatImageError",
        "ConflictError",
        "InternalServerError",
        "InvalidImageError",
        "InvalidInputError",
        "MissingExtraError",
        "NotFoundError",
        "PermissionDeniedError",
        "RateLimitError",
        "ResponseTooLargeError",
        "UnprocessableEntityError",
    ),
    "_images.checks": (
        "MAX_IMAGE_BYTES",
        "estimate_image_tokens",
    ),
    "_images.errors": ("ImageFetchError", "ImageLimitError", "UnsupportedImageError"),
    "_images.limits": ("ImageLimits", "ImagePolicy"),
    "_images.policy": ("ImageReport",),
    "_models.messages": (
        "AssistantMessage",
        "DeveloperMessage",
        "Message",
        "Role",
        "SystemMessage",
        "ToolMessage",
        "UserMessage",
        "parse_message",
    ),
    "_request": (
        "CompletionParams",
        "ReasoningEffort",
        "StreamOptions",
    ),
    "_response": ("RawResponse",),
    "_retry": (
        "RetryEvent",
        "RetryPolicy",
    ),
    "_config": (
        "DEFAULT_CONNECTION_LIMITS",
        "DEFAULT_MAX_RETRIES",
        "DEFAULT_TIMEOUT",
    ),
    "_streaming": (
        "AsyncStream",
        "Stream",
    ),
    "_structured.tools": (
        "ToolDefinitionError",
        "function_tool",
    ),
    "_transports.retry": ("RetryTransport",),
    "_structured.outcomes": (
        "ContentFilterFinishReasonError",
        "LengthFinishReasonError",
        "ParsedChatCompletion",
        "ParsedChatCompletionMessage",
        "ParsedChoice",
        "ParsedFunction",
        "ParsedFunctionToolCall",
        "Problem",
        "ResponseFormatUnsupportedError",
        "StructuredOutputError",
    ),
    "_structured.stream": (
        "AsyncChatCompletionStream",
        "AsyncChatCompletionStreamManager",
        "ChatCompletionStream",
        "ChatCompletionStreamEvent",
        "ChatCompletionStreamManager",
        "ChunkEvent",
        "ContentDeltaEvent",
        "ContentDoneEvent",
        "RefusalDeltaEvent",
        "RefusalDoneEvent",
    ),
}
_MODULE_OF: Final = {name: module for module, names in _LAZY.items() for name in names}


# Not seen by type checkers: for them the names are the imports above, and a misspelt one
# stays an error instead of an `Any`.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        module = _MODULE_OF.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from importlib import import_module

        value = getattr(import_module(f".{module}", __name__), name)
        globals()[name] = value  # looked up once; later uses are plain attribute reads
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})


__all__ = [
    "DEFAULT_CONNECTION_LIMITS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "MAX_IMAGE_BYTES",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AssistantMessage",
    "AsyncChatCompletionStream",
    "AsyncChatCompletionStreamManager",
    "AsyncChatImage",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "ChatCompletion",
    "ChatCompletionAccumulator",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "ChatCompletionStream",
    "ChatCompletionStreamEvent",
    "ChatCompletionStreamManager",
    "ChatImage",
    "ChatImageError",
    "Choice",
    "ChoiceDelta",
    "ChoiceDeltaToolCall",
    "ChunkChoice",
    "ChunkEvent",
    "CompletionParams",
    "CompletionTokensDetails",
    "ConflictError",
    "ContentDeltaEvent",
    "ContentDoneEvent",
    "ContentFilterFinishReasonError",
    "ContentPart",
    "DefaultAioHttpClient",
    "DeveloperMessage",
    "Function",
    "ImageData",
    "ImageDetail",
    "ImageFetchError",
    "ImageLimitError",
    "ImageLimits",
    "ImagePart",
    "ImagePolicy",
    "ImageReport",
    "ImageURL",
    "InternalServerError",
    "InvalidImageError",
    "InvalidInputError",
    "LengthFinishReasonError",
    "Message",
    "MissingExtraError",
    "NotFoundError",
    "ParsedChatCompletion",
    "ParsedChatCompletionMessage",
    "ParsedChoice",
    "ParsedFunction",
    "ParsedFunctionToolCall",
    "PermissionDeniedError",
    "Problem",
    "PromptTokensDetails",
    "RateLimitError",
    "RawResponse",
    "ReasoningEffort",
    "RefusalDeltaEvent",
    "RefusalDoneEvent",
    "ResponseFormatUnsupportedError",
    "ResponseTooLargeError",
    "RetryEvent",
    "RetryPolicy",
    "RetryTransport",
    "Role",
    "Stream",
    "StreamOptions",
    "StructuredOutputError",
    "SystemMessage",
    "TextPart",
    "ToolDefinitionError",
    "ToolMessage",
    "UnknownPart",
    "UnprocessableEntityError",
    "UnsupportedImageError",
    "Usage",
    "UserMessage",
    "__version__",
    "estimate_image_tokens",
    "function_tool",
    "parse_chat_completion",
    "parse_chat_completion_chunk",
    "parse_content_part",
    "parse_message",
]
