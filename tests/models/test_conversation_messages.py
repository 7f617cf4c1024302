"""Messages for a whole conversation: the developer and tool roles, assistant turns carrying
tool calls, and the message a call returned, sent back as it is."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chat_image import (
    AssistantMessage,
    ChatCompletion,
    DeveloperMessage,
    InvalidInputError,
    ToolMessage,
    UserMessage,
    parse_message,
)
from chat_image.testing import FakeGateway, Reply, tool_call
from conftest import Caller

CALL = tool_call("get_weather", {"city": "Paris"}, id="call_1")


def test_each_role_on_the_wire(call: Caller, server: FakeGateway) -> None:
    messages: list[Any] = [
        DeveloperMessage("Answer briefly."),
        UserMessage("Weather in Paris?"),
        AssistantMessage(tool_calls=[CALL]),
        ToolMessage("call_1", "18 C, sunny"),
        {"role": "developer", "content": "Use Celsius."},
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "18"}]},
    ]
    call(messages=messages)
    assert server.last.refusal is None
    assert server.last.json["messages"] == [
        {"role": "developer", "content": "Answer briefly."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "tool", "content": "18 C, sunny", "tool_call_id": "call_1"},
        {"role": "developer", "content": "Use Celsius."},
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "tool", "content": [{"type": "text", "text": "18"}], "tool_call_id": "call_1"},
    ]


def test_the_returned_message_goes_back_as_it_is(call: Caller, server: FakeGateway) -> None:
    server.queue(
        Reply(
            body={
                "id": "c1",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "tool_calls",
                        "message": {
                            "role": "assistant",
                            "content": None,
                            "refusal": None,
                            "tool_calls": [CALL],
                            # What a reasoning model's gateway adds: never sent back.
                            "reasoning_content": "Let me look it up.",
                        },
                    }
                ],
            }
        )
    )
    first = call(messages=[UserMessage("Weather in Paris?")], tools=[_WEATHER])
    message = first.choices[0].message
    call(
        messages=[UserMessage("Weather in Paris?"), message, ToolMessage("call_1", "18 C")],
        tools=[_WEATHER],
    )
    assert server.last.refusal is None
    assert server.last.json["messages"][1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [CALL],
    }


def test_a_text_answer_goes_back_with_its_text(call: Caller, server: FakeGateway) -> None:
    first = call()
    call(messages=[UserMessage("hi"), first.choices[0].message, UserMessage("and?")])
    assert server.last.json["messages"][1] == {
        "role": "assistant",
        "content": first.choices[0].message.content,
    }


_WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {}}}


def test_parse_message_gives_typed_messages() -> None:
    assert parse_message({"role": "developer", "content": "x"}) == DeveloperMessage("x")
    assert parse_message({"role": "tool", "tool_call_id": "c", "content": "r"}) == ToolMessage(
        "c", "r"
    )
    message = parse_message({"role": "assistant", "tool_calls": [CALL]})
    assert isinstance(message, AssistantMessage)
    assert message.content is None
    assert message.tool_calls is not None
    assert message.tool_calls[0].id == "call_1"
    assert message.tool_calls[0].function is not None
    assert message.tool_calls[0].function.arguments == '{"city": "Paris"}'


def test_a_tool_message_dict_round_trips() -> None:
    message = ToolMessage("call_9", "done")
    assert message.to_dict() == {"role": "tool", "content": "done", "tool_call_id": "call_9"}
    assert parse_message(message.to_dict()) == message
    assert json.loads(message.to_json()) == message.to_dict()


def test_dict_arguments_are_encoded_as_json_text() -> None:
    message = AssistantMessage(
        tool_calls=[{"id": "c", "type": "function", "function": {"name": "f", "arguments": {}}}]
    )
    assert message.to_dict()["tool_calls"][0]["function"]["arguments"] == "{}"


@pytest.mark.parametrize(
    ("message", "field", "problem"),
    [
        ({"role": "tool", "content": "x"}, "messages[0].tool_call_id", "missing"),
        ({"role": "tool", "tool_call_id": "", "content": "x"}, "messages[0].tool_call_id", "empty"),
        ({"role": "tool", "tool_call_id": 5, "content": "x"}, "messages[0].tool_call_id", "string"),
        ({"role": "tool", "tool_call_id": "c"}, "messages[0].content", "missing"),
        (
            {
                "role": "tool",
                "tool_call_id": "c",
                "content": [{"type": "image_url", "image_url": {"url": "https://x/a.png"}}],
            },
            "messages[0].content[0]",
            "text parts only",
        ),
        ({"role": "function", "content": "x"}, "messages[0].role", "'function' is not one of"),
        (
            {"role": "assistant", "tool_calls": {"id": "c"}},
            "messages[0].tool_calls",
            "expected a list of tool calls",
        ),
        (
            {
                "role": "assistant",
                "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{}"}}],
            },
            "messages[0].tool_calls[0].id",
            "missing",
        ),
        (
            {
                "role": "assistant",
                "tool_calls": [{"id": "c", "type": "function", "function": {"arguments": "{}"}}],
            },
            "messages[0].tool_calls[0].function.name",
            "missing",
        ),
        (
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "f", "arguments": 3}}
                ],
            },
            "messages[0].tool_calls[0].function.arguments",
            "JSON text",
        ),
        (
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "c", "type": "custom", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            "messages[0].tool_calls[0].type",
            "'custom'",
        ),
    ],
)
def test_bad_conversation_messages_are_refused_before_sending(
    call: Caller, server: FakeGateway, message: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        call(messages=[message])
    assert caught.value.field == field
    assert problem in caught.value.problem
    assert server.count == 0


def test_the_gateway_refuses_a_tool_turn_out_of_order(call: Caller, server: FakeGateway) -> None:
    from chat_image import BadRequestError

    with pytest.raises(BadRequestError) as caught:
        call(messages=[UserMessage("hi"), AssistantMessage(tool_calls=[CALL]), UserMessage("?")])
    assert "did not have response messages: call_1" in str(caught.value)
    assert server.count == 1


def _completion(**message: Any) -> ChatCompletion:
    return ChatCompletion.from_dict(
        {"id": "x", "choices": [{"index": 0, "message": {"role": "assistant", **message}}]}
    )


def test_a_refusal_is_kept_when_sent_back() -> None:
    message = _completion(content=None, refusal="I can't help with that.").choices[0].message
    assert parse_message(message).to_dict() == {
        "role": "assistant",
        "content": None,
        "refusal": "I can't help with that.",
    }
