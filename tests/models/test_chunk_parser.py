"""The chunk parser's fast path (the common shape, read directly) and its general path (every
field checked, extras kept) must agree on every chunk the fast path accepts, and the fast path
must hand everything else to the general one."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from chat_image import parse_chat_completion_chunk
from chat_image._models.chunk import _any_chunk, _common_chunk

# Values of the right type for each field, and of wrong types, so that both paths are reached.
_text = st.one_of(st.none(), st.text(max_size=8))
_any_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=4)
)
_delta = st.dictionaries(
    st.sampled_from(["role", "content", "refusal", "tool_calls", "reasoning_content"]),
    st.one_of(_text, _any_scalar),
    max_size=4,
)
_choice = st.fixed_dictionaries(
    {"index": st.one_of(st.integers(0, 3), _any_scalar), "delta": st.one_of(_delta, _any_scalar)},
    optional={
        "finish_reason": st.one_of(st.none(), st.sampled_from(["stop", "length"]), _any_scalar),
        "logprobs": st.none(),
        "extra": _any_scalar,
    },
)
_chunk = st.fixed_dictionaries(
    {"choices": st.one_of(st.lists(_choice, max_size=3), _any_scalar)},
    optional={
        "id": st.one_of(_text, _any_scalar),
        "object": st.one_of(st.just("chat.completion.chunk"), _any_scalar),
        "created": st.one_of(st.integers(0, 2**40), _any_scalar),
        "model": st.one_of(_text, _any_scalar),
        "system_fingerprint": st.one_of(_text, _any_scalar),
        "usage": st.none(),
        "service_tier": st.text(max_size=4),
    },
)


def _general(data: dict[str, Any]) -> object:
    try:
        return _any_chunk(data)
    except Exception as exc:  # compared by kind below
        return type(exc)


@given(_chunk)
def test_the_fast_path_agrees_with_the_general_one_wherever_it_answers(data):
    fast = _common_chunk(data)
    if fast is not None:
        assert fast == _general(data)


@given(_chunk)
def test_the_public_parser_is_the_general_one_in_effect(data):
    general = _general(data)
    try:
        parsed: object = parse_chat_completion_chunk(data)
    except Exception as exc:
        parsed = type(exc)
    assert parsed == general


def test_both_paths_are_reached_by_the_examples():
    common = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": None}],
    }
    assert _common_chunk(common) is not None
    assert _common_chunk({**common, "service_tier": "default"}) is None
    assert _general({**common, "service_tier": "default"}) == parse_chat_completion_chunk(
        {**common, "service_tier": "default"}
    )
