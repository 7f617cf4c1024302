"""Bad input is refused before anything is sent, with the field named.

Each case goes through `ChatImage` and `AsyncChatImage` against the fake gateway, which
must have received nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
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
        ({"messages": [{"role": "function", "content": "x"}]}, "messages[0].role", "'function'"),
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
        ({"timeout": float("nan")}, "timeout", "seconds > 0"),
        ({"timeout": float("inf")}, "timeout", "seconds > 0"),
        ({"timeout": httpx.Timeout(5.0, read=float("nan"))}, "timeout.read", "seconds > 0"),
        ({"temperature": float("nan")}, "temperature", "cannot be sent as JSON"),
        ({"temperature": "hot"}, "temperature", "expected a number"),
        ({"n": 0}, "n", ">= 1"),
        ({"seed": 1.5}, "seed", "expected an integer"),
        ({"stop": 5}, "stop", "a string or a list of strings"),
        ({"user": 42}, "user", "expected a string"),
        ({"extra_body": {"metadata": object()}}, "metadata", "cannot be sent as JSON"),
        ({"extra_body": {"model": "other"}}, "model", "model= argument"),
        ({"extra_body": {"max_tokens": 9}}, "max_tokens", "max_tokens= argument"),
        ({"messages": [{"role": "user", "content": "x", "name": 3}]}, "messages[0].name", "string"),
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
        (lambda: UserMessage("hi", extra=None), "extra"),
        (lambda: UserMessage("hi", extra=[1]), "extra"),
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


def test_extra_body_none_is_sent_as_null_unlike_unset_options(call: Caller, server):
    call(temperature=None, extra_body={"logit_bias": None})
    body = server.last.json
    assert body["logit_bias"] is None
    assert "temperature" not in body


@pytest.mark.parametrize(
    ("client", "field"),
    [
        ({"api_key": "sk-has space-1234567890"}, "api_key"),
        ({"api_key": "sk-\u00e9t\u00e9-1234567890"}, "api_key"),
        ({"api_key": "sk-ctl\x00-1234567890"}, "api_key"),
        ({"api_key": b"sk-bytes-1234567890"}, "api_key"),
        ({"base_url": "http://127.0.0.1:9/v1?api-version=1"}, "base_url"),
        ({"base_url": "http://127.0.0.1:9/v1#frag"}, "base_url"),
    ],
)
def test_bad_settings_are_refused_at_construction_without_echoing_the_key(client, field):
    from chat_image import ChatImage

    kwargs = {"api_key": "sk-good-1234567890", "base_url": "http://127.0.0.1:9", **client}
    with pytest.raises(InvalidInputError) as caught:
        ChatImage(**kwargs)
    assert caught.value.field == field
    if field == "api_key" and isinstance(kwargs["api_key"], str):
        assert kwargs["api_key"] not in str(caught.value)


def test_a_key_read_from_a_file_loses_its_newline(server):
    from chat_image import ChatImage, UserMessage

    server.api_key = "sk-from-file-1234567890"  # any other key is answered 401
    with ChatImage(api_key="sk-from-file-1234567890\n", base_url=server.url) as chat:
        chat.chat.completions.create(model="m", messages=[UserMessage("x")], max_tokens=1)
    assert server.last.headers["Authorization"] == "Bearer [masked]"
    assert server.last.has_api_key("sk-from-file-1234567890")


def test_the_wrong_kind_of_http_client_is_refused():
    from chat_image import AsyncChatImage, ChatImage

    with httpx.Client() as sync_http, pytest.raises(InvalidInputError) as caught:
        AsyncChatImage(api_key="sk-good-1234567890", base_url="http://x", http_client=sync_http)
    assert caught.value.field == "http_client"
    with pytest.raises(InvalidInputError):
        ChatImage(api_key="sk-good-1234567890", base_url="http://x", http_client=object())


def test_a_closed_client_says_so_in_a_package_error(server):
    from chat_image import ChatImage, ChatImageError, UserMessage

    server.api_key = "sk-good-1234567890"
    chat = ChatImage(api_key="sk-good-1234567890", base_url=server.url)
    chat.chat.completions.create(model="m", messages=[UserMessage("x")], max_tokens=1)
    chat.close()
    with pytest.raises(ChatImageError, match="closed"):
        chat.chat.completions.create(model="m", messages=[UserMessage("x")], max_tokens=1)
    assert server.count == 1
