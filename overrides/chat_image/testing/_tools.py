"""Tool calling in the fake gateway: the round trip's rules, and a scripted tool-calling model.

`check_tool_messages` refuses a conversation as OpenAI does (same messages, same `param`):
an assistant turn with `tool_calls` must be followed by one `tool` message per call id, and
a `tool` message must answer a call of the assistant turn before it. The gateway applies it
to every request it validates. `ToolCaller` is a `Responder` that plays a model using tools:
it asks for the calls it was given, then, once their results are back, answers in text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from ._contract import Refusal
from ._recorded import RecordedRequest
from ._replies import Reply

__all__ = ["ToolCaller", "check_tool_messages", "check_tool_options"]


def _role_param(index: int) -> str:
    # OpenAI's own spelling of the path in these errors.
    return f"messages.[{index}].role"


def check_tool_messages(messages: object) -> Refusal | None:
    """Why OpenAI would refuse this `messages` list's tool turns, or None if it takes them."""
    if not isinstance(messages, list):
        return None
    pending_index = -1
    call_ids: list[object] = []
    unanswered: list[object] = []
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping):
            continue
        role = message.get("role")
        if role == "tool":
            if pending_index < 0:
                return Refusal(
                    400,
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceeding message with 'tool_calls'.",
                    param=_role_param(index),
                )
            call_id = message.get("tool_call_id")
            if call_id not in call_ids:
                return Refusal(
                    400,
                    f"Invalid parameter: 'tool_call_id' of '{call_id}' not found in "
                    "'tool_calls' of previous message.",
                    param=f"messages.[{index}].tool_call_id",
                )
            if call_id in unanswered:
                unanswered.remove(call_id)
            continue
        if unanswered:
            return _unanswered(pending_index, unanswered)
        pending_index, call_ids, unanswered = -1, [], []
        calls = message.get("tool_calls") if role == "assistant" else None
        if isinstance(calls, list) and calls:
            pending_index = index
            call_ids = [call.get("id") for call in calls if isinstance(call, Mapping)]
            unanswered = list(call_ids)
    if unanswered:
        return _unanswered(pending_index, unanswered)
    return None


def _unanswered(index: int, ids: list[object]) -> Refusal:
    return Refusal(
        400,
        "An assistant message with 'tool_calls' must be followed by tool messages responding "
        "to each 'tool_call_id'. The following tool_call_ids did not have response messages: "
        + ", ".join(str(call_id) for call_id in ids),
        param=_role_param(index),
    )


def check_tool_options(body: Mapping[str, Any]) -> Refusal | None:
    """OpenAI's refusal of `tool_choice` / `parallel_tool_calls` without `tools`, or of a
    named `tool_choice` that no tool has."""
    tools = body.get("tools")
    for option in ("tool_choice", "parallel_tool_calls"):
        if option in body and not tools:
            return Refusal(
                400,
                f"Invalid value for '{option}': '{option}' is only allowed when 'tools' are "
                "specified.",
                param=option,
            )
    choice = body.get("tool_choice")
    if isinstance(choice, Mapping) and isinstance(tools, list):
        name = choice.get("function", {}).get("name") if isinstance(choice, Mapping) else None
        names = [
            tool.get("function", {}).get("name") for tool in tools if isinstance(tool, Mapping)
        ]
        if name not in names:
            return Refusal(
                400,
                f"Invalid value for 'tool_choice': function '{name}' is not one of the "
                "functions in 'tools'.",
                param="tool_choice",
            )
    return None


class ToolCaller:
    """A `Responder` playing a model that uses tools: `gateway.responder = ToolCaller(...)`.

    A request that offers `tools` is answered with the given `calls` (`tool_call(...)`
    dicts): all at once, or one per answer when the request says
    `parallel_tool_calls: false`. Each call counts as done once a `tool` message answers
    its id. When all are done the answer is text: `answer` (a string, or a function of the
    tool messages' contents), by default `"Tool results: "` and the contents joined with
    `"; "`, so that a test sees which results came back. A request without `tools` and
    without tool messages is left to the queue (the responder returns None).
    """

    def __init__(
        self,
        *calls: Mapping[str, Any],
        answer: str | Callable[[list[str]], str] | None = None,
    ) -> None:
        if not calls:
            raise ValueError("ToolCaller needs at least one tool call (tool_call(...))")
        self.calls = [dict(call) for call in calls]
        self.answer = answer

    def __call__(self, request: RecordedRequest) -> Reply | None:
        body = request.json
        if not isinstance(body, Mapping):
            return None
        messages = body.get("messages")
        messages = messages if isinstance(messages, list) else []
        results = [
            message
            for message in messages
            if isinstance(message, Mapping) and message.get("role") == "tool"
        ]
        done = {message.get("tool_call_id") for message in results}
        left = [call for call in self.calls if call.get("id") not in done]
        if not body.get("tools") and not results:
            return None
        if left and body.get("tools"):
            batch = left if body.get("parallel_tool_calls") is not False else left[:1]
            # Reply's converter (`tuple`) hides the field's type from mypy's attrs plugin.
            return Reply(tool_calls=cast(Any, batch))
        return Reply(content=self._final([_text(message.get("content")) for message in results]))

    def _final(self, contents: list[str]) -> str:
        if callable(self.answer):
            return self.answer(contents)
        if self.answer is not None:
            return self.answer
        return "Tool results: " + "; ".join(contents)


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return json.dumps(content)
