"""Structured output's errors cross process boundaries intact, without the key (item 9).

Each is raised for real in a spawned worker, by `parse()` against the fake gateway, and comes
back through a ProcessPoolExecutor.
"""

from __future__ import annotations

import json
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import pytest

from chat_image import (
    ChatImage,
    ContentFilterFinishReasonError,
    LengthFinishReasonError,
    ResponseFormatUnsupportedError,
    StructuredOutputError,
)
from chat_image.testing import FakeGateway, refuse_format

API_KEY = "sk-structured-pickle-7f3e2a"
POINT_SCHEMA = {
    "type": "object",
    "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
    "required": ["x", "y"],
}
CASES = {
    "length": (LengthFinishReasonError, {}),
    "content_filter": (ContentFilterFinishReasonError, {}),
    "invalid": (StructuredOutputError, {}),
    "refused": (ResponseFormatUnsupportedError, {"mode": "json_schema"}),
}


def provoke(case: str, base_url: str) -> Exception:
    """In the worker: raise `case`'s error for real and return it (pickled on the way back)."""
    kwargs = CASES[case][1]
    with ChatImage(api_key=API_KEY, base_url=base_url, max_retries=0) as client:
        try:
            client.chat.completions.parse(
                model="m",
                messages=[{"role": "user", "content": "Where?"}],
                max_tokens=50,
                response_format=POINT_SCHEMA,
                max_reasks=0,
                **kwargs,
            )
        except Exception as exc:
            return exc
    raise AssertionError("no error")


@pytest.fixture
def gateway():
    with FakeGateway(api_key=API_KEY) as server:
        yield server


@pytest.mark.parametrize("case", list(CASES))
def test_each_structured_error_comes_back_from_a_worker_without_the_key(gateway, case):
    expected = CASES[case][0]
    if case == "length":
        gateway.queue(content='{"x": 1, "y"', finish_reason="length")
    elif case == "content_filter":
        gateway.queue(content="", finish_reason="content_filter")
    elif case == "invalid":
        gateway.queue(content='{"x": "one", "y": 2}')
    else:
        gateway.responder = refuse_format("openai")
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        error = pool.submit(provoke, case, gateway.base_url).result(timeout=120)
    assert type(error) is expected
    assert API_KEY not in repr(error)
    assert API_KEY not in str(error)
    assert API_KEY.encode() not in pickle.dumps(error)
    if case == "length":
        assert error.partial == {"x": 1}
    elif case == "invalid":
        assert [str(p) for p in error.errors[0]] == ["x: expected integer, got a string ('one')"]
        assert error.last_content == '{"x": "one", "y": 2}'
        assert error.total_usage is not None
    elif case == "refused":
        assert error.status_code == 400
        assert error.mode == "json_schema"
        assert json.loads(gateway.last.body)["response_format"]["type"] == "json_schema"
    if case != "refused":
        assert error.completion is not None
