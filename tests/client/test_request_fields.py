"""The typed request fields of `create()`: structured output, tools, log probabilities and the
reasoning models' options. Each is sent as given (the gateway's contract checks its shape)
and refused before sending, naming the field, when it is wrong.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from chat_image import InvalidInputError
from chat_image._structured.tools import function_tool
from chat_image.testing import FakeGateway
from conftest import Caller

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "receipt",
        "schema": {"type": "object", "properties": {"total": {"type": "number"}}},
        "strict": False,
    },
}


def get_time(zone: str) -> str:
    """The time in a time zone."""
    return zone


@dataclasses.dataclass
class Lookup:
    """Look a word up."""

    word: str


@pytest.mark.parametrize(
    "fields",
    [
        {"response_format": {"type": "text"}},
        {"response_format": {"type": "json_object"}},
        {"response_format": SCHEMA_FORMAT},
        {"tools": [WEATHER]},
        {"tools": [WEATHER], "tool_choice": "auto"},
        {"tools": [WEATHER], "tool_choice": "none"},
        {"tools": [WEATHER], "tool_choice": "required"},
        {
            "tools": [WEATHER],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        },
        {"tools": [WEATHER], "parallel_tool_calls": False},
        {"logprobs": True},
        {"logprobs": True, "top_logprobs": 5},
        {"logprobs": True, "top_logprobs": 0},
        {"max_completion_tokens": 2048},
        {"reasoning_effort": "low"},
        {"reasoning_effort": "minimal"},
        {"logit_bias": {"50256": -100, "1234": 7}},
    ],
)
def test_each_field_is_sent_as_given(
    call: Caller, server: FakeGateway, fields: dict[str, Any]
) -> None:
    call(**fields)
    body = server.last.json
    assert server.last.refusal is None
    for name, value in fields.items():
        assert body[name] == value


def test_fields_left_as_none_are_not_sent(call: Caller, server: FakeGateway) -> None:
    call(
        response_format=None,
        tools=None,
        tool_choice=None,
        parallel_tool_calls=None,
        logprobs=None,
        top_logprobs=None,
        max_completion_tokens=None,
        reasoning_effort=None,
        logit_bias=None,
    )
    assert set(server.last.json) == {"model", "messages", "max_tokens"}


def test_token_ids_may_be_integers(call: Caller, server: FakeGateway) -> None:
    call(logit_bias={50256: -100})
    assert server.last.json["logit_bias"] == {"50256": -100}


def test_tools_built_from_functions_classes_and_dicts(call: Caller, server: FakeGateway) -> None:
    call(tools=[WEATHER, get_time, Lookup, function_tool(get_time, name="now", strict=True)])
    tools = server.last.json["tools"]
    assert tools[0] == WEATHER
    assert tools[1] == function_tool(get_time)
    assert tools[1]["function"]["name"] == "get_time"
    assert tools[2]["function"]["name"] == "Lookup"
    assert tools[2]["function"]["parameters"]["required"] == ["word"]
    assert tools[3]["function"]["name"] == "now"
    assert tools[3]["function"]["strict"] is True


def test_unknown_keys_of_a_tool_go_through(call: Caller, server: FakeGateway) -> None:
    tool = {**WEATHER, "cache_control": {"type": "ephemeral"}}
    call(tools=[tool])
    assert server.last.json["tools"] == [tool]


def test_the_same_fields_in_extra_body_are_checked_too(call: Caller, server: FakeGateway) -> None:
    with pytest.raises(InvalidInputError) as caught:
        call(extra_body={"top_logprobs": 50, "logprobs": True})
    assert caught.value.field == "top_logprobs"
    assert server.count == 0
    call(extra_body={"reasoning_effort": "high"})
    assert server.last.json["reasoning_effort"] == "high"


@dataclasses.dataclass
class Receipt:
    total: float


BAD_FORMAT_NAME = {"type": "json_schema", "json_schema": {"name": "a receipt", "schema": {}}}


@pytest.mark.parametrize(
    ("fields", "field", "problem"),
    [
        ({"response_format": "json"}, "response_format", "expected a mapping"),
        ({"response_format": {"type": "xml"}}, "response_format.type", "'xml' is not one of"),
        ({"response_format": {}}, "response_format.type", "missing"),
        ({"response_format": Receipt}, "response_format", "parse()"),
        (
            {"response_format": {"type": "json_schema"}},
            "response_format.json_schema",
            "missing",
        ),
        ({"response_format": BAD_FORMAT_NAME}, "response_format.json_schema.name", "a receipt"),
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "r", "schema": [1]},
                }
            },
            "response_format.json_schema.schema",
            "expected a JSON Schema object",
        ),
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "r", "strict": "yes"},
                }
            },
            "response_format.json_schema.strict",
            "expected True or False",
        ),
        ({"tools": WEATHER}, "tools", "expected a list of tools"),
        ({"tools": []}, "tools", "empty"),
        ({"tools": [{"type": "function"}]}, "tools[0].function", "missing"),
        ({"tools": [{"type": "web", "function": {}}]}, "tools[0].type", "'web'"),
        (
            {"tools": [{"type": "function", "function": {"name": "a b"}}]},
            "tools[0].function.name",
            "'a b'",
        ),
        (
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": "x"}}]},
            "tools[0].function.parameters",
            "expected a JSON Schema object",
        ),
        ({"tools": [WEATHER, WEATHER]}, "tools[1].function.name", "given twice"),
        ({"tools": [42]}, "tools[0]", "takes a function"),
        ({"tool_choice": "auto"}, "tool_choice", "only with tools="),
        ({"tools": [WEATHER], "tool_choice": "any"}, "tool_choice", "'any' is not one of"),
        (
            {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "x"}}},
            "tool_choice.function.name",
            "'x' is not one of the tools",
        ),
        ({"tools": [WEATHER], "parallel_tool_calls": 1}, "parallel_tool_calls", "True or False"),
        ({"parallel_tool_calls": True}, "parallel_tool_calls", "only with tools="),
        ({"logprobs": "yes"}, "logprobs", "True or False"),
        ({"top_logprobs": 3}, "top_logprobs", "logprobs=True"),
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs", "an integer from 0 to 20"),
        ({"logprobs": True, "top_logprobs": True}, "top_logprobs", "an integer"),
        ({"max_completion_tokens": 0}, "max_completion_tokens", "positive integer"),
        ({"max_completion_tokens": 1.5}, "max_completion_tokens", "positive integer"),
        ({"reasoning_effort": "max"}, "reasoning_effort", "'max' is not one of"),
        ({"logit_bias": [1]}, "logit_bias", "expected a mapping"),
        ({"logit_bias": {"abc": 1}}, "logit_bias", "'abc' is not a token id"),
        ({"logit_bias": {"5": 101}}, "logit_bias.5", "an integer from -100 to 100"),
        ({"logit_bias": {"5": 1.5}}, "logit_bias.5", "an integer"),
    ],
)
def test_bad_fields_are_refused_before_sending(
    call: Caller, server: FakeGateway, fields: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        call(**fields)
    assert caught.value.field == field
    assert problem in caught.value.problem
    assert server.count == 0
