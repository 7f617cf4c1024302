"""Test code that uses chat-image without a real gateway: `FakeGateway` and its parts.

`FakeGateway` is a real HTTP server on 127.0.0.1 that answers as a test tells it (`queue`,
`responder`, `default`), records what arrived (`requests`), and refuses requests the gateway
would refuse, as the gateway would. With pytest installed, the `fake_gateway` fixture and
friends come with the package (see docs/testing.md).
"""

from ._contract import Refusal, UnsupportedSchemaError
from ._gateway import DEFAULT_API_KEY, FakeGateway, Responder
from ._recorded import Headers, RecordedImage, RecordedRequest
from ._replies import DEFAULT_CONTENT, Fault, Reply, render_reply, tool_call

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_CONTENT",
    "FakeGateway",
    "Fault",
    "Headers",
    "RecordedImage",
    "RecordedRequest",
    "Refusal",
    "Reply",
    "Responder",
    "UnsupportedSchemaError",
    "render_reply",
    "tool_call",
]
