"""Contains all the data models used in inputs/outputs"""

from .chat_completion_request import ChatCompletionRequest
from .chat_completion_response import ChatCompletionResponse
from .chat_completion_tool import ChatCompletionTool
from .chat_completion_tool_type import ChatCompletionToolType
from .chat_message import ChatMessage
from .content_part import ContentPart
from .function_definition import FunctionDefinition
from .function_definition_parameters import FunctionDefinitionParameters
from .image_detail import ImageDetail
from .image_url import ImageUrl
from .json_schema_format import JsonSchemaFormat
from .json_schema_format_schema import JsonSchemaFormatSchema
from .logit_bias import LogitBias
from .message_tool_call import MessageToolCall
from .message_tool_call_function import MessageToolCallFunction
from .message_tool_call_type import MessageToolCallType
from .named_tool_choice import NamedToolChoice
from .named_tool_choice_function import NamedToolChoiceFunction
from .named_tool_choice_type import NamedToolChoiceType
from .reasoning_effort import ReasoningEffort
from .response_format_json_object import ResponseFormatJsonObject
from .response_format_json_object_type import ResponseFormatJsonObjectType
from .response_format_json_schema import ResponseFormatJsonSchema
from .response_format_json_schema_type import ResponseFormatJsonSchemaType
from .response_format_text import ResponseFormatText
from .response_format_text_type import ResponseFormatTextType
from .stream_options import StreamOptions
from .tool_choice_mode import ToolChoiceMode

__all__ = (
    "ChatCompletionRequest",
    "ChatCompletionResponse",
    "ChatCompletionTool",
    "ChatCompletionToolType",
    "ChatMessage",
    "ContentPart",
    "FunctionDefinition",
    "FunctionDefinitionParameters",
    "ImageDetail",
    "ImageUrl",
    "JsonSchemaFormat",
    "JsonSchemaFormatSchema",
    "LogitBias",
    "MessageToolCall",
    "MessageToolCallFunction",
    "MessageToolCallType",
    "NamedToolChoice",
    "NamedToolChoiceFunction",
    "NamedToolChoiceType",
    "ReasoningEffort",
    "ResponseFormatJsonObject",
    "ResponseFormatJsonObjectType",
    "ResponseFormatJsonSchema",
    "ResponseFormatJsonSchemaType",
    "ResponseFormatText",
    "ResponseFormatTextType",
    "StreamOptions",
    "ToolChoiceMode",
)
