"""Completions, chunks and messages as dicts and JSON, and back: what a program saves."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat_image import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    parse_chat_completion,
    parse_chat_completion_chunk,
)
from chat_image.testing import tool_call
from completions import completion
from streams import chunk, usage_chunk

CALL = tool_call("get_weather", {"city": "Paris"}, id="call_1")
WITH_TOOLS = completion(
    choices=[
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "tool_calls": [CALL],
                "reasoning_content": "thinking",
            },
            "logprobs": {"content": [{"token": "a", "logprob": -0.1, "top_logprobs": []}]},
            "finish_reason": "tool_calls",
        }
    ],
    service_tier="default",
)


@pytest.mark.parametrize("data", [completion(), WITH_TOOLS], ids=["text", "tools"])
def test_a_completion_round_trips(data: dict[str, Any]) -> None:
    typed = parse_chat_completion(data)
    assert ChatCompletion.from_dict(typed.to_dict()) == typed
    assert ChatCompletion.from_dict(json.loads(typed.to_json())) == typed


def test_to_dict_is_the_json_the_server_sent_without_nulls() -> None:
    typed = parse_chat_completion(WITH_TOOLS)
    expected = json.loads(json.dumps(WITH_TOOLS))
    expected["choices"][0]["message"].pop("refusal")  # null: absent means the same
    assert typed.to_dict() == expected
    # Unknown fields stay where they were: top level and inside the message.
    assert typed.to_dict()["service_tier"] == "default"
    assert typed.to_dict()["choices"][0]["message"]["reasoning_content"] == "thinking"


def test_a_message_keeps_a_null_content() -> None:
    message = parse_chat_completion(WITH_TOOLS).choices[0].message
    assert message.to_dict()["content"] is None
    assert ChatCompletionMessage.from_dict(message.to_dict()) == message


def test_to_json_indents_like_the_openai_package_and_takes_an_indent() -> None:
    typed = parse_chat_completion(completion())
    assert typed.to_json().startswith('{\n  "id"')
    assert "\n" not in typed.to_json(indent=None)
    assert json.loads(typed.to_json(indent=None)) == typed.to_dict()


def test_non_ascii_text_stays_readable() -> None:
    typed = parse_chat_completion(completion("Un café à Paris, 東京"))
    assert "Un café à Paris, 東京" in typed.to_json()


@pytest.mark.parametrize(
    "data",
    [
        chunk("Hello", role="assistant"),
        chunk(finish_reason="stop"),
        usage_chunk(),
        chunk(
            tool_calls=[
                {
                    "index": 0,
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "f", "arguments": ""},
                }
            ]
        ),
        chunk(reasoning_content="hmm"),
    ],
    ids=["text", "finish", "usage", "tool-call", "reasoning"],
)
def test_a_chunk_round_trips(data: dict[str, Any]) -> None:
    typed = parse_chat_completion_chunk(data)
    assert ChatCompletionChunk.from_dict(typed.to_dict()) == typed
    assert ChatCompletionChunk.from_dict(json.loads(typed.to_json())) == typed


def test_from_dict_names_the_bad_field() -> None:
    from chat_image._models.completion import ResponseShapeError

    with pytest.raises(ResponseShapeError, match=r"choices\[0\]\.message: missing"):
        ChatCompletion.from_dict({"choices": [{"index": 0}]})


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)
_EXTRA = st.dictionaries(st.sampled_from(["x_extra", "service_tier", "reasoning"]), _JSON)
_CALL = st.fixed_dictionaries(
    {"index": st.integers(0, 3)},
    optional={
        "id": st.text(max_size=5),
        "type": st.just("function"),
        "function": st.fixed_dictionaries(
            {}, optional={"name": st.text(max_size=5), "arguments": st.text(max_size=10)}
        ),
    },
)
_MESSAGE = st.fixed_dictionaries(
    {"role": st.just("assistant")},
    optional={
        "content": st.text(max_size=10) | st.none(),
        "refusal": st.text(max_size=10) | st.none(),
        "tool_calls": st.lists(_CALL, max_size=2),
    },
).flatmap(lambda message: _EXTRA.map(lambda extra: {**extra, **message}))
_TOKENS = st.dictionaries(
    st.sampled_from(["cached_tokens", "reasoning_tokens", "audio_tokens", "other"]),
    st.integers(0, 9),
)
_USAGE = st.fixed_dictionaries(
    {},
    optional={
        "prompt_tokens": st.integers(0, 9),
        "completion_tokens": st.integers(0, 9),
        "total_tokens": st.integers(0, 9),
        "prompt_tokens_details": _TOKENS,
        "completion_tokens_details": _TOKENS,
    },
)
_COMPLETION = st.fixed_dictionaries(
    {
        "choices": st.lists(
            st.fixed_dictionaries(
                {"message": _MESSAGE},
                optional={
                    "index": st.integers(0, 3),
                    "finish_reason": st.sampled_from(["stop", "length", "tool_calls"]),
                    "logprobs": _JSON,
                },
            ),
            max_size=2,
        )
    },
    optional={
        "id": st.text(max_size=5),
        "created": st.integers(0, 2**40),
        "model": st.text(max_size=5) | st.none(),
        "usage": _USAGE,
    },
).flatmap(lambda completion: _EXTRA.map(lambda extra: {**extra, **completion}))


@given(_COMPLETION)
def test_any_completion_round_trips(data: dict[str, Any]) -> None:
    typed = parse_chat_completion(data)
    assert ChatCompletion.from_dict(typed.to_dict()) == typed
    assert ChatCompletion.from_dict(json.loads(typed.to_json(indent=None))) == typed
    for choice in typed.choices:
        assert ChatCompletionMessage.from_dict(choice.message.to_dict()) == choice.message
