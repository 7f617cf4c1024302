"""Contains all the data models used in inputs/outputs"""

from .chat_completion_request import ChatCompletionRequest
from .chat_completion_response import ChatCompletionResponse
from .chat_message import ChatMessage
from .content_part import ContentPart
from .image_detail import ImageDetail
from .image_url import ImageUrl
from .stream_options import StreamOptions

__all__ = (
    "ChatCompletionRequest",
    "ChatCompletionResponse",
    "ChatMessage",
    "ContentPart",
    "ImageDetail",
    "ImageUrl",
    "StreamOptions",
)
