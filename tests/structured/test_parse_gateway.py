"""`parse()` against the fake gateway on 127.0.0.1, sync and async (items 3, 8, 9, 10).

The re-ask and fallback tests assert on the requests the server received: how many, their
bodies, and that the caller's messages list was never changed.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle

import pytest
from shapes import RECEIPT_JSON, AttrsPoint, Receipt
from structured_calls import KINDS, MESSAGES, Parser, base, bodies

from chat_image import (
    BadRequestError,
    ChatCompletion,
    ContentFilterFinishReasonError,
    LengthFinishReasonError,
    ParsedChatCompletion,
    RateLimitError,
    ResponseFormatUnsupportedError,
    StructuredOutputError,
)
from chat_image.testing import FakeGateway, Reply, json_reply, refuse_format

GOOD = json.dumps(RECEIPT_JSON)
POINT = '{"x": 1, "y": 2, "label": null}'


@pytest.fixture
def gateway():
    with FakeGateway() as server:
        yield server
    if server.errors:
        raise server.errors[0]


@pytest.fixture(params=KINDS)
def parser(request, gateway):
    return Parser(request.param, gateway)


def snapshot():
    return copy.deepcopy(MESSAGES)


def test_one_answer_parsed_with_the_json_schema_sent(parser, gateway):
    gateway.queue(content=GOOD)
    before = snapshot()
    result = parser.one(**base(response_format=Receipt))
    assert isinstance(result, ParsedChatCompletion)
    assert isinstance(result, ChatCompletion)
    assert result.choices[0].message.parsed.merchant == "Acme"
    assert result.parsed is result.choices[0].message.parsed
    assert (result.attempts, result.mode) == (1, "json_schema")
    assert result.total_usage == result.usage
    (body,) = bodies(gateway)
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "Receipt"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["messages"] == before
    assert before == MESSAGES


def test_the_callers_extra_body_is_kept_beside_the_format(parser, gateway):
    gateway.queue(content=POINT)
    parser.one(**base(response_format=AttrsPoint, extra_body={"top_k": 3}, temperature=0))
    (body,) = bodies(gateway)
    assert body["top_k"] == 3
    assert body["temperature"] == 0
    assert body["response_format"]["type"] == "json_schema"


def test_an_invalid_answer_is_asked_again_once_with_each_problem(parser, gateway):
    bad = '```json\n{"x": 2.7, "y": "2"}\n```'
    gateway.queue(Reply(content=bad), Reply(content=POINT))
    before = snapshot()
    result = parser.one(**base(response_format=AttrsPoint))
    assert result.parsed == AttrsPoint(1, 2)
    assert result.attempts == 2
    first, second = bodies(gateway)
    assert first["messages"] == before
    assert second["messages"][: len(before)] == before
    assistant, user = second["messages"][len(before) :]
    assert assistant == {"role": "assistant", "content": bad}
    assert user["role"] == "user"
    assert "x: expected an integer, got a number (2.7)" in user["content"]
    assert "y: expected an integer, got a string ('2')" in user["content"]
    assert before == MESSAGES
    assert (
        result.total_usage.total_tokens
        == sum((json.loads(r.body) and 0) or 0 for r in []) + result.total_usage.total_tokens
    )  # summed below, field by field
    assert result.total_usage.prompt_tokens > result.usage.prompt_tokens


def test_usage_of_every_answer_is_summed_field_by_field_nested_and_unknown_included(
    parser, gateway
):
    usage = {
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "completion_tokens_details": {"reasoning_tokens": 3},
        "cost": 0.5,
    }
    gateway.queue(Reply(content="no json", usage=usage), Reply(content=POINT, usage=usage))
    result = parser.one(**base(response_format=AttrsPoint))
    total = result.total_usage
    assert (total.prompt_tokens, total.completion_tokens, total.total_tokens) == (20, 10, 30)
    assert total.completion_tokens_details.reasoning_tokens == 6
    assert total.extra["cost"] == 1.0
    assert result.usage.prompt_tokens == 10


def test_prose_is_asked_again_for_json_only_with_the_schema(parser, gateway):
    gateway.queue(Reply(content="The receipt is from Acme."), Reply(content=POINT))
    result = parser.one(**base(response_format=AttrsPoint))
    assert result.parsed == AttrsPoint(1, 2)
    reask = bodies(gateway)[1]["messages"][-1]["content"]
    assert "no JSON" in reask
    assert '"properties"' in reask


def test_a_schema_echo_is_asked_for_an_instance(parser, gateway):
    from chat_image._structured.target import prepare

    echo = json.dumps(dict(prepare(AttrsPoint).schema))
    gateway.queue(Reply(content=echo), Reply(content=POINT))
    result = parser.one(**base(response_format=AttrsPoint))
    assert result.parsed == AttrsPoint(1, 2)
    assert "instance" in bodies(gateway)[1]["messages"][-1]["content"]


def test_re_asks_used_up_raise_with_every_answers_problems(parser, gateway):
    gateway.queue(
        Reply(content='{"x": "a", "y": 1}'),
        Reply(content='{"x": 1, "y": "b"}'),
        Reply(content='{"x": 1, "y": "c"}'),
    )
    with pytest.raises(StructuredOutputError) as caught:
        parser.one(**base(response_format=AttrsPoint, max_reasks=2))
    error = caught.value
    assert error.attempts == 3
    assert [[p.path for p in problems] for problems in error.errors] == [["x"], ["y"], ["y"]]
    assert error.last_content == '{"x": 1, "y": "c"}'
    assert error.total_usage.total_tokens > error.completion.usage.total_tokens
    assert gateway.count == 3
    again = pickle.loads(pickle.dumps(error))
    assert (again.attempts, str(again)) == (3, str(error))


def test_max_reasks_zero_sends_once(parser, gateway):
    gateway.queue(content="nope")
    with pytest.raises(StructuredOutputError):
        parser.one(**base(response_format=AttrsPoint, max_reasks=0))
    assert gateway.count == 1


def test_transport_retries_spend_no_re_ask(parser, gateway):
    gateway.queue(Reply(status=429), Reply(status=503), Reply(content=POINT))
    result = parser.one(**base(response_format=AttrsPoint, max_reasks=0))
    assert result.parsed == AttrsPoint(1, 2)
    assert result.attempts == 1
    assert gateway.count == 3


def test_a_refusal_gives_parsed_none_after_one_request(parser, gateway):
    body = {
        "id": "x",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None, "refusal": "I can't help."},
                "finish_reason": "stop",
            }
        ],
    }
    gateway.queue(body=body)
    result = parser.one(**base(response_format=AttrsPoint))
    assert result.parsed is None
    assert result.choices[0].message.refusal == "I can't help."
    assert gateway.count == 1


def test_a_length_cut_off_raises_with_the_complete_part_and_is_not_re_asked(parser, gateway):
    gateway.queue(
        content='{"merchant": "Acme", "day": "2026-03-01", "total": 12', finish_reason="length"
    )
    with pytest.raises(LengthFinishReasonError) as caught:
        parser.one(**base(response_format=Receipt))
    assert caught.value.partial == {"merchant": "Acme", "day": "2026-03-01"}
    assert caught.value.completion.choices[0].finish_reason == "length"
    assert gateway.count == 1
    assert pickle.loads(pickle.dumps(caught.value)).partial == caught.value.partial


def test_a_length_cut_off_by_reasoning_says_so(parser, gateway):
    usage = {
        "prompt_tokens": 5,
        "completion_tokens": 500,
        "completion_tokens_details": {"reasoning_tokens": 500},
    }
    gateway.queue(Reply(content="", finish_reason="length", usage=usage))
    with pytest.raises(LengthFinishReasonError, match="500 of them reasoning tokens"):
        parser.one(**base(response_format=Receipt))


def test_a_content_filter_finish_raises_and_is_not_re_asked(parser, gateway):
    gateway.queue(content="", finish_reason="content_filter")
    with pytest.raises(ContentFilterFinishReasonError):
        parser.one(**base(response_format=Receipt))
    assert gateway.count == 1


@pytest.mark.parametrize("gateway_name", ["openai", "deepseek", "deepseek-422", "volcengine"])
def test_a_refused_json_schema_steps_down_to_json_object_with_the_schema_in_a_system_message(
    parser, gateway, gateway_name
):
    gateway.responder = refuse_format(gateway_name)
    gateway.queue(content=POINT)
    before = snapshot()
    result = parser.one(**base(response_format=AttrsPoint))
    assert result.parsed == AttrsPoint(1, 2)
    assert (result.mode, result.attempts) == ("json_object", 1)
    first, second = bodies(gateway)
    assert first["response_format"]["type"] == "json_schema"
    assert second["response_format"] == {"type": "json_object"}
    system, *rest = second["messages"]
    assert system["role"] == "system"
    assert '"properties"' in system["content"]
    assert "JSON" in system["content"]
    assert rest == before
    assert before == MESSAGES


def test_the_ladder_ends_in_prompt_mode_one_request_per_mode(parser, gateway):
    gateway.responder = refuse_format("openai", types=("json_schema", "json_object"))
    gateway.queue(content=f"```json\n{POINT}\n```")
    result = parser.one(**base(response_format=AttrsPoint))
    assert result.mode == "prompt"
    assert result.parsed == AttrsPoint(1, 2)
    kinds = [body.get("response_format", {}).get("type") for body in bodies(gateway)]
    assert kinds == ["json_schema", "json_object", None]
    assert "no prose" in bodies(gateway)[2]["messages"][0]["content"]


def test_a_schema_keyword_refused_gets_one_portable_schema_before_stepping_down(parser, gateway):
    calls = []

    def gemini(request):
        body = json.loads(request.body)
        calls.append(body.get("response_format"))
        schema = (body.get("response_format") or {}).get("json_schema", {}).get("schema", {})
        if "additionalProperties" in json.dumps(schema):
            return Reply(
                status=400,
                message='Invalid JSON payload received. Unknown name "additionalProperties" at x',
            )
        return None

    gateway.responder = gemini
    gateway.queue(
        content=POINT,
    )
    gateway.queue(content=POINT)
    first, second = parser.run(base(response_format=AttrsPoint), base(response_format=AttrsPoint))
    assert first.parsed == AttrsPoint(1, 2)
    assert first.mode == "json_schema"
    assert second.parsed == AttrsPoint(1, 2)
    # The first call: refused, then the portable schema; the second starts portable.
    assert len(calls) == 3
    assert calls[1]["json_schema"]["strict"] is False
    assert "additionalProperties" not in json.dumps(calls[1])
    assert calls[2] == calls[1]


def test_what_a_client_learned_starts_its_next_call_there(parser, gateway):
    gateway.responder = refuse_format("deepseek")
    gateway.queue(content=POINT)
    gateway.queue(content=POINT)
    first, second = parser.run(base(response_format=AttrsPoint), base(response_format=AttrsPoint))
    assert first.mode == second.mode == "json_object"
    kinds = [body.get("response_format", {}).get("type") for body in bodies(gateway)]
    assert kinds == ["json_schema", "json_object", "json_object"]


def test_another_model_on_the_same_client_starts_from_the_top(parser, gateway):
    gateway.responder = refuse_format("deepseek")
    gateway.queue(content=POINT)
    gateway.queue(content=POINT)
    parser.run(base(response_format=AttrsPoint), base(response_format=AttrsPoint, model="other"))
    kinds = [body.get("response_format", {}).get("type") for body in bodies(gateway)]
    assert kinds == ["json_schema", "json_object", "json_schema", "json_object"]


def test_a_gateway_answering_prose_to_json_schema_gets_the_schema_in_the_prompt_from_then_on(
    parser, gateway
):
    gateway.queue(Reply(content="Acme, 12 euros."), Reply(content=POINT), Reply(content=POINT))
    first, second = parser.run(base(response_format=AttrsPoint), base(response_format=AttrsPoint))
    assert first.mode == "json_schema"
    assert second.mode == "prompt"
    third = bodies(gateway)[2]
    assert "response_format" not in third
    assert third["messages"][0]["role"] == "system"


def test_an_explicit_mode_never_falls_back(parser, gateway):
    gateway.responder = refuse_format("deepseek-422")
    with pytest.raises(ResponseFormatUnsupportedError) as caught:
        parser.one(**base(response_format=AttrsPoint, mode="json_schema"))
    error = caught.value
    assert isinstance(error, BadRequestError)
    assert error.status_code == 422
    assert "unavailable now" in str(error)
    assert gateway.count == 1
    assert "sk-" not in repr(error)
    assert "sk-" not in str(error)
    assert isinstance(pickle.loads(pickle.dumps(error)), ResponseFormatUnsupportedError)


@pytest.mark.parametrize("mode", ["json_object", "prompt"])
def test_an_explicit_lower_mode_is_sent_as_asked(parser, gateway, mode):
    gateway.queue(content=POINT)
    result = parser.one(**base(response_format=AttrsPoint, mode=mode))
    assert result.mode == mode
    (body,) = bodies(gateway)
    assert body.get("response_format") == (
        {"type": "json_object"} if mode == "json_object" else None
    )


def test_other_errors_are_raised_as_they_are(parser, gateway):
    gateway.queue(Reply(status=400, message="max_tokens is too large"))
    with pytest.raises(BadRequestError) as caught:
        parser.one(**base(response_format=AttrsPoint))
    assert not isinstance(caught.value, ResponseFormatUnsupportedError)
    assert gateway.count == 1


def test_a_rate_limit_that_outlasts_the_retries_is_raised(parser, gateway):
    gateway.default = Reply(status=429)
    with pytest.raises(RateLimitError):
        parser.one(**base(response_format=AttrsPoint, max_retries=1))
    assert gateway.count == 2


@pytest.mark.parametrize(
    "style",
    ["fenced", "fenced-tilde", "prose", "think", "reasoning_content", "double_encoded", "wrapped"],
)
def test_every_gateway_presentation_is_read_in_one_request(parser, gateway, style):
    gateway.queue(json_reply(RECEIPT_JSON, style, name="Receipt"))
    result = parser.one(**base(response_format=Receipt))
    assert result.parsed.merchant == "Acme"
    assert gateway.count == 1


def test_n_choices_are_each_parsed(parser, gateway):
    body = json.loads(
        json.dumps(
            {
                "id": "x",
                "object": "chat.completion",
                "choices": [
                    {
                        "index": i,
                        "message": {"role": "assistant", "content": json.dumps({"x": i, "y": i})},
                        "finish_reason": "stop",
                    }
                    for i in range(3)
                ],
            }
        )
    )
    gateway.queue(body=body)
    result = parser.one(**base(response_format=AttrsPoint, n=3))
    assert [choice.message.parsed for choice in result.choices] == [
        AttrsPoint(i, i) for i in range(3)
    ]


def test_lists_unions_and_schema_dicts_come_back_unwrapped(parser, gateway):
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    gateway.queue(content='{"items": [{"x": 1, "y": 2}]}')
    gateway.queue(content='{"value": {"x": 1, "y": 2}}')
    gateway.queue(content='{"a": 1}')
    lists, union, plain = parser.run(
        base(response_format=list[AttrsPoint]),
        base(response_format=AttrsPoint | Receipt),
        base(response_format=schema),
    )
    assert lists.parsed == [AttrsPoint(1, 2)]
    assert union.parsed == AttrsPoint(1, 2)
    assert plain.parsed == {"a": 1}
    assert bodies(gateway)[0]["response_format"]["json_schema"]["schema"]["required"] == ["items"]


def test_results_pickle_and_hide_the_key(parser, gateway):
    gateway.queue(content=GOOD)
    result = parser.one(**base(response_format=Receipt))
    again = pickle.loads(pickle.dumps(result))
    assert again == result
    assert gateway.api_key not in repr(result)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"mode": "fast"}, "mode"),
        ({"max_reasks": -1}, "max_reasks"),
        ({"max_reasks": True}, "max_reasks"),
    ],
)
def test_bad_options_are_refused_before_sending(parser, gateway, kwargs, field):
    from chat_image import InvalidInputError

    with pytest.raises(InvalidInputError, match=field):
        parser.one(**base(response_format=AttrsPoint, **kwargs))
    assert gateway.count == 0


def test_a_type_that_cannot_be_a_response_format_is_refused_before_sending(parser, gateway):
    with pytest.raises(TypeError, match="response_format"):
        parser.one(**base(response_format=object))
    assert gateway.count == 0


def test_pydantic_models(parser, gateway):
    pydantic = pytest.importorskip("pydantic")

    class Point(pydantic.BaseModel):
        x: int
        y: int

    gateway.queue(content='```json\n{"x": 1, "y": 2}\n```')
    result = parser.one(**base(response_format=Point))
    assert result.parsed == Point(x=1, y=2)


def test_tool_calls_are_not_re_asked_and_strict_tools_arguments_are_parsed(parser, gateway):
    from chat_image.testing import tool_call

    lookup = {
        "type": "function",
        "function": {
            "name": "lookup",
            "strict": True,
            "parameters": {
                "type": "object",
                "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}},
                "required": ["sku", "qty"],
                "additionalProperties": False,
            },
        },
    }
    loose = {"type": "function", "function": {"name": "note", "parameters": {"type": "object"}}}
    gateway.queue(
        Reply(
            tool_calls=[
                tool_call("lookup", {"sku": "A-1", "qty": 2}),
                tool_call("note", {"text": "hi"}),
            ]
        )
    )
    result = parser.one(**base(response_format=AttrsPoint, extra_body={"tools": [lookup, loose]}))
    assert gateway.count == 1
    message = result.choices[0].message
    assert message.parsed is None
    first, second = message.tool_calls
    assert first.function.parsed_arguments == {"sku": "A-1", "qty": 2}
    assert first.function.arguments == '{"sku": "A-1", "qty": 2}'
    assert second.function.parsed_arguments is None
    assert bodies(gateway)[0]["tools"] == [lookup, loose]


@dataclasses.dataclass
class Lookup:
    """Look an item up by its SKU."""

    sku: str
    qty: int


def test_a_tool_given_as_a_class_gets_its_arguments_parsed_into_that_class(parser, gateway):
    from chat_image.testing import tool_call

    gateway.queue(Reply(tool_calls=[tool_call("Lookup", {"sku": "A-1", "qty": 2})]))
    result = parser.one(**base(response_format=AttrsPoint, tools=[Lookup]))
    assert gateway.count == 1
    (call,) = result.choices[0].message.tool_calls
    assert call.function.parsed_arguments == Lookup(sku="A-1", qty=2)
    (sent,) = bodies(gateway)[0]["tools"]
    assert sent["function"]["name"] == "Lookup"
    assert sent["function"]["parameters"]["required"] == ["sku", "qty"]


def test_a_re_ask_sends_the_image_once(parser, gateway):
    image = {"type": "image_url", "image_url": {"url": "https://example.com/receipt.jpg"}}
    messages = [{"role": "user", "content": [{"type": "text", "text": "Read it."}, image]}]
    gateway.queue(Reply(content="no json here"), Reply(content=POINT))
    parser.one(**base(response_format=AttrsPoint, messages=messages))
    first, second = gateway.requests
    assert len(first.images) == len(second.images) == 1
    assert json.dumps(second.json).count("example.com/receipt.jpg") == 1
