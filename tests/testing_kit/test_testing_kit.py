"""chat_image.testing.FakeGateway: answers, faults, recordings and the contract, over real HTTP."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

import chat_image
from chat_image import ImagePart, TextPart, UserMessage
from chat_image.testing import (
    DEFAULT_CONTENT,
    FakeGateway,
    Reply,
    tool_call,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
KEY = "sk-kit-test-7c1d9e2f"
ASK = {"model": "gpt-4o", "messages": [UserMessage("hi")], "max_tokens": 5}


@pytest.fixture
def gateway():
    with FakeGateway(api_key=KEY) as running:
        yield running


def _post(gateway: FakeGateway, body: object, **headers: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {KEY}", **headers}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(gateway.base_url + "/chat/completions", content=content, headers=headers)


def _body(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 5,
    }
    body.update(changes)
    return body


# -- answers ----------------------------------------------------------------------------------


def test_queued_answers_come_in_order_then_the_default(gateway: FakeGateway):
    gateway.queue(content="first")
    gateway.queue(Reply(content="second", finish_reason="length"))
    with gateway.client() as client:
        answers = [client.chat.completions.create(**ASK) for _ in range(3)]
    assert [a.choices[0].message.content for a in answers] == ["first", "second", DEFAULT_CONTENT]
    assert [a.choices[0].finish_reason for a in answers] == ["stop", "length", "stop"]
    assert gateway.queued == 0
    assert gateway.count == 3


def test_usage_is_counted_or_given_or_left_out(gateway: FakeGateway):
    gateway.queue(usage={"prompt_tokens": 7, "completion_tokens": 3})
    gateway.queue(usage=False)
    gateway.queue(content="one two three")
    with gateway.client() as client:
        given, absent, counted = (client.chat.completions.create(**ASK) for _ in range(3))
    assert given.usage is not None
    assert (given.usage.prompt_tokens, given.usage.total_tokens) == (7, 10)
    assert absent.usage is None
    assert counted.usage is not None
    assert counted.usage.completion_tokens == 3


def test_a_tool_call_answer_has_null_content_and_finish_reason_tool_calls(gateway: FakeGateway):
    call = tool_call("get_weather", {"city": "Paris"})
    gateway.queue(tool_calls=[call])
    message = _post(gateway, _body()).json()["choices"][0]
    assert message["finish_reason"] == "tool_calls"
    assert message["message"]["content"] is None
    assert message["message"]["tool_calls"] == [call]
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    assert call["id"] == tool_call("get_weather", {"city": "Paris"})["id"]


def test_the_model_is_echoed_unless_the_reply_names_one(gateway: FakeGateway):
    gateway.queue(model="gpt-4o-2024-08-06")
    assert _post(gateway, _body(model="my-model")).json()["model"] == "gpt-4o-2024-08-06"
    assert _post(gateway, _body(model="my-model")).json()["model"] == "my-model"


def test_an_error_answer_carries_its_status_headers_and_openai_body(gateway: FakeGateway):
    gateway.queue(status=429, headers={"x-request-id": "req_42"}, message="Slow down")
    with gateway.client(max_retries=0) as client, pytest.raises(chat_image.RateLimitError) as err:
        client.chat.completions.create(**ASK)
    assert err.value.request_id == "req_42"
    assert err.value.error_message == "Slow down"
    assert err.value.code == "rate_limit_exceeded"


def test_the_ready_client_retries_a_429_without_waiting(gateway: FakeGateway):
    gateway.queue(status=429, headers={"Retry-After": "30"})
    gateway.queue(content="after the retry")
    with gateway.client() as client:
        answer = client.chat.completions.create(**ASK)
    assert answer.choices[0].message.content == "after the retry"
    assert gateway.count == 2


def test_a_raw_body_replaces_the_rendered_one(gateway: FakeGateway):
    gateway.queue(
        body="<html>bad gateway</html>", status=502, headers={"Content-Type": "text/html"}
    )
    response = _post(gateway, _body())
    assert (response.status_code, response.text) == (502, "<html>bad gateway</html>")
    assert response.headers["content-type"] == "text/html"


def test_a_default_answer_can_be_set(gateway: FakeGateway):
    gateway.default = Reply(content="always this")
    assert _post(gateway, _body()).json()["choices"][0]["message"]["content"] == "always this"


def test_queue_takes_a_reply_or_fields_not_both(gateway: FakeGateway):
    with pytest.raises(TypeError):
        gateway.queue(Reply(), content="x")
    with pytest.raises(TypeError, match="Reply objects"):
        gateway.queue(Reply(), {"content": "x"})  # type: ignore[arg-type]
    assert gateway.queued == 0


def test_queue_takes_several_replies_in_order(gateway: FakeGateway):
    last = gateway.queue(Reply(status=503), Reply(content="second"), Reply(content="third"))
    assert last == Reply(content="third")
    assert gateway.queued == 3
    assert _post(gateway, _body()).status_code == 503
    contents = [_post(gateway, _body()).json()["choices"][0]["message"]["content"] for _ in "ab"]
    assert contents == ["second", "third"]


def test_a_raw_body_is_never_streamed(gateway: FakeGateway):
    gateway.queue(body={"id": "x", "choices": []})
    response = _post(gateway, _body(stream=True))
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"id": "x", "choices": []}


def test_each_request_records_the_port_it_came_from(gateway: FakeGateway):
    with httpx.Client() as one, httpx.Client() as other:
        for http in (one, one, other):
            http.post(
                gateway.base_url + "/chat/completions",
                json=_body(),
                headers={"Authorization": f"Bearer {KEY}"},
            )
    first, again, elsewhere = (request.client_port for request in gateway.requests)
    assert first == again != elsewhere
    assert first > 0


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"status": 99}, "status"),
        ({"delay": -1}, "delay"),
        ({"pause": float("nan")}, "pause"),
        ({"fault": "explode"}, "fault"),
        ({"fault": "pings_only", "stream": False}, "stream fault"),
        ({"tool_calls": [{"name": "f"}]}, "tool_call()"),
        ({"stream_body": b"data: x\n\n"}, "iterable of bytes"),
        ({"stream_body": [b"data: x\n\n", "text"]}, r"stream_body\[1\]"),
        ({"stream_body": [b"x"], "stream": False}, "neither stream=False nor body"),
        ({"stream_body": [b"x"], "body": b"y"}, "neither stream=False nor body"),
        ({"stream_body": [b"x"], "fault": "error_event"}, "not a stream_body"),
    ],
)
def test_a_reply_refuses_bad_fields(fields, problem):
    with pytest.raises(ValueError, match=problem):
        Reply(**fields)


# -- responders -------------------------------------------------------------------------------


def test_a_responder_answers_from_the_request_and_none_falls_through(gateway: FakeGateway):
    def respond(request):
        text = request.json["messages"][0]["content"]
        return Reply(content=text.upper()) if text.startswith("echo") else None

    gateway.responder = respond
    gateway.queue(content="queued")
    assert (
        _post(gateway, _body(messages=[{"role": "user", "content": "echo me"}])).json()["choices"][
            0
        ]["message"]["content"]
        == "ECHO ME"
    )
    assert _post(gateway, _body()).json()["choices"][0]["message"]["content"] == "queued"


def test_a_responder_that_raises_is_answered_500_and_kept():
    boom = RuntimeError("bug in the test")
    with FakeGateway(api_key=KEY) as gateway:

        def respond(_):
            raise boom

        gateway.responder = respond
        assert _post(gateway, _body()).status_code == 500
    assert gateway.errors == [boom]


# -- faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["close", "drop_mid_body"])
def test_connection_faults_end_in_a_connection_error(gateway: FakeGateway, fault):
    gateway.queue(fault=fault)
    with gateway.client(max_retries=0) as client, pytest.raises(chat_image.APIConnectionError):
        client.chat.completions.create(**ASK)


def test_a_dropped_body_sends_its_headers_and_half_the_body(gateway: FakeGateway):
    gateway.queue(fault="drop_mid_body")
    with _open_stream(gateway) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            response.read()


@pytest.mark.parametrize("fields", [{"fault": "hang"}, {"delay": 30}])
def test_an_answer_that_never_comes_or_comes_late_times_out(gateway: FakeGateway, fields):
    gateway.queue(**fields)
    with (
        gateway.client(max_retries=0, timeout=0.2) as client,
        pytest.raises(chat_image.APITimeoutError),
    ):
        client.chat.completions.create(**ASK)


def test_a_slow_answer_arrives(gateway: FakeGateway):
    gateway.queue(content="eventually", delay=0.05)
    with gateway.client() as client:
        assert client.chat.completions.create(**ASK).choices[0].message.content == "eventually"


def test_stopping_ends_a_hanging_answer():
    gateway = FakeGateway(api_key=KEY).start()
    gateway.queue(fault="hang")
    outcome: list[object] = []

    def call():
        try:
            outcome.append(_post(gateway, _body()))
        except httpx.HTTPError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    while gateway.count == 0:
        threading.Event().wait(0.01)
    gateway.stop()
    caller.join()
    assert isinstance(outcome[0], httpx.RemoteProtocolError)


# -- recordings -------------------------------------------------------------------------------


def test_requests_are_recorded_with_the_key_masked(gateway: FakeGateway):
    with gateway.client(default_headers={"X-Trace": "t-1"}) as client:
        client.chat.completions.create(**ASK)
    request = gateway.last
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == "Bearer [masked]"
    assert request.headers["X-TRACE"] == "t-1"
    assert request.has_api_key(KEY)
    assert not request.has_api_key(KEY + "x")
    assert KEY not in repr(request)
    assert KEY not in repr(gateway.requests)
    assert request.json["max_tokens"] == 5
    assert request.size == len(request.body)
    assert request.sha256 == hashlib.sha256(request.body).hexdigest()
    assert request.refusal is None


def test_images_are_decoded_from_their_data_urls(gateway: FakeGateway):
    parts = [
        TextPart("compare"),
        ImagePart.from_bytes(PNG, detail="low"),
        ImagePart.from_url("https://example.com/cat.png"),
    ]
    with gateway.client() as client:
        client.chat.completions.create(model="m", messages=[UserMessage(parts)], max_tokens=5)
    first, second = gateway.last.images
    assert (first.field, first.media_type, first.data, first.detail) == (
        "messages[0].content[1]",
        "image/png",
        PNG,
        "low",
    )
    assert (second.url, second.data) == ("https://example.com/cat.png", None)


def test_a_broken_data_url_is_named_when_images_are_read(gateway: FakeGateway):
    part = {"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}
    _post(gateway, _body(messages=[{"role": "user", "content": [part]}]))
    with pytest.raises(ValueError, match=r"messages\[0\]\.content\[0\]\.image_url\.url"):
        _ = gateway.last.images


def test_without_kept_bodies_only_size_and_hash_are_recorded():
    body = json.dumps(_body(messages=[{"role": "user", "content": "x" * 100_000}])).encode()
    with FakeGateway(api_key=KEY, keep_bodies=False) as gateway:
        with httpx.Client() as http:
            for chunked in (False, True):
                content = iter([body]) if chunked else body
                http.post(
                    gateway.base_url + "/chat/completions",
                    content=content,
                    headers={"Authorization": f"Bearer {KEY}"},
                ).raise_for_status()
        for request in gateway.requests:
            assert (request.body, request.size) == (b"", len(body))
            assert request.sha256 == hashlib.sha256(body).hexdigest()
            with pytest.raises(ValueError, match="not kept"):
                _ = request.json


def test_last_and_clear(gateway: FakeGateway):
    with pytest.raises(IndexError):
        _ = gateway.last
    gateway.queue(content="never used")
    _post(gateway, _body(max_tokens=1))
    _post(gateway, _body(max_tokens=2))
    assert gateway.last.json["max_tokens"] == 2
    gateway.clear()
    assert (gateway.count, gateway.queued) == (0, 0)


def test_concurrent_requests_are_all_recorded(gateway: FakeGateway):
    async def main():
        async with gateway.async_client() as client:
            calls = [
                client.chat.completions.create(**{**ASK, "max_tokens": n}) for n in range(1, 41)
            ]
            return await asyncio.gather(*calls)

    assert len(asyncio.run(main())) == 40
    assert sorted(r.json["max_tokens"] for r in gateway.requests) == list(range(1, 41))


def test_requests_answered_at_once_are_counted_and_the_most_kept(gateway: FakeGateway):
    together = threading.Barrier(3, timeout=30)

    def respond(_) -> None:  # None: the default answers, once all three are being answered
        together.wait()

    gateway.responder = respond
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda n: _post(gateway, _body(max_tokens=n)), range(1, 4)))
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert (gateway.in_flight, gateway.max_in_flight) == (0, 3)

    gateway.responder = None
    gateway.clear()
    assert gateway.max_in_flight == 0
    for n in range(2):  # one after another: each answer is done before the next request
        _post(gateway, _body(max_tokens=n + 1))
    assert (gateway.in_flight, gateway.max_in_flight) == (0, 1)


def test_an_answer_still_going_is_in_flight_and_survives_clear():
    ended: list[BaseException] = []

    def ask(gateway: FakeGateway) -> None:
        try:
            _post(gateway, _body())
        except httpx.HTTPError as exc:  # the gateway stopped: the hanging answer ends unsent
            ended.append(exc)

    with FakeGateway(api_key=KEY) as gateway:
        gateway.queue(fault="hang")
        waiting = threading.Thread(target=ask, args=(gateway,))
        waiting.start()
        while gateway.count == 0:  # a request is counted in flight as it is recorded
            waiting.join(0.01)
        assert (gateway.in_flight, gateway.max_in_flight) == (1, 1)
        gateway.clear()
        assert (gateway.in_flight, gateway.max_in_flight) == (1, 1)
    waiting.join()
    assert len(ended) == 1
    assert gateway.in_flight == 0


def test_it_is_an_async_context_manager_too():
    async def main():
        async with FakeGateway() as gateway, gateway.async_client() as client:
            gateway.queue(content="async")
            answer = await client.chat.completions.create(**ASK)
        return gateway, answer.choices[0].message.content

    gateway, content = asyncio.run(main())
    assert content == "async"
    with pytest.raises(RuntimeError, match="not running"):
        _ = gateway.url


# -- the contract -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "param", "message"),
    [
        (_body(max_tokens=None) | {}, 400, "max_tokens", "Invalid type for 'max_tokens'"),
        (
            {k: v for k, v in _body().items() if k != "max_tokens"},
            400,
            "max_tokens",
            "Missing required parameter: 'max_tokens'.",
        ),
        (
            _body(messages=[{"role": "user", "content": [{"text": "no type"}]}]),
            400,
            "messages[0].content[0].type",
            "Missing required parameter: 'messages[0].content[0].type'.",
        ),
        (
            _body(messages=[{"role": "user", "content": {"type": "text"}}]),
            400,
            "messages[0].content",
            "expected one of a string or an array, but got an object",
        ),
        (
            _body(
                messages=[
                    {
                        "role": "user",
                        "content": [
                            {"type": "image_url", "image_url": {"url": "x", "detail": "max"}}
                        ],
                    }
                ]
            ),
            400,
            "messages[0].content[0].image_url.detail",
            "Invalid value: 'max'. Supported values are: 'auto', 'low', and 'high'.",
        ),
        (
            _body(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]),
            400,
            "messages[0].content[0].image_url.url",
            "Missing required parameter",
        ),
        (_body(max_tokens="5"), 400, "max_tokens", "expected an integer, but got a string"),
        ([1, 2], 400, None, "Invalid type for the request body: expected an object"),
        (b"{not json", 400, None, "could not parse the JSON body"),
        (b"", 400, None, "body is missing"),
    ],
)
def test_requests_the_gateway_would_refuse_get_its_400(gateway, body, status, param, message):
    gateway.queue(content="not for a refused request")
    response = _post(gateway, body)
    error = response.json()["error"]
    assert response.status_code == status
    assert (error["param"], error["type"]) == (param, "invalid_request_error")
    assert message in error["message"]
    assert gateway.last.refusal == error["message"]
    assert gateway.queued == 1  # a refused request uses no queued answer


def test_a_float_with_an_integer_value_is_an_integer(gateway: FakeGateway):
    assert _post(gateway, _body(max_tokens=5.0)).status_code == 200
    assert _post(gateway, _body(max_tokens=5.5)).status_code == 400


def test_fields_beyond_the_spec_are_let_through(gateway: FakeGateway):
    response = _post(gateway, _body(temperature=0.2, stream_options={"include_usage": False}))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"Authorization": "Bearer sk-wrong-key-123"}, "invalid_api_key"),
        ({"Authorization": ""}, None),
    ],
)
def test_a_wrong_or_missing_key_is_answered_401(gateway: FakeGateway, headers, code):
    response = _post(gateway, _body(), **headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert "sk-wrong" not in response.text


def test_an_unknown_route_is_404(gateway: FakeGateway):
    response = httpx.get(gateway.url + "/v1/models", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid URL (GET /v1/models)"


def test_without_validation_anything_is_answered():
    with FakeGateway(validate=False) as gateway:
        response = httpx.post(gateway.url + "/anything", content=b"not json")
        assert response.status_code == 200
        assert gateway.last.path == "/anything"


def test_without_an_api_key_any_bearer_is_accepted():
    with FakeGateway(api_key=None) as gateway:
        response = httpx.post(
            gateway.base_url + "/chat/completions",
            json=_body(),
            headers={"Authorization": "Bearer anything"},
        )
        assert response.status_code == 200
        assert gateway.last.has_api_key("anything")


# -- streams (read with plain httpx until the client streams) ---------------------------------


@contextlib.contextmanager
def _open_stream(gateway: FakeGateway, **body: object) -> Iterator[httpx.Response]:
    """A streamed request to the gateway, read with plain httpx, its response still open."""
    with (
        httpx.Client() as http,
        http.stream(
            "POST",
            gateway.base_url + "/chat/completions",
            json=_body(stream=True, **body),
            headers={"Authorization": f"Bearer {KEY}"},
        ) as response,
    ):
        yield response


def _stream(gateway: FakeGateway, **body: object) -> tuple[httpx.Headers, list[str]]:
    with _open_stream(gateway, **body) as response:
        return response.headers, [line for line in response.iter_lines() if line]


def _events(lines: list[str]) -> list[dict[str, object]]:
    return [json.loads(line[len("data: ") :]) for line in lines if line != "data: [DONE]"]


def test_a_streamed_answer_is_openai_sse_in_chunks(gateway: FakeGateway):
    gateway.queue(content="Hello there, world", stream=True, pause=0.01)
    headers, lines = _stream(gateway)
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["transfer-encoding"] == "chunked"
    assert lines[-1] == "data: [DONE]"
    events = _events(lines)
    assert {event["object"] for event in events} == {"chat.completion.chunk"}
    deltas = [event["choices"][0]["delta"] for event in events]
    assert deltas[0]["role"] == "assistant"
    assert "".join(d.get("content") or "" for d in deltas) == "Hello there, world"
    finishes = [event["choices"][0]["finish_reason"] for event in events]
    assert finishes == [None] * (len(events) - 1) + ["stop"]
    assert "usage" not in events[-1]


def test_a_stream_ends_with_a_usage_chunk_when_asked(gateway: FakeGateway):
    _, lines = _stream(gateway, stream_options={"include_usage": True})
    events = _events(lines)
    assert events[-1]["choices"] == []
    assert events[-1]["usage"]["total_tokens"] > 0
    assert all(event["usage"] is None for event in events[:-1])


def test_a_streamed_answer_follows_the_request_unless_told(gateway: FakeGateway):
    gateway.queue(stream=False)
    assert _stream(gateway)[0]["content-type"] == "application/json"
    assert _stream(gateway)[1][-1] == "data: [DONE]"


def test_streamed_tool_calls_come_as_deltas(gateway: FakeGateway):
    call = tool_call("lookup", {"q": "cats"})
    gateway.queue(tool_calls=[call])
    events = _events(_stream(gateway)[1])
    pieces = [
        delta["tool_calls"][0]
        for delta in (event["choices"][0]["delta"] for event in events)
        if "tool_calls" in delta
    ]
    assert pieces[0]["id"] == call["id"]
    assert pieces[0]["function"]["name"] == "lookup"
    assert "".join(p["function"]["arguments"] for p in pieces) == call["function"]["arguments"]
    assert events[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_a_cut_off_stream_ends_before_finish_reason_without_done(gateway: FakeGateway):
    gateway.queue(content="one two three four", fault="drop_mid_body", stream=True)
    lines: list[str] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        _open_stream(gateway) as response,
    ):
        lines.extend(line for line in response.iter_lines() if line)
    assert lines
    assert all(event["choices"][0]["finish_reason"] is None for event in _events(lines))
    assert "data: [DONE]" not in lines


def _raw_stream(gateway: FakeGateway, *, keep: int | None = None) -> tuple[httpx.Response, bytes]:
    """The status and body bytes of one streamed answer; `keep` pieces, then the client leaves."""
    received = b""
    with _open_stream(gateway) as response:
        for index, piece in enumerate(response.iter_raw()):
            received += piece
            if keep is not None and index + 1 >= keep:
                break
    return response, received


def test_a_stream_body_is_sent_as_given_each_piece_as_it_comes(gateway: FakeGateway):
    """Each piece goes out before the next is made: the second waits for the client."""
    first_read = threading.Event()

    def pieces():
        yield b"data: one\n\n"
        yield b""  # sends nothing: an empty HTTP chunk would end the body
        first_read.wait(10)
        yield b"da"
        yield b"ta: two\n\n"

    gateway.queue(stream_body=pieces(), status=202, headers={"x-request-id": "req_raw"})
    received = b""
    with (
        httpx.Client() as http,
        http.stream(
            "POST",
            gateway.base_url + "/chat/completions",
            json=_body(),  # not asking for a stream: the reply streams anyway
            headers={"Authorization": f"Bearer {KEY}"},
        ) as response,
    ):
        for piece in response.iter_raw():
            received += piece
            if received == b"data: one\n\n":
                first_read.set()
    assert first_read.is_set()
    assert received == b"data: one\n\ndata: two\n\n"
    assert (response.status_code, response.headers["x-request-id"]) == (202, "req_raw")
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["transfer-encoding"] == "chunked"


def test_a_cut_stream_body_sends_every_piece_then_closes(gateway: FakeGateway):
    gateway.queue(stream_body=[b"data: one\n\n", b'data: {"cho'], fault="cut")
    received: list[bytes] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        _open_stream(gateway) as response,
    ):
        received.extend(response.iter_raw())
    assert b"".join(received) == b'data: one\n\ndata: {"cho'


def test_a_cut_rendered_stream_ends_after_done_without_ending_the_body(gateway: FakeGateway):
    gateway.queue(content="one two", fault="cut")
    lines: list[str] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        _open_stream(gateway) as response,
    ):
        lines.extend(line for line in response.iter_lines() if line)
    assert lines[-1] == "data: [DONE]"
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in _events(lines)) == (
        "one two"
    )


def test_an_endless_stream_body_runs_until_the_client_leaves(gateway: FakeGateway):
    gateway.queue(stream_body=itertools.repeat(b": ping\n\n"), pause=0.01)
    response, received = _raw_stream(gateway, keep=3)
    assert response.status_code == 200
    assert received.startswith(b": ping\n\n" * 3)
    # The gateway is still serving: the endless answer ended with its client.
    assert _post(gateway, _body()).status_code == 200
    assert gateway.count == 2


@pytest.mark.parametrize(("fault", "done"), [("error_event", False), ("error_event_flat", True)])
def test_an_error_event_comes_in_either_form(gateway: FakeGateway, fault, done):
    gateway.queue(content="one two three four", fault=fault, message="model overloaded")
    _, lines = _stream(gateway)
    assert (lines[-1] == "data: [DONE]") is done
    errors = [e for e in _events(lines) if "error" in e or e.get("object") == "error"]
    assert len(errors) == 1
    error = errors[0].get("error", errors[0])
    assert error["message"] == "model overloaded"


def test_a_stream_of_pings_sends_only_comments(gateway: FakeGateway):
    gateway.queue(fault="pings_only", pause=0.01)
    with _open_stream(gateway) as response:
        lines = []
        for line in response.iter_lines():
            if line:
                lines.append(line)
            if len(lines) == 3:
                break
    assert lines == [": ping"] * 3


def test_a_malformed_data_line_is_one_among_good_ones(gateway: FakeGateway):
    gateway.queue(content="a b", fault="malformed_event")
    _, lines = _stream(gateway)
    broken = []
    for line in lines:
        if line == "data: [DONE]":
            continue
        try:
            json.loads(line[len("data: ") :])
        except ValueError:
            broken.append(line)
    assert len(broken) == 1
    assert lines[-1] == "data: [DONE]"


def test_an_error_status_is_json_even_for_a_stream_request(gateway: FakeGateway):
    gateway.queue(status=503, stream=True)
    headers, lines = _stream(gateway)
    assert headers["content-type"] == "application/json"
    assert json.loads(lines[0])["error"]["type"] == "server_error"


def test_the_data_url_of_an_image_is_what_was_sent(gateway: FakeGateway):
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    part = {"type": "image_url", "image_url": {"url": url}}
    _post(gateway, _body(messages=[{"role": "user", "content": [part]}]))
    assert gateway.last.images[0].data == PNG
