"""A typed, `openai`-shaped client for the chat-image gateway endpoint.

The hand-written layer over the generated `chat_image_api` package: content-part unions,
messages, a typed chat completion, `ChatImage` / `AsyncChatImage`, the errors they raise, and
the retry policy they follow (`RetryPolicy`, also usable on any httpx client as
`RetryTransport`), and streamed answers (`Stream`, `AsyncStream`, `ChatCompletionChunk`,
`ChatCompletionAccumulator`).
"""

from ._accumulate import ChatCompletionAccumulator
from ._chunks import (
    ChatCompletionChunk,
    ChoiceDelta,
    ChoiceDeltaToolCall,
    ChunkChoice,
    parse_chat_completion_chunk,
)
from ._client import AsyncChatImage, ChatImage
from ._completion import (
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
from ._content import (
    ContentPart,
    ImageData,
    ImageDetail,
    ImagePart,
    ImageURL,
    TextPart,
    UnknownPart,
    parse_content_part,
)
from ._errors import (
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
    UnprocessableEntityError,
)
from ._images import MAX_IMAGE_BYTES, estimate_image_tokens
from ._messages import AssistantMessage, Message, Role, SystemMessage, UserMessage, parse_message
from ._options import CompletionParams, StreamOptions
from ._raw import RawResponse
from ._retry import RetryEvent, RetryPolicy
from ._settings import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from ._streaming import AsyncStream, Stream
from ._transport import RetryTransport
from ._version import __version__

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "MAX_IMAGE_BYTES",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AssistantMessage",
    "AsyncChatImage",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "ChatCompletion",
    "ChatCompletionAccumulator",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "ChatImage",
    "ChatImageError",
    "Choice",
    "ChoiceDelta",
    "ChoiceDeltaToolCall",
    "ChunkChoice",
    "CompletionParams",
    "CompletionTokensDetails",
    "ConflictError",
    "ContentPart",
    "Function",
    "ImageData",
    "ImageDetail",
    "ImagePart",
    "ImageURL",
    "InternalServerError",
    "InvalidImageError",
    "InvalidInputError",
    "Message",
    "MissingExtraError",
    "NotFoundError",
    "PermissionDeniedError",
    "PromptTokensDetails",
    "RateLimitError",
    "RawResponse",
    "RetryEvent",
    "RetryPolicy",
    "RetryTransport",
    "Role",
    "Stream",
    "StreamOptions",
    "SystemMessage",
    "TextPart",
    "UnknownPart",
    "UnprocessableEntityError",
    "Usage",
    "UserMessage",
    "__version__",
    "estimate_image_tokens",
    "parse_chat_completion",
    "parse_chat_completion_chunk",
    "parse_content_part",
    "parse_message",
]
