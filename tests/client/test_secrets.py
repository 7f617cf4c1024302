"""The API key never shows where people look: reprs, errors, logs, recorded requests."""

from __future__ import annotations

import asyncio
import logging
import traceback

import httpx
import pytest

from chat_image import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncChatImage,
    AuthenticationError,
    ChatImage,
    ChatImageError,
    InvalidInputError,
    UserMessage,
)
from chat_image.testing import Reply
from completions import completion
from conftest import API_KEY, Caller


def test_generated_client_repr_hides_the_token_before_and_after_use():
    from chat_image_api import AuthenticatedClient

    api = AuthenticatedClient(base_url="http://127.0.0.1:9", token=API_KEY)
    assert API_KEY not in repr(api)
    # get_httpx_client() writes the Authorization header into the client's own headers.
    api.get_httpx_client()
    api.get_async_httpx_client()
    assert API_KEY not in repr(api)
    assert API_KEY not in str(api)
    assert "AuthenticatedClient(" in repr(api)


def _everything_printable(error: BaseException) -> str:
    """What a person or a log handler could see of an error without asking for the header."""
    shown = [str(error), repr(error), repr(vars(error)), *traceback.format_exception(error)]
    for name in ("request", "response"):
        obj = getattr(error, name, None)
        if obj is not None:
            shown += [repr(obj), repr(obj.headers), str(obj.headers)]
    return "\n".join(shown)


def test_friendly_clients_repr_hides_the_key(server):
    with ChatImage(api_key=API_KEY, base_url=server.url) as chat:
        chat.chat.completions.create(model="m", messages=[UserMessage("x")], max_tokens=1)
        for shown in (repr(chat), str(chat), repr(chat.api_client), repr(chat._settings)):
            assert API_KEY not in shown
        assert repr(chat).startswith("ChatImage(base_url=")

    async def main() -> list[str]:
        async with AsyncChatImage(api_key=API_KEY, base_url=server.url) as chat:
            await chat.chat.completions.create(model="m", messages=[UserMessage("x")], max_tokens=1)
            return [repr(chat), str(chat), repr(chat.api_client)]

    for shown in asyncio.run(main()):
        assert API_KEY not in shown


@pytest.mark.parametrize(
    ("reply", "error_type"),
    [
        (Reply(status=401, message="Incorrect API key provided"), AuthenticationError),
        (
            Reply(status=200, body=b"<html>nope</html>", headers={"Content-Type": "text/html"}),
            APIResponseValidationError,
        ),
        (Reply(fault="close"), APIConnectionError),
        (Reply(fault="hang"), APITimeoutError),
    ],
)
def test_no_error_shows_the_key(call: Caller, server, reply, error_type):
    server.default = reply
    # A tiny timeout only where no answer comes: a busy machine may be slower than 0.2 s.
    timeout = 0.2 if reply.fault == "hang" else None
    with pytest.raises(error_type) as caught:
        call(timeout=timeout, max_retries=1)
    assert API_KEY not in _everything_printable(caught.value)
    # The key did go out: the test would see it if an error printed the request headers.
    assert server.last.has_api_key(API_KEY)


def test_input_errors_do_not_show_the_key(call: Caller):
    with pytest.raises(InvalidInputError) as caught:
        call(max_tokens=0)
    assert API_KEY not in _everything_printable(caught.value)


def test_a_server_that_echoes_the_key_has_it_masked(call: Caller, server):
    message = f"Incorrect API key provided: {API_KEY}. Find your key at https://example.com"
    server.default = Reply(status=401, message=message)
    with pytest.raises(AuthenticationError) as caught:
        call()
    error = caught.value
    assert API_KEY not in _everything_printable(error)
    assert "Incorrect API key provided: [redacted]." in str(error)
    assert error.body["error"]["message"].startswith("Incorrect API key provided: [redacted]")

    server.default = Reply(status=200, body=f"<p>hello {API_KEY}</p>".encode())
    with pytest.raises(APIResponseValidationError) as caught_validation:
        call()
    assert API_KEY not in _everything_printable(caught_validation.value)


def test_debug_logs_do_not_show_the_key(call: Caller, server, caplog):
    server.queue(
        Reply(status=503), Reply(fault="close"), Reply(body=completion()), Reply(status=401)
    )
    with caplog.at_level(logging.DEBUG):
        call(client={"retry_policy": _no_wait()})
        with pytest.raises(ChatImageError):
            call()
    # httpx did log at debug level; over httpx's own transport httpcore did too, headers
    # being sent included. aiohttp logs no requests: nothing of httpcore runs there.
    names = {record.name for record in caplog.records}
    assert {"httpx", "chat_image"} <= names
    sent_headers = any("send_request_headers" in r.getMessage() for r in caplog.records)
    from_httpcore = any(name.startswith("httpcore") for name in names)
    assert sent_headers == from_httpcore == (call.backend == "httpx")
    logged = "\n".join(
        [caplog.text] + [f"{r.getMessage()} {r.args!r} {vars(r)!r}" for r in caplog.records]
    )
    assert API_KEY not in logged


def test_recorded_requests_do_not_show_the_key(server):
    """What httpx keeps of a sent request (on responses, errors and event hooks)."""
    seen: list[httpx.Request] = []
    with (
        httpx.Client(event_hooks={"request": [seen.append]}) as http,
        ChatImage(api_key=API_KEY, base_url=server.url, http_client=http) as chat,
    ):
        chat.chat.completions.create(model="m", messages=[UserMessage("x")], max_tokens=1)
    (request,) = seen
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    for shown in (repr(request), str(request.url), repr(request.headers), str(request.headers)):
        assert API_KEY not in shown


def _no_wait():
    from chat_image import RetryPolicy

    return RetryPolicy(initial_delay=0)


def test_a_transport_failure_quoting_the_header_has_the_key_masked():
    """h11 quotes an illegal header value whole; such a message must not carry the key."""
    from chat_image._exceptions import transport_error

    request = httpx.Request(
        "POST",
        "http://127.0.0.1/v1/chat/completions",
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    error = transport_error(
        request, httpx.LocalProtocolError(f"Illegal header value b'Bearer {API_KEY}\\x7f'")
    )
    assert API_KEY not in str(error)
    assert "[redacted]" in str(error)
