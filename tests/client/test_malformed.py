"""Whatever the server sends back, a call ends in a completion or a documented error.

End to end against the fake gateway for the cases gateways produce, then property-based
over arbitrary JSON and arbitrary bytes through the response parser.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat_image import (
    APIResponseValidationError,
    APIStatusError,
    ChatCompletion,
    InternalServerError,
)
from chat_image._response import read_completion
from chat_image.testing import Reply
from completions import completion
from conftest import Caller

HTML = (
    b"<!DOCTYPE html>\n<html><head><title>Oops</title></head>\n<body>Gateway error</body></html>\n"
)
JSON = {"Content-Type": "application/json"}


def _json(data: Any) -> Reply:
    """A 200 whose body is `data` as JSON bytes, kept on the reply to compare with the error."""
    return Reply(body=json.dumps(data).encode())


def _without(data: dict[str, Any], *path: str | int) -> dict[str, Any]:
    copy = json.loads(json.dumps(data))
    target = copy
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return copy


def _with(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    copy = completion()
    target: Any = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copy


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (
            Reply(status=200, body=b'{"id": "chatcmpl-1", "choices": [', headers=JSON),
            "body is not JSON",
        ),
        (
            Reply(status=200, body=json.dumps(completion()).encode()[:-40], headers=JSON),
            "body is not JSON",
        ),
        (Reply(status=200, body=b"", headers=JSON), "empty body"),
        (Reply(status=204, body=b""), "empty body"),
        (
            Reply(status=200, body=HTML, headers={"Content-Type": "text/html"}),
            "content-type text/html",
        ),
        (Reply(status=200, body=b"\xff\xfe\x00garbage", headers=JSON), "body is not JSON"),
        (Reply(status=200, body=b"[" * 50_000, headers=JSON), "body is not JSON"),
        (_json([completion()]), "expected an object, got an array"),
        (_json(None), "expected an object, got null"),
        (_json({}), "choices: missing"),
        (_json({"error": {"message": "upstream failed"}}), "choices: missing"),
        (_json(_with(("choices",), {"0": {}})), "choices: expected an array, got an object"),
        (_json(_with(("choices", 0), "hi")), "choices[0]: expected an object, got a string"),
        (
            _json(_without(completion(), "choices", 0, "message")),
            "choices[0].message: missing",
        ),
        (
            _json(_with(("choices", 0, "message"), "hi")),
            "choices[0].message: expected an object",
        ),
        (
            _json(_with(("choices", 0, "message", "content"), ["a"])),
            "choices[0].message.content: expected a string, got an array",
        ),
        (_json(_with(("usage",), "lots")), "usage: expected an object, got a string"),
        (_json(_with(("created",), True)), "created: expected an integer, got a boolean"),
    ],
)
def test_a_200_that_is_not_a_chat_completion(call: Caller, server, reply, problem):
    server.default = reply
    with pytest.raises(APIResponseValidationError) as caught:
        call()
    error = caught.value
    assert problem in str(error)
    assert error.body == reply.body.decode("utf-8", errors="replace")
    assert error.status_code == reply.status
    assert "\n" not in str(error)
    assert server.count == 1  # a malformed answer is not retried


def test_an_html_502_is_retried_then_raised_with_the_page_attached(call: Caller, server):
    server.default = Reply(status=502, body=HTML, headers={"Content-Type": "text/html"})
    with pytest.raises(InternalServerError) as caught:
        call()
    assert caught.value.body == HTML.decode()
    assert str(caught.value).startswith("Error code: 502 - <!DOCTYPE html> <html>")
    assert server.count == 3


@pytest.mark.parametrize(
    "data",
    [
        _without(completion(), "usage"),
        _without(_without(_without(completion(), "id"), "created"), "system_fingerprint"),
        completion(service_tier="default", provider="vllm"),
        _with(("choices", 0, "message"), {"role": "assistant", "content": None, "refusal": "No."}),
        _with(("choices", 0, "message"), {"content": "no role given"}),
        _with(("choices", 0, "message", "reasoning_content"), "thinking..."),
        _with(("choices", 0, "logprobs"), {"content": []}),
        _with(("choices",), []),
        _with(("usage",), {"prompt_tokens": 1.0, "completion_tokens": 2, "total_tokens": None}),
    ],
)
def test_what_real_servers_send_is_accepted(call: Caller, server, data):
    server.default = _json(data)
    assert isinstance(call(), ChatCompletion)


def test_refusal_and_extra_fields_are_kept(call: Caller, server):
    message = {"role": "assistant", "content": None, "refusal": "I can't help.", "audio": None}
    server.default = _json(_with(("choices", 0, "message"), message))
    result = call()
    assert result.choices[0].message.content is None
    assert result.choices[0].message.refusal == "I can't help."
    assert result.choices[0].message.extra == {"audio": None}


def test_json_under_a_wrong_content_type_is_still_read(call: Caller, server):
    server.default = Reply(
        status=200, body=json.dumps(completion()).encode(), headers={"Content-Type": "text/plain"}
    )
    assert call().id == "chatcmpl-AbC123"


# Property-based: the parser, on everything.

REQUEST = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _maybe(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the right type, sometimes anything: reaches deep into the parser."""
    return st.one_of(good, good, ANY_JSON)


