"""Joining chunks into a completion: by choice index, by tool index, with reasoning text."""

from __future__ import annotations

import pytest

from chat_image import (
    ChatCompletionAccumulator,
    ChatCompletionChunk,
    ChatCompletionMessageToolCall,
    Function,
    parse_chat_completion,
    parse_chat_completion_chunk,
)
from chat_image._models.chunk import chunk_of_completion
from completions import completion
from streams import USAGE, chunk, usage_chunk


def _final(*chunks: dict) -> object:
    accumulator = ChatCompletionAccumulator()
    for data in chunks:
        accumulator.add(parse_chat_completion_chunk(data))
    return accumulator.get_final_completion()


def test_choices_are_joined_by_index():
    final = _final(
        chunk("", role="assistant", index=0),
        chunk("", role="assistant", index=1),
        chunk("Hel", index=1),
        chunk("Yes", index=0),
        chunk("lo", index=1),
        chunk(index=1, finish_reason="length"),
        chunk(index=0, finish_reason="stop"),
        usage_chunk(),
    )
    assert [c.index for c in final.choices] == [0, 1]
    assert [c.message.content for c in final.choices] == ["Yes", "Hello"]
    assert [c.finish_reason for c in final.choices] == ["stop", "length"]
    assert final.usage is not None
    assert final.usage.total_tokens == USAGE["total_tokens"]
    assert final.object == "chat.completion"


def test_tool_call_arguments_are_joined_by_tool_index():
    def call(index, **fields):
        return chunk(tool_calls=[{"index": index, **fields}])

    final = _final(
        chunk(role="assistant", content=None),
        call(0, id="call_a", type="function", function={"name": "weather", "arguments": ""}),
        call(0, function={"arguments": '{"city":'}),
        call(1, id="call_b", type="function", function={"name": "time", "arguments": "{}"}),
        call(0, function={"arguments": ' "Oslo"}'}),
        chunk(finish_reason="tool_calls"),
    )
    message = final.choices[0].message
    assert message.content is None
    assert message.tool_calls == (
        ChatCompletionMessageToolCall(
            "call_a", "function", Function("weather", '{"city": "Oslo"}')
        ),
        ChatCompletionMessageToolCall("call_b", "function", Function("time", "{}")),
    )
    assert final.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("key", ["reasoning_content", "reasoning"])
def test_unknown_string_deltas_are_joined_into_extra(key):
    final = _final(
        chunk(role="assistant", **{key: "Let me"}),
        chunk(**{key: " think."}),
        chunk("42"),
        chunk(finish_reason="stop"),
    )
    message = final.choices[0].message
    assert message.extra == {key: "Let me think."}
    assert message.content == "42"


def test_refusals_are_joined():
    final = _final(chunk(refusal="I can"), chunk(refusal="not."), chunk(finish_reason="stop"))
    assert final.choices[0].message.refusal == "I cannot."


def test_a_completion_as_one_chunk_accumulates_back_to_itself():
    original = parse_chat_completion(completion("Round trip."))
    accumulator = ChatCompletionAccumulator()
    accumulator.add(chunk_of_completion(original))
    assert accumulator.get_final_completion() == original


def test_tool_calls_on_a_whole_completion_are_typed():
    tool = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    data = completion(None)
    data["choices"][0]["message"]["tool_calls"] = [tool]
    message = parse_chat_completion(data).choices[0].message
    assert message.tool_calls == (
        ChatCompletionMessageToolCall("c1", "function", Function("f", "{}")),
    )


def test_chunk_fields_and_unknown_fields():
    data = chunk("x", role="assistant")
    data["provider"] = "someone"
    data["choices"][0]["native_finish_reason"] = None
    parsed = parse_chat_completion_chunk(data)
    assert isinstance(parsed, ChatCompletionChunk)
    assert parsed.extra == {"provider": "someone"}
    assert parsed.choices[0].extra == {"native_finish_reason": None}
    assert (parsed.id, parsed.created, parsed.model, parsed.system_fingerprint) == (
        "chatcmpl-Str123",
        1732540800,
        "gpt-4o-2024-08-06",
        "fp_50cad350e4",
    )


def test_the_common_and_the_general_parser_agree():
    from chat_image._models.chunk import _any_chunk

    for data in (
        chunk("x"),
        chunk("", role="assistant"),
        chunk(finish_reason="stop"),
        usage_chunk(),
    ):
        assert parse_chat_completion_chunk(data) == _any_chunk(data)
