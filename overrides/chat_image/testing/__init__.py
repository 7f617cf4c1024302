"""Test code that uses chat-image without a real gateway: `FakeGateway` and its parts.

`FakeGateway` is a real HTTP server on 127.0.0.1 that answers as a test tells it (`queue`,
`responder`, `default`), records what arrived (`requests`), and refuses requests the gateway
would refuse, as the gateway would (a tool round trip out of order too). `ToolCaller` plays a
model that calls tools; `python -m chat_image.testing` serves the gateway to other processes.
With pytest installed, the `fake_gateway` fixture and friends come with the package (see
docs/testing.md).
"""

from ._contract import Refusal, UnsupportedSchemaError
from ._formats import FORMAT_REFUSALS, JsonStyle, format_type, json_reply, refuse_format
from ._gateway import DEFAULT_API_KEY, FakeGateway, Responder
from ._recorded import Headers, RecordedImage, RecordedRequest
from ._replies import DEFAULT_CONTENT, Fault, Reply, render_reply, tool_call
from ._tools import ToolCaller

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_CONTENT",
    "FORMAT_REFUSALS",
    "FakeGateway",
    "Fault",
    "Headers",
    "JsonStyle",
    "RecordedImage",
    "RecordedRequest",
    "Refusal",
    "Reply",
    "Responder",
    "ToolCaller",
    "UnsupportedSchemaError",
    "format_type",
    "json_reply",
    "refuse_format",
    "render_reply",
    "tool_call",
]
