"""Credentials never show: a password in the base URL is refused without being echoed, and a
key a server echoes back is masked wherever an error shows server text, however encoded."""

from __future__ import annotations

import json
import logging
import pickle

import pytest

from chat_image import (
    APIResponseValidationError,
    APIStatusError,
    AsyncChatImage,
    BadRequestError,
    ChatImage,
    InternalServerError,
    InvalidInputError,
)
from chat_image.testing import Reply
from conftest import API_KEY

PASSWORD = "hunter2-s3cret"


@pytest.mark.parametrize("cls", [ChatImage, AsyncChatImage])
@pytest.mark.parametrize(
    "userinfo", [f"user:{PASSWORD}@", f":{PASSWORD}@", f"{PASSWORD}@", f"u:{PASSWORD}@x@"]
)
@pytest.mark.parametrize("source", ["argument", "environment"])
def test_a_base_url_with_credentials_is_refused_without_echoing_them(
    cls, userinfo, source, server, monkeypatch, caplog
):
    url = server.url.replace("http://", f"http://{userinfo}") + "/v1"
    caplog.set_level(logging.DEBUG)
    if source == "environment":
        monkeypatch.setenv("CHAT_IMAGE_BASE_URL", url)
    with pytest.raises(InvalidInputError) as caught:
        cls(api_key=API_KEY, base_url=url if source == "argument" else None)
    error = caught.value
    assert error.field == "base_url"
    assert "credentials" in str(error)
    assert "http://***@127.0.0.1" in str(error)
    for shown in (str(error), repr(error), repr(error.args), pickle.dumps(error).decode("latin-1")):
        assert PASSWORD not in shown
    assert all(PASSWORD not in record.getMessage() for record in caplog.records)
    assert server.count == 0


# The key as a server may echo it in JSON: plain, every character \u-escaped (either case of
# hex digit), or only some. json.loads reads each of them back as the key.
ESCAPED = {
    "plain": API_KEY,
    "lower": "".join(f"\\u{ord(c):04x}" for c in API_KEY),
    "upper": "".join(f"\\u{ord(c):04X}" for c in API_KEY),
    "mixed": "".join(f"\\u{ord(c):04x}" if i % 2 else c for i, c in enumerate(API_KEY)),
}


def _leaks(text: str) -> bool:
    return API_KEY in text or any(form in text for form in ESCAPED.values())


def _shown(error: APIStatusError | APIResponseValidationError) -> list[str]:
    """Every place the error shows server text."""
    body = error.body if isinstance(error.body, str) else json.dumps(error.body)
    return [str(error), repr(error), error.message, body, str(error.request_id)]


@pytest.mark.parametrize("form", ESCAPED)
def test_an_echoed_key_is_masked_in_json_errors_however_escaped(form, call, server):
    text = '{"error": {"message": "invalid key ' + ESCAPED[form] + '", "code": "bad_key"}}'
    assert json.loads(text)["error"]["message"].endswith(API_KEY)
    server.default = Reply(
        status=400,
        body=text.encode(),
        headers={"Content-Type": "application/json", "x-request-id": API_KEY},
    )
    with pytest.raises(BadRequestError) as caught:
        call()
    assert not any(_leaks(shown) for shown in _shown(caught.value))
    assert caught.value.error_message == "invalid key [redacted]"
    assert caught.value.request_id == "[redacted]"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32-be"])
def test_an_echoed_key_is_masked_in_a_utf16_or_utf32_json_body(encoding, call, server):
    body = json.dumps({"error": {"message": f"invalid key {API_KEY}"}}).encode(encoding)
    server.default = Reply(status=500, body=body, headers={"Content-Type": "application/json"})
    with pytest.raises(InternalServerError) as caught:
        call(max_retries=0)
    assert not any(_leaks(shown) for shown in _shown(caught.value))
    assert caught.value.error_message == "invalid key [redacted]"


@pytest.mark.parametrize("form", ESCAPED)
def test_an_echoed_key_is_masked_in_a_body_that_is_not_json(form, call, server):
    body = f"<html>cut off: {{'key': '{ESCAPED[form]}".encode()
    server.default = Reply(body=body, headers={"Content-Type": "text/html"})
    with pytest.raises(APIResponseValidationError) as caught:
        call()
    assert not any(_leaks(shown) for shown in _shown(caught.value))
    assert "[redacted]" in caught.value.body  # type: ignore[operator]


def test_an_echoed_key_is_masked_in_a_streams_and_a_raw_answers_request_id(client, server):
    """The stream and the raw answer show the request id as errors do: never the key."""
    server.default = Reply(content="hi", headers={"x-request-id": API_KEY})
    create = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
    with client.chat.completions.create(**create, stream=True) as stream:
        assert stream.request_id == "[redacted]"
    raw = client.chat.completions.with_raw_response.create(**create)
    assert raw.request_id == "[redacted]"
