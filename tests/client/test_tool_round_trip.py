"""A whole tool-calling round trip: tools sent, `tool_calls` answered, the results sent back,
then the final answer; whole and streamed, sync and async, parallel calls or one at a time.

The fake gateway plays the model (`ToolCaller`) and refuses a conversation whose tool turns
are out of order, as OpenAI does; the tests read the requests it received.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from chat_image import (
    AsyncChatImage,
    ChatCompletion,
    ChatImage,
    ToolMessage,
    UserMessage,
)
from chat_image.testing import FakeGateway, ToolCaller, tool_call
from conftest import KINDS, Caller


def get_weather(city: str) -> str:
    """The weather in a city."""
    return {"Paris": "18 C", "Oslo": "4 C"}[city]


PARIS = tool_call("get_weather", {"city": "Paris"}, id="call_paris")
OSLO = tool_call("get_weather", {"city": "Oslo"}, id="call_oslo")
FUNCTIONS = {"get_weather": get_weather}


def _results(completion: ChatCompletion) -> list[ToolMessage]:
    """What the program answers to each call: the function run on the model's arguments."""
    calls = completion.choices[0].message.tool_calls or ()
    results = []
    for call in calls:
        assert call.id is not None
        assert call.function is not None
        assert call.function.name is not None
        assert call.function.arguments is not None
        arguments = json.loads(call.function.arguments)
        results.append(ToolMessage(call.id, FUNCTIONS[call.function.name](**arguments)))
    return results


def _agent(client: ChatImage, stream: bool, **create: Any) -> tuple[ChatCompletion, list[Any]]:
    """The loop a user writes: call, run the tools asked for, send the results, repeat."""
    messages: list[Any] = [UserMessage("Weather in Paris and Oslo?")]
    for _ in range(5):
        if stream:
            with client.chat.completions.create(
                model="m", messages=messages, max_tokens=50, stream=True, **create
            ) as chunks:
                for _chunk in chunks:
                    pass
                completion = chunks.get_final_completion()
        else:
            completion = client.chat.completions.create(
                model="m", messages=messages, max_tokens=50, **create
            )
        message = completion.choices[0].message
        if not message.tool_calls:
            return completion, messages
        messages.append(message)  # the returned message, as it is
        messages.extend(_results(completion))
    raise AssertionError("the model never answered")


async def _async_agent(
    client: AsyncChatImage, stream: bool, **create: Any
) -> tuple[ChatCompletion, list[Any]]:
    messages: list[Any] = [UserMessage("Weather in Paris and Oslo?")]
    for _ in range(5):
        if stream:
            async with await client.chat.completions.create(
                model="m", messages=messages, max_tokens=50, stream=True, **create
            ) as chunks:
                async for _chunk in chunks:
                    pass
                completion = await chunks.get_final_completion()
        else:
            completion = await client.chat.completions.create(
                model="m", messages=messages, max_tokens=50, **create
            )
        message = completion.choices[0].message
        if not message.tool_calls:
            return completion, messages
        messages.append(message)
        messages.extend(_results(completion))
    raise AssertionError("the model never answered")


def _run(caller: Caller, stream: bool, **create: Any) -> ChatCompletion:
    if caller.kind == "sync":
        with caller.make() as client:
            assert isinstance(client, ChatImage)
            return _agent(client, stream, **create)[0]

    async def main() -> ChatCompletion:
        async with caller.make() as client:
            assert isinstance(client, AsyncChatImage)
            return (await _async_agent(client, stream, **create))[0]

    return asyncio.run(main())


@pytest.fixture(params=KINDS)
def caller(request: pytest.FixtureRequest, server: FakeGateway) -> Caller:
    return Caller(request.param, server)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_parallel_calls_in_one_turn(caller: Caller, server: FakeGateway, stream: bool) -> None:
    server.responder = ToolCaller(PARIS, OSLO)
    final = _run(caller, stream, tools=[get_weather], parallel_tool_calls=True)
    assert final.choices[0].message.content == "Tool results: 18 C; 4 C"
    assert final.choices[0].finish_reason == "stop"
    first, second = server.requests
    assert first.refusal is None
    assert second.refusal is None
    assert first.json["parallel_tool_calls"] is True
    assert first.json["tools"][0]["function"]["name"] == "get_weather"
    assert [m["role"] for m in second.json["messages"]] == ["user", "assistant", "tool", "tool"]
    assistant = second.json["messages"][1]
    assert assistant["content"] is None
    assert assistant["tool_calls"] == [PARIS, OSLO]
    assert second.json["messages"][2:] == [
        {"role": "tool", "content": "18 C", "tool_call_id": "call_paris"},
        {"role": "tool", "content": "4 C", "tool_call_id": "call_oslo"},
    ]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_one_call_per_turn(caller: Caller, server: FakeGateway, stream: bool) -> None:
    server.responder = ToolCaller(PARIS, OSLO)
    final = _run(caller, stream, tools=[get_weather], parallel_tool_calls=False)
    assert final.choices[0].message.content == "Tool results: 18 C; 4 C"
    assert server.count == 3
    roles = [m["role"] for m in server.last.json["messages"]]
    assert roles == ["user", "assistant", "tool", "assistant", "tool"]
    assert all(request.refusal is None for request in server.requests)


def test_a_forced_tool_and_a_streamed_call_arrive_whole(server: FakeGateway) -> None:
    server.responder = ToolCaller(PARIS)
    choice = {"type": "function", "function": {"name": "get_weather"}}
    with (
        ChatImage(api_key="sk-test-3f9a1c0b7e5d", base_url=server.base_url) as client,
        client.chat.completions.create(
            model="m",
            messages=[UserMessage("Paris?")],
            max_tokens=50,
            tools=[get_weather],
            tool_choice=choice,
            stream=True,
        ) as chunks,
    ):
        pieces = [c.choices[0].delta.tool_calls for c in chunks if c.choices]
        completion = chunks.get_final_completion()
    # The arguments came in several deltas, and were joined.
    assert sum(1 for piece in pieces if piece) >= 2
    assert server.last.json["tool_choice"] == choice
    calls = completion.choices[0].message.tool_calls
    assert calls is not None
    assert calls[0].function is not None
    assert json.loads(calls[0].function.arguments or "") == {"city": "Paris"}
