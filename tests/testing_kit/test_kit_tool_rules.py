"""The fake gateway's tool-calling rules and its scripted tool-calling model, on their own."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chat_image.testing import Reply, tool_call
from chat_image.testing._recorded import Headers, RecordedRequest
from chat_image.testing._tools import ToolCaller, check_tool_messages, check_tool_options

CALL_A = tool_call("lookup", {"q": "a"}, id="call_a")
CALL_B = tool_call("lookup", {"q": "b"}, id="call_b")


def _assistant(*calls: dict[str, Any]) -> dict[str, Any]:
    return {"role": "assistant", "content": None, "tool_calls": list(calls)}


def _tool(call_id: str, content: str = "ok") -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


USER = {"role": "user", "content": "hi"}


@pytest.mark.parametrize(
    "messages",
    [
        [USER],
        [USER, _assistant(CALL_A), _tool("call_a")],
        [USER, _assistant(CALL_A, CALL_B), _tool("call_b"), _tool("call_a"), USER],
        [USER, _assistant(CALL_A), _tool("call_a"), _assistant(CALL_B), _tool("call_b")],
        [USER, {"role": "assistant", "content": "no tools"}, USER],
    ],
)
def test_a_well_ordered_conversation_passes(messages: list[dict[str, Any]]) -> None:
    assert check_tool_messages(messages) is None


def test_a_tool_message_without_a_call_before_it() -> None:
    refusal = check_tool_messages([USER, _tool("call_a")])
    assert refusal is not None
    assert refusal.status == 400
    assert refusal.param == "messages.[1].role"
    assert "role 'tool' must be a response to a preceeding message with 'tool_calls'" in (
        refusal.message
    )


def test_a_tool_message_answering_an_unknown_id() -> None:
    refusal = check_tool_messages([USER, _assistant(CALL_A), _tool("call_zzz")])
    assert refusal is not None
    assert refusal.param == "messages.[2].tool_call_id"
    assert "'tool_call_id' of 'call_zzz' not found in 'tool_calls'" in refusal.message


@pytest.mark.parametrize(
    "messages",
    [
        [USER, _assistant(CALL_A, CALL_B), _tool("call_a")],
        [USER, _assistant(CALL_A, CALL_B), _tool("call_a"), USER],
    ],
)
def test_a_call_left_unanswered(messages: list[dict[str, Any]]) -> None:
    refusal = check_tool_messages(messages)
    assert refusal is not None
    assert refusal.param == "messages.[1].role"
    assert refusal.message.endswith("did not have response messages: call_b")


def test_tool_options_need_tools() -> None:
    refusal = check_tool_options({"tool_choice": "auto"})
    assert refusal is not None
    assert refusal.param == "tool_choice"
    assert "only allowed when 'tools' are specified" in refusal.message
    refusal = check_tool_options({"parallel_tool_calls": False})
    assert refusal is not None
    assert refusal.param == "parallel_tool_calls"
    tools = [{"type": "function", "function": {"name": "lookup"}}]
    assert check_tool_options({"tools": tools, "tool_choice": "required"}) is None
    named = {"type": "function", "function": {"name": "other"}}
    refusal = check_tool_options({"tools": tools, "tool_choice": named})
    assert refusal is not None
    assert "function 'other'" in refusal.message


def _request(body: dict[str, Any]) -> RecordedRequest:
    data = json.dumps(body).encode()
    return RecordedRequest("POST", "/v1/chat/completions", Headers([]), data, len(data), "")


TOOLS = [{"type": "function", "function": {"name": "lookup"}}]


def test_tool_caller_asks_for_all_calls_then_answers_with_the_results() -> None:
    caller = ToolCaller(CALL_A, CALL_B)
    first = caller(_request({"messages": [USER], "tools": TOOLS}))
    assert first == Reply(tool_calls=[CALL_A, CALL_B])
    done = [USER, _assistant(CALL_A, CALL_B), _tool("call_a", "A!"), _tool("call_b", "B!")]
    final = caller(_request({"messages": done, "tools": TOOLS}))
    assert final == Reply(content="Tool results: A!; B!")


def test_tool_caller_one_call_per_answer_without_parallel_calls() -> None:
    caller = ToolCaller(CALL_A, CALL_B, answer=lambda results: " + ".join(results))
    body: dict[str, Any] = {"tools": TOOLS, "parallel_tool_calls": False}
    assert caller(_request({**body, "messages": [USER]})) == Reply(tool_calls=[CALL_A])
    after_a = [USER, _assistant(CALL_A), _tool("call_a", "1")]
    assert caller(_request({**body, "messages": after_a})) == Reply(tool_calls=[CALL_B])
    after_b = [*after_a, _assistant(CALL_B), _tool("call_b", "2")]
    assert caller(_request({**body, "messages": after_b})) == Reply(content="1 + 2")


def test_tool_caller_leaves_other_requests_to_the_queue() -> None:
    assert ToolCaller(CALL_A)(_request({"messages": [USER]})) is None
    with pytest.raises(ValueError, match="at least one tool call"):
        ToolCaller()
