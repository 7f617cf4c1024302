"""Bad input is refused before anything is sent, with the field named.

Each case goes through `ChatImage` and `AsyncChatImage` against the loopback server, which
must have received nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from chat_image import ImagePart, ImageURL, InvalidInputError, TextPart, UnknownPart, UserMessage
from conftest import Caller


@dataclass
class AudioPart:
    """A typed part of a shape this package does not know."""

    data: str
    type: str = "input_audio"


def _image(url: str, detail: str | None = None) -> dict:
    image_url = {"url": url} if detail is None else {"url": url, "detail": detail}
    return {"role": "user", "content": [{"type": "image_url", "image_url": image_url}]}


URL = "messages[0].content[0].image_url.url"


@pytest.mark.parametrize(
    ("create", "field", "problem"),
    [
        ({"messages": []}, "messages", "empty"),
        ({"messages": "hello"}, "messages", "expected a list of messages"),
        ({"messages": [{"role": "user", "content": []}]}, "messages[0].content", "empty list"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].role", "'tool'"),
        ({"messages": [{"role": "User", "content": "x"}]}, "messages[0].role", "'User'"),
        ({"messages": [{"content": "x"}]}, "messages[0].role", "missing"),
        ({"messages": [{"role": "user"}]}, "messages[0].content", "missing"),
        (
            {"messages": [UserMessage("ok"), {"role": "user", "content": [AudioPart("UklG")]}]},
            "messages[1].content[0]",
            "got AudioPart",
        ),
        (
            {"messages": [{"role": "user", "content": [TextPart("a"), object()]}]},
            "messages[0].content[1]",
            "got object",
        ),
        (
            {"messages": [{"role": "user", "content": [{"text": "no type"}]}]},
            "messages[0].content[0].type",
            "non-empty string 'type'",
        ),
        ({"messages": [_image("ftp://example.com/a.png")]}, URL, "scheme 'ftp'"),
        ({"messages": [_image("file:///etc/passwd")]}, URL, "scheme 'file'"),
        ({"messages": [_image("javascript:alert(1)")]}, URL, "scheme 'javascript'"),
        ({"messages": [_image("example.com/a.png")]}, URL, "no scheme"),
        ({"messages": [_image("https://")]}, URL, "has no host"),
        ({"messages": [_image("data:text/plain;base64,aGk=")]}, URL, "data:image/<type>;base64,"),
        ({"messages": [_image("data:image/png,rawbytes")]}, URL, "data:image/<type>;base64,"),
        (
            {"messages": [_image("https://example.com/a.png", "max")]},
            "messages[0].content[0].image_url.detail",
            "'max' is not one of",
        ),
        (
            {"messages": [_image("https://example.com/a.png", "HIGH")]},
            "messages[0].content[0].image_url.detail",
            "'HIGH'",
        ),
        ({"max_tokens": 0}, "max_tokens", "positive integer"),
        ({"max_tokens": -5}, "max_tokens", "positive integer"),
        ({"max_tokens": True}, "max_tokens", "positive integer"),
        ({"max_tokens": 2.5}, "max_tokens", "positive integer"),
        ({"max_tokens": "300"}, "max_tokens", "positive integer"),
        ({"max_tokens": None}, "max_tokens", "positive integer"),
        ({"model": ""}, "model", "non-empty string"),
    ],
)
def test_refused_before_sending_with_the_field_named(call: Caller, server, create, field, problem):
    with pytest.raises(InvalidInputError) as caught:
        call(**create)
    assert caught.value.field == field
    assert problem in str(caught.value)
    assert str(caught.value).startswith(f"{field}: ")
    assert "\n" not in str(caught.value)
    assert server.count == 0


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: ImagePart.from_url("ftp://example.com/a.png"), "url"),
        (lambda: ImagePart.from_url("https://example.com/a.png", detail="max"), "detail"),
        (lambda: ImageURL("gopher://x"), "url"),
        (lambda: UnknownPart({"type": "image_url", "image_url": {"url": "ftp://x"}}), "type"),
        (lambda: UserMessage([]), "content"),
    ],
)
def test_typed_objects_refuse_bad_values_when_made(build, field):
    with pytest.raises(InvalidInputError) as caught:
        build()
    assert caught.value.field == field


def test_a_data_url_is_not_echoed_into_the_error(call: Caller, server):
    payload = "A" * 10_000
    with pytest.raises(InvalidInputError) as caught:
        call(messages=[_image(f"data:text/plain;base64,{payload}")])
    assert payload[:100] not in str(caught.value)
    assert server.count == 0