MESSAGE = st.fixed_dictionaries(
    {},
    optional={
        "role": _maybe(st.just("assistant")),
        "content": _maybe(st.text() | st.none()),
        "refusal": _maybe(st.text() | st.none()),
    },
)
CHOICE = st.fixed_dictionaries(
    {},
    optional={
        "index": _maybe(st.integers()),
        "message": _maybe(MESSAGE),
        "finish_reason": _maybe(st.text()),
        "logprobs": ANY_JSON,
    },
)
TOKENS = st.dictionaries(
    st.sampled_from(["cached_tokens", "audio_tokens", "reasoning_tokens", "x"]),
    _maybe(st.integers()),
)
USAGE = st.fixed_dictionaries(
    {},
    optional={
        "prompt_tokens": _maybe(st.integers()),
        "completion_tokens": _maybe(st.integers() | st.floats(allow_nan=False)),
        "total_tokens": _maybe(st.integers()),
        "prompt_tokens_details": _maybe(TOKENS),
        "completion_tokens_details": _maybe(TOKENS),
    },
)
COMPLETION_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "id": _maybe(st.text()),
        "choices": _maybe(st.lists(_maybe(CHOICE), max_size=3)),
        "created": _maybe(st.integers()),
        "model": _maybe(st.text()),
        "object": _maybe(st.just("chat.completion")),
        "usage": _maybe(USAGE),
        "system_fingerprint": _maybe(st.text()),
        "extra": ANY_JSON,
    },
)
STATUSES = st.sampled_from([200, 201, 204, 400, 401, 404, 408, 409, 422, 429, 500, 502, 503])


def _read(status: int, content: bytes, content_type: str = "application/json") -> object:
    response = httpx.Response(
        status, content=content, headers={"Content-Type": content_type}, request=REQUEST
    )
    try:
        return read_completion(response)
    except (APIStatusError, APIResponseValidationError) as error:
        caught = error
    assert "\n" not in str(caught)
    if isinstance(caught, APIResponseValidationError):
        assert caught.body == content.decode("utf-8", errors="replace")
    return caught


@given(st.one_of(ANY_JSON, COMPLETION_LIKE))
def test_any_json_in_a_200_is_a_completion_or_a_validation_error(data):
    outcome = _read(200, json.dumps(data).encode())
    assert isinstance(outcome, ChatCompletion | APIResponseValidationError)


@given(COMPLETION_LIKE)
def test_a_completion_parses_whenever_its_required_fields_are_sound(data):
    outcome = _read(200, json.dumps(data).encode())
    choices = data.get("choices")
    sound = isinstance(choices, list) and all(
        isinstance(c, dict) and isinstance(c.get("message"), dict) for c in choices
    )
    if not sound:
        assert isinstance(outcome, APIResponseValidationError)


@given(STATUSES, st.binary(max_size=512), st.sampled_from(["application/json", "text/html", ""]))
def test_any_bytes_with_any_status_end_in_a_documented_outcome(status, content, content_type):
    outcome = _read(status, content, content_type)
    if 200 <= status < 300:
        assert isinstance(outcome, ChatCompletion | APIResponseValidationError)
    else:
        assert isinstance(outcome, APIStatusError)
        assert outcome.status_code == status


@given(STATUSES, st.one_of(ANY_JSON, COMPLETION_LIKE))
def test_any_json_error_body_gives_a_status_error(status, data):
    outcome = _read(status, json.dumps(data).encode())
    if status >= 300:
        assert isinstance(outcome, APIStatusError)
        assert outcome.body == data
