"""What a span says about a request's messages and an answer: image counts always (when the
span records), the messages themselves only when content capture is asked for.

An image is never recorded as its bytes: inline ones become a reference (media type, size,
sha256), URLs lose their query string and fragment (signed URLs carry credentials there).
The shape is the GenAI conventions' `gen_ai.input.messages` / `gen_ai.output.messages`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from typing import Any

from .._images.file import ImageFile
from .._models.completion import ChatCompletion
from .._models.content import ImageData, ImagePart, ImageURL, TextPart
from .._models.messages import Message

__all__ = ["image_stats", "input_messages", "output_messages"]

_DATA_URL = "data:"


def _images(messages: Sequence[Message]) -> list[ImageURL | ImageData]:
    return [
        part.image_url
        for message in messages
        if isinstance(message.content, tuple)
        for part in message.content
        if isinstance(part, ImagePart)
    ]


def _data_url_size(url: str) -> int:
    payload = url.partition(",")[2]
    return len(payload) * 3 // 4 - payload[-2:].count("=")


def image_stats(messages: Sequence[Message]) -> tuple[int, int]:
    """How many image parts the messages hold, and the bytes of those sent inline."""
    count = 0
    size = 0
    for image in _images(messages):
        count += 1
        if isinstance(image, ImageData):
            # Private access within the package: the size without reading a file.
            content = image._content
            size += content.size if isinstance(content, ImageFile) else len(content)
        elif image.url.startswith(_DATA_URL):
            size += _data_url_size(image.url)
    return count, size


def _image_reference(image: ImageURL | ImageData) -> dict[str, Any]:
    if isinstance(image, ImageData):
        data = image.data
        return _reference(image.media_type, data)
    url = image.url
    if url.startswith(_DATA_URL):
        head, _, payload = url.partition(",")
        media_type = head[len(_DATA_URL) :].split(";")[0] or "application/octet-stream"
        try:
            data = base64.b64decode(payload, validate=False)
        except (binascii.Error, ValueError):
            return {"type": "image", "modality": "image", "mime_type": media_type}
        return _reference(media_type, data)
    # Where the image is, without what signs or tracks it.
    return {"type": "uri", "modality": "image", "uri": url.split("#")[0].split("?")[0]}


def _reference(media_type: str, data: bytes) -> dict[str, Any]:
    return {
        "type": "image",
        "modality": "image",
        "mime_type": media_type,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def input_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The request's messages as the conventions record them, images as references."""
    recorded = []
    for message in messages:
        content = message.content
        parts: list[dict[str, Any]] = []
        if isinstance(content, str):
            parts.append({"type": "text", "content": content})
        elif content is not None:
            for part in content:
                if isinstance(part, TextPart):
                    parts.append({"type": "text", "content": part.text})
                elif isinstance(part, ImagePart):
                    parts.append(_image_reference(part.image_url))
                else:
                    parts.append({"type": part.type})
        recorded.append({"role": message.role, "parts": parts})
    return recorded


def output_messages(completion: ChatCompletion) -> list[dict[str, Any]]:
    """The answer's choices as the conventions record them."""
    recorded = []
    for choice in completion.choices:
        message = choice.message
        parts: list[dict[str, Any]] = []
        if message.content is not None:
            parts.append({"type": "text", "content": message.content})
        if message.refusal is not None:
            parts.append({"type": "refusal", "content": message.refusal})
        for call in message.tool_calls or ():
            function = call.function
            parts.append(
                {
                    "type": "tool_call",
                    "id": call.id,
                    "name": function.name if function else None,
                    "arguments": function.arguments if function else None,
                }
            )
        recorded.append(
            {"role": message.role, "parts": parts, "finish_reason": choice.finish_reason}
        )
    return recorded
