"""A key a server echoes in a stream's error (an error event, or a 200 `{"error": ...}` answer
to a streamed call) is masked in the error's message, `.body` and `.param`, and in a pickled
copy, as it is in a status error; sync and async and over aiohttp."""

from __future__ import annotations

import json
import pickle

import pytest

from chat_image import APIError
from chat_image.testing import Reply
from conftest import API_KEY
from streams import DONE, answer_events, event

# The key as a server may write it: as is, and with each character JSON-escaped.
_ESCAPED = "".join(f"\\u{ord(c):04x}" for c in API_KEY)


def _error(raw_key: str) -> bytes:
    # Written by hand, not json.dumps: the escaped form must reach the client as escaped.
    fields = (
        f'"message": "bad key {raw_key}", "type": "invalid_request_error", '
        f'"param": "{raw_key}", "code": "invalid_api_key", '
        f'"echo": ["{raw_key}", {{"key": "{raw_key}"}}]'
    )
    return ('{"error": {' + fields + "}}").encode()


def _assert_masked(error: object) -> None:
    assert isinstance(error, APIError), error
    for copy in (error, pickle.loads(pickle.dumps(error))):
        assert API_KEY not in str(copy)
        assert API_KEY not in json.dumps(copy.body)
        assert copy.param is not None
        assert API_KEY not in copy.param
        assert "[redacted]" in copy.param
        assert copy.code == "invalid_api_key"
        assert isinstance(copy.body, dict)
        assert "[redacted]" in copy.body["error"]["echo"][1]["key"]


@pytest.mark.parametrize("raw_key", [API_KEY, _ESCAPED], ids=["plain", "json-escaped"])
def test_a_key_in_an_error_event_is_masked(stream_call, server, raw_key):
    server.default = Reply(stream_body=[*answer_events()[:2], event(_error(raw_key)), DONE])
    outcome = stream_call.stream()
    _assert_masked(outcome.error)


@pytest.mark.parametrize("raw_key", [API_KEY, _ESCAPED], ids=["plain", "json-escaped"])
def test_a_key_in_a_200_error_answer_to_a_stream_is_masked(stream_call, server, raw_key):
    server.default = Reply(body=_error(raw_key), headers={"Content-Type": "application/json"})
    outcome = stream_call.stream()
    _assert_masked(outcome.error)


def test_a_key_in_a_flat_vllm_error_event_is_masked(stream_call, server):
    data = {"object": "error", "message": f"no {API_KEY}", "param": API_KEY, "code": 401}
    server.default = Reply(stream_body=[event(data), DONE])
    outcome = stream_call.stream()
    error = outcome.error
    assert isinstance(error, APIError)
    for copy in (error, pickle.loads(pickle.dumps(error))):
        assert API_KEY not in str(copy)
        assert API_KEY not in json.dumps(copy.body)
        assert copy.param == "[redacted]"
