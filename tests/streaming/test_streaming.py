"""Streaming end to end against a real server on 127.0.0.1: chunks arrive as sent, typed,
with the final completion, usage, headers, and connections given back when a stream is left."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from chat_image import (
    AsyncChatImage,
    AsyncStream,
    ChatCompletion,
    ChatCompletionChunk,
    ChatImage,
    InvalidInputError,
    RetryTransport,
    Stream,
    UserMessage,
)
from chat_image.testing import Reply
from completions import completion
from conftest import API_KEY, KINDS, Caller, async_http_client
from streams import USAGE, WORDS, answer_events, chunk, event

ROOT = Path(__file__).resolve().parents[2]


def test_chunks_arrive_typed_and_add_up_to_the_final_completion(stream_call, server):
    server.default = Reply(stream_body=answer_events(), headers={"x-request-id": "req_s1"})
    outcome = stream_call.stream(final=True)
    assert outcome.error is None
    assert all(isinstance(c, ChatCompletionChunk) for c in outcome.chunks)
    assert outcome.text == "".join(WORDS)
    assert outcome.chunks[0].choices[0].delta.role == "assistant"
    assert outcome.chunks[-1].choices[0].finish_reason == "stop"
    assert outcome.chunks[1].id == "chatcmpl-Str123"
    assert outcome.chunks[1].object == "chat.completion.chunk"
    final = outcome.completion
    assert isinstance(final, ChatCompletion)
    assert final.choices[0].message.content == "".join(WORDS)
    assert final.choices[0].message.role == "assistant"
    assert final.choices[0].finish_reason == "stop"
    assert (final.id, final.model, final.object) == (
        "chatcmpl-Str123",
        "gpt-4o-2024-08-06",
        "chat.completion",
    )
    assert final.usage is None
    assert outcome.request_id == "req_s1"
    assert outcome.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert outcome.retries_taken == 0


def test_the_request_asks_for_a_stream_and_usage(stream_call, server):
    server.default = Reply(stream_body=answer_events(usage=True))
    outcome = stream_call.stream(final=True, stream_options={"include_usage": True})
    body = server.last.json
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    usage_chunk = outcome.chunks[-1]
    assert usage_chunk.choices == ()
    assert usage_chunk.usage is not None
    assert usage_chunk.usage.total_tokens == USAGE["total_tokens"]
    assert all(c.usage is None for c in outcome.chunks[:-1])
    assert outcome.completion is not None
    assert outcome.completion.usage == usage_chunk.usage


def test_a_call_without_stream_sends_neither_field(client: ChatImage, server):
    client.chat.completions.create(model="m", messages=[UserMessage("x")], max_tokens=1)
    assert "stream" not in server.last.json
    assert "stream_options" not in server.last.json


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"stream": "yes"}, "stream"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"stream": True, "stream_options": {"include_usage": 1}}, "stream_options.include_usage"),
        ({"stream": True, "stream_options": ["include_usage"]}, "stream_options"),
        ({"stream": True, "extra_body": {"stream": False}}, "stream"),
    ],
)
def test_bad_stream_arguments_are_refused_before_sending(client: ChatImage, server, kwargs, field):
    with pytest.raises(InvalidInputError) as caught:
        client.chat.completions.create(
            model="m", messages=[UserMessage("x")], max_tokens=1, **kwargs
        )
    assert caught.value.field == field
    assert server.count == 0


def test_unknown_and_missing_arguments_are_type_errors(client: ChatImage, server):
    with pytest.raises(TypeError, match="unexpected keyword argument 'temprature'"):
        client.chat.completions.create(  # type: ignore[call-overload]
            model="m", messages=[UserMessage("x")], max_tokens=1, temprature=0.5
        )
    with pytest.raises(TypeError, match="'max_tokens'"):
        client.chat.completions.create(model="m", messages=[UserMessage("x")])  # type: ignore[call-overload]
    assert server.count == 0


def test_a_gateway_that_ignores_stream_answers_with_one_equivalent_chunk(stream_call, server):
    server.default = Reply(body=completion("Whole answer."))
    outcome = stream_call.stream(final=True)
    assert outcome.error is None
    [only] = outcome.chunks
    assert only.object == "chat.completion.chunk"
    assert only.choices[0].delta.content == "Whole answer."
    assert only.choices[0].delta.role == "assistant"
    assert only.choices[0].finish_reason == "stop"
    assert only.usage is not None
    assert only.usage.total_tokens == 1130
    assert outcome.completion is not None
    assert outcome.completion.choices[0].message.content == "Whole answer."
    assert outcome.completion.usage == only.usage


@pytest.mark.parametrize("kind", KINDS)
def test_events_arrive_as_the_server_sends_them(server, kind):
    """The first chunk is handed out while the server is still holding back the rest."""
    import threading

    release = threading.Event()

    def pieces():
        yield event(chunk("first", role="assistant"))
        release.wait(10)
        yield event(chunk(" second", finish_reason="stop"))
        yield event(b"[DONE]")

    def first_of(chunk: ChatCompletionChunk) -> None:
        assert chunk.choices[0].delta.content == "first"
        assert not release.is_set()
        release.set()

    server.default = Reply(stream_body=pieces())
    create = {"model": "m", "messages": [UserMessage("x")], "max_tokens": 1, "stream": True}
    client = Caller(kind, server).make()
    if isinstance(client, ChatImage):
        with client, client.chat.completions.create(**create) as stream:
            first_of(next(stream))
            rest = [c.choices[0].delta.content for c in stream]
    else:

        async def main() -> list[str | None]:
            async with client, await client.chat.completions.create(**create) as stream:
                first_of(await anext(stream))
                return [c.choices[0].delta.content async for c in stream]

        rest = asyncio.run(main())
    assert rest == [" second"]


def _fail_inside(stream: Stream[ChatCompletionChunk]) -> None:
    with stream:
        next(stream)
        raise KeyError("the caller's own failure")


@pytest.mark.parametrize("how", ["break", "exception", "close"])
def test_streams_left_early_give_back_their_connection(server, how):
    """A pool of one connection: each stream left early must free it for the next one."""
    server.default = Reply(stream_body=itertools.repeat(event(chunk("x"))), pause=0.01)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    http = httpx.Client(limits=limits, timeout=httpx.Timeout(5.0, pool=2.0))
    with ChatImage(api_key=API_KEY, base_url=server.url, http_client=http) as client:
        for _ in range(4):
            stream = client.chat.completions.create(
                model="m", messages=[UserMessage("x")], max_tokens=1, stream=True
            )
            if how == "break":
                with stream:
                    for _ in stream:
                        break
            elif how == "exception":
                with pytest.raises(KeyError):
                    _fail_inside(stream)
            else:
                next(stream)
                stream.close()
    http.close()
    assert server.count == 4


def test_async_streams_left_early_give_back_their_connection(server, backend):
    server.default = Reply(stream_body=itertools.repeat(event(chunk("x"))), pause=0.01)

    async def main() -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        timeout = httpx.Timeout(5.0, pool=2.0)
        http = async_http_client(backend, limits=limits, timeout=timeout)
        async with AsyncChatImage(api_key=API_KEY, base_url=server.url, http_client=http) as ai:
            for round_ in range(4):
                stream = await ai.chat.completions.create(
                    model="m", messages=[UserMessage("x")], max_tokens=1, stream=True
                )
                if round_ % 2:
                    async with stream:
                        async for _ in stream:
                            break
                else:
                    await stream.__anext__()
                    await stream.close()
        await http.aclose()

    asyncio.run(main())
    assert server.count == 4


@pytest.mark.parametrize("kind", KINDS)
def test_a_finished_stream_reuses_its_connection(server, kind):
    streamed = Reply(stream_body=answer_events())
    server.queue(streamed, streamed, streamed, Reply(body=completion()))
    pool = {
        "limits": httpx.Limits(max_connections=1, max_keepalive_connections=1),
        "timeout": httpx.Timeout(5.0, pool=2.0),
    }
    create = {"model": "m", "messages": [UserMessage("x")], "max_tokens": 1}
    answer = "".join(WORDS)
    if kind == "sync":
        with (
            httpx.Client(**pool) as http,
            ChatImage(api_key=API_KEY, base_url=server.url, http_client=http) as client,
        ):
            for _ in range(3):
                with client.chat.completions.create(**create, stream=True) as stream:
                    assert stream.get_final_completion().choices[0].message.content == answer
            client.chat.completions.create(**create)
    else:

        async def main() -> None:
            http = async_http_client(kind.removeprefix("async-"), **pool)
            async with (
                http,
                AsyncChatImage(api_key=API_KEY, base_url=server.url, http_client=http) as client,
            ):
                for _ in range(3):
                    async with await client.chat.completions.create(**create, stream=True) as s:
                        final = await s.get_final_completion()
                        assert final.choices[0].message.content == answer
                await client.chat.completions.create(**create)

        asyncio.run(main())
    assert server.count == 4
    # One connection served all four: each finished stream left it reusable.
    assert len({r.client_port for r in server.requests}) == 1


def test_the_final_completion_of_a_stream_closed_early_is_refused(client: ChatImage, server):
    from chat_image import ChatImageError

    server.default = Reply(stream_body=answer_events())
    stream = client.chat.completions.create(
        model="m", messages=[UserMessage("x")], max_tokens=1, stream=True
    )
    next(stream)
    stream.close()
    with pytest.raises(ChatImageError, match="closed before its end"):
        stream.get_final_completion()


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_the_retry_transport_passes_a_stream_through_unbuffered(server, kind):
    """Through `client.api_client`'s transport (retries on), the first event is readable
    while the server still holds back the rest."""
    import threading

    release = threading.Event()

    def pieces():
        yield event(chunk("first"))
        release.wait(10)
        yield event(chunk(" rest", finish_reason="stop"))

    server.queue(Reply(status=503), Reply(stream_body=pieces()))
    transport = RetryTransport(max_retries=2, sleep=lambda _: None)
    body = {"model": "m", "messages": [], "max_tokens": 1, "stream": True}
    url = server.url + "/v1/chat/completions"
    auth = {"Authorization": f"Bearer {API_KEY}"}
    if kind == "sync":
        with (
            httpx.Client(transport=transport) as http,
            http.stream("POST", url, json=body, headers=auth) as response,
        ):
            first = next(response.iter_lines())
            assert not release.is_set()
            release.set()
    else:

        async def main() -> str:
            async def no_wait(_: float) -> None:
                pass

            transport._async_sleep = no_wait
            async with (
                httpx.AsyncClient(transport=transport) as http,
                http.stream("POST", url, json=body, headers=auth) as response,
            ):
                line = await anext(response.aiter_lines())
                assert not release.is_set()
                release.set()
                return line

        first = asyncio.run(main())
    assert json.loads(first.removeprefix("data: "))["choices"][0]["delta"]["content"] == "first"
    assert server.count == 2


def test_overloads_give_the_stream_type(tmp_path):
    snippet = textwrap.dedent(
        """
        from chat_image import AsyncChatImage, ChatImage, UserMessage

        client = ChatImage(api_key="k", base_url="http://127.0.0.1:1")
        m = [UserMessage("x")]
        reveal_type(client.chat.completions.create(model="m", messages=m, max_tokens=1))
        reveal_type(
            client.chat.completions.create(model="m", messages=m, max_tokens=1, stream=True)
        )
        flag: bool = bool(len(m))
        reveal_type(
            client.chat.completions.create(model="m", messages=m, max_tokens=1, stream=flag)
        )

        async def main() -> None:
            ai = AsyncChatImage(api_key="k", base_url="http://127.0.0.1:1")
            reveal_type(await ai.chat.completions.create(model="m", messages=m, max_tokens=1))
            reveal_type(
                await ai.chat.completions.create(
                    model="m", messages=m, max_tokens=1, stream=True,
                    stream_options={"include_usage": True},
                )
            )
            ai.chat.completions.create(model="m", messages=m)
        """
    )
    path = tmp_path / "snippet.py"
    path.write_text(snippet)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    revealed = [
        line.split("Revealed type is ")[1]
        for line in done.stdout.splitlines()
        if "Revealed" in line
    ]
    completion = f"{ChatCompletion.__module__}.ChatCompletion"
    completion_type = f'"{completion}"'
    chunk = f"{ChatCompletionChunk.__module__}.ChatCompletionChunk"
    stream_type = f"{Stream.__module__}.Stream[{chunk}]"
    assert revealed == [
        completion_type,
        f'"{stream_type}"',
        f'"{completion} | {stream_type}"',
        completion_type,
        f'"{stream_type.replace("Stream", "AsyncStream")}"',
    ], done.stdout
    # A missing required argument is a type error too.
    assert "max_tokens" in done.stdout


def test_stream_types_are_exported():
    import chat_image

    assert chat_image.Stream is Stream
    assert chat_image.AsyncStream is AsyncStream
    assert Stream.__module__ == AsyncStream.__module__
