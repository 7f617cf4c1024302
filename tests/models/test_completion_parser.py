"""The completion parser's fast path (the common shape, read directly) and its general path
(every field checked, extras kept) must agree on every answer the fast path accepts, and the
fast path must hand everything else to the general one."""

from __future__ import annotations

import pickle
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from chat_image import ChatCompletion
from chat_image._models.completion import _any_completion, _common_completion

# Values of the right type for each field, and of wrong types, so that both paths are reached.
_text = st.one_of(st.none(), st.text(max_size=8))
_any_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=4)
)
_count = st.one_of(st.none(), st.integers(0, 10**6), _any_scalar)
_message = st.dictionaries(
    st.sampled_from(["role", "content", "refusal", "tool_calls", "annotations", "audio"]),
    st.one_of(_text, _any_scalar, st.lists(st.integers(), max_size=2)),
    max_size=5,
)
_choice = st.fixed_dictionaries(
    {"message": st.one_of(_message, _any_scalar)},
    optional={
        "index": st.one_of(st.integers(0, 3), _any_scalar),
        "finish_reason": st.one_of(st.none(), st.sampled_from(["stop", "length"]), _any_scalar),
        "logprobs": st.one_of(st.none(), st.dictionaries(st.text(max_size=3), st.integers())),
        "stop_reason": _any_scalar,
    },
)
_usage = st.one_of(
    st.none(),
    _any_scalar,
    st.fixed_dictionaries(
        {},
        optional={
            "prompt_tokens": _count,
            "completion_tokens": _count,
            "total_tokens": _count,
            "prompt_tokens_details": st.one_of(st.none(), st.just({"cached_tokens": 3})),
        },
    ),
)
_completion = st.fixed_dictionaries(
    {"choices": st.one_of(st.lists(_choice, max_size=3), _any_scalar)},
    optional={
        "id": st.one_of(_text, _any_scalar),
        "object": st.one_of(st.just("chat.completion"), _any_scalar),
        "created": st.one_of(st.integers(0, 2**40), _any_scalar),
        "model": st.one_of(_text, _any_scalar),
        "system_fingerprint": st.one_of(_text, _any_scalar),
        "usage": _usage,
        "service_tier": st.text(max_size=4),
    },
)


def _general(data: dict[str, Any]) -> object:
    try:
        return _any_completion(data)
    except Exception as exc:  # compared by kind below
        return type(exc)


@given(_completion)
def test_the_fast_path_agrees_with_the_general_one_wherever_it_answers(data):
    fast = _common_completion(data)
    if fast is not None:
        general = _general(data)
        assert fast == general
        # And it serializes the same, unknown fields included.
        assert isinstance(general, ChatCompletion)
        assert fast.to_dict() == general.to_dict()


@given(_completion)
def test_the_public_parser_is_the_general_one_in_effect(data):
    general = _general(data)
    try:
        parsed: object = ChatCompletion.from_dict(data)
    except Exception as exc:
        parsed = type(exc)
    assert parsed == general


def test_both_paths_are_reached_by_the_examples():
    common = {
        "id": "c",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "x", "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }
    fast = _common_completion(common)
    assert fast is not None
    assert fast == _any_completion(common)
    # Fields nobody here knows stay in `extra`, on both paths, and the answer still pickles.
    extras = {**common, "service_tier": "default"}
    extras["choices"] = [{**common["choices"][0], "stop_reason": None}]
    fast = _common_completion(extras)
    assert fast is not None
    assert fast.extra == {"service_tier": "default"}
    assert fast.choices[0].extra == {"stop_reason": None}
    assert pickle.loads(pickle.dumps(fast)) == fast
    # Token details and tool calls are the general reader's.
    detailed = {**common, "usage": {**common["usage"], "prompt_tokens_details": {}}}
    assert _common_completion(detailed) is None
    assert _general(detailed) == ChatCompletion.from_dict(detailed)
