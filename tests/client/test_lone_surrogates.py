"""Text holding a lone UTF-16 surrogate cannot be sent as UTF-8 JSON: `create()` refuses it
as InvalidInputError naming the field, before anything is sent, on every client (issue 22)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chat_image import InvalidInputError, SystemMessage, TextPart, UserMessage
from conftest import Caller

LONE = "\ud83d"

# Built inside the test: a message holding the text may be refused as it is built.
CASES: dict[str, tuple[Callable[[], dict[str, Any]], str]] = {
    "a text part": (lambda: {"messages": [UserMessage([TextPart(f"hi {LONE}")])]}, "text"),
    "string content": (lambda: {"messages": [UserMessage(f"hi {LONE}")]}, "content"),
    "a system message": (
        lambda: {"messages": [SystemMessage(LONE), UserMessage("hi")]},
        "content",
    ),
    "a dict message": (
        lambda: {"messages": [{"role": "user", "content": f"hi {LONE}"}]},
        "messages[0].content",
    ),
    "the model": (lambda: {"model": f"gpt{LONE}"}, "model"),
    "stop": (lambda: {"stop": ["end", LONE]}, "stop"),
    "user": (lambda: {"user": LONE}, "user"),
    "an extra_body field": (lambda: {"extra_body": {"tag": {"deep": [LONE]}}}, "tag"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_lone_surrogate_is_refused_naming_the_field(call: Caller, case):
    kwargs, field = CASES[case]
    with pytest.raises(InvalidInputError) as raised:
        call(**kwargs())
    assert raised.value.field == field
    assert "surrogate" in str(raised.value)
    assert call.server.count == 0


def test_a_whole_surrogate_pair_is_just_an_emoji(call: Caller):
    call(messages=[UserMessage("hi \U0001f600")])
    assert call.server.last.json["messages"][0]["content"] == "hi \U0001f600"
