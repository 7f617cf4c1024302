"""The exception tree: classes by status, what each carries, and one readable line each."""

from __future__ import annotations

import httpx
import pytest

import chat_image
from chat_image import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChatImageError,
    ConflictError,
    InternalServerError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from chat_image._exceptions import status_error, transport_error

REQUEST = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")


def response(status: int, content: bytes = b"", **headers: str) -> httpx.Response:
    return httpx.Response(status, content=content, headers=headers, request=REQUEST)


def test_one_base_class_and_openais_names():
    for name in chat_image.__all__:
        obj = getattr(chat_image, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, ChatImageError), name
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(APIConnectionError, APIError)
    assert issubclass(APIResponseValidationError, APIError)
    assert issubclass(APIStatusError, APIError)
    assert issubclass(InvalidInputError, ValueError)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),
        (599, InternalServerError),
        (408, APIStatusError),
        (418, APIStatusError),
        (302, APIStatusError),
    ],
)
def test_status_picks_the_class(status, cls):
    error = status_error(response(status, b"{}"))
    assert type(error) is cls
    assert error.status_code == status


def test_openai_style_error_body_is_parsed():
    body = (
        b'{"error": {"message": "Rate limit reached for gpt-4o", "type": "requests",'
        b' "param": null, "code": "rate_limit_exceeded"}}'
    )
    error = status_error(response(429, body, **{"x-request-id": "req_123"}))
    assert isinstance(error, RateLimitError)
    assert error.body == {
        "error": {
            "message": "Rate limit reached for gpt-4o",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }
    assert (error.error_message, error.type, error.param, error.code) == (
        "Rate limit reached for gpt-4o",
        "requests",
        None,
        "rate_limit_exceeded",
    )
    assert error.request_id == "req_123"
    assert error.request is REQUEST
    assert error.response.status_code == 429
    assert str(error) == (
        "Error code: 429 - Rate limit reached for gpt-4o "
        "(type=requests, code=rate_limit_exceeded, request_id=req_123)"
    )


def test_non_json_error_body_is_kept_as_text():
    html = b"<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body>\n</html>\n"
    error = status_error(response(502, html, **{"content-type": "text/html"}))
    assert isinstance(error, InternalServerError)
    assert error.body == html.decode()
    assert error.error_message is None
    assert str(error) == (
        "Error code: 502 - <html> <head><title>502 Bad Gateway</title></head> "
        "<body>nginx</body> </html>"
    )


def test_empty_error_body():
    error = status_error(response(500))
    assert error.body == ""
    assert str(error) == "Error code: 500 - (empty body)"


@pytest.mark.parametrize(
    "body",
    [
        b'{"error": "model overloaded"}',
        b'{"message": "model overloaded", "status": 503}',
        b'{"detail": "model overloaded"}',
    ],
)
def test_other_servers_error_shapes_still_give_the_message(body):
    error = status_error(response(503, body))
    assert error.error_message == "model overloaded"
    assert str(error) == "Error code: 503 - model overloaded"


def test_non_string_error_fields_are_shown_as_json():
    error = status_error(response(400, b'{"error": {"message": ["a", "b"], "code": 400}}'))
    assert error.error_message == '["a", "b"]'
    assert error.code == "400"


def test_unrecognised_json_error_body_is_shown_whole():
    error = status_error(response(400, b'{"errors": [1, 2]}'))
    assert error.body == {"errors": [1, 2]}
    assert str(error) == 'Error code: 400 - {"errors": [1, 2]}'


def test_a_long_body_is_cut_in_the_message_but_kept_whole_on_the_error():
    text = "x" * 5000
    error = status_error(response(500, text.encode()))
    assert error.body == text
    assert len(str(error)) < 300


def test_deeply_nested_error_body_is_kept_as_text():
    body = b"[" * 100_000
    error = status_error(response(500, body))
    assert isinstance(error, InternalServerError)
    assert error.body == body.decode()


def test_validation_error_carries_the_raw_body_and_request_id():
    error = APIResponseValidationError(
        response(
            200,
            b"<html>\n<p>Hello</p>\n</html>",
            **{"content-type": "text/html", "x-request-id": "r1"},
        ),
        "body is not JSON",
    )
    assert error.body == "<html>\n<p>Hello</p>\n</html>"
    assert error.status_code == 200
    assert error.request_id == "r1"
    assert str(error) == (
        "Invalid response (status 200, content-type text/html): body is not JSON"
        " - body: <html> <p>Hello</p> </html> (request_id=r1)"
    )


@pytest.mark.parametrize(
    ("exc", "cls", "text"),
    [
        (
            httpx.ConnectTimeout("x"),
            APITimeoutError,
            "Request to 127.0.0.1:80 timed out (connect timeout).",
        ),
        (
            httpx.ReadTimeout("x"),
            APITimeoutError,
            "Request to 127.0.0.1:80 timed out (read timeout).",
        ),
        (
            httpx.WriteTimeout("x"),
            APITimeoutError,
            "Request to 127.0.0.1:80 timed out (write timeout).",
        ),
        (
            httpx.PoolTimeout("x"),
            APITimeoutError,
            "Request to 127.0.0.1:80 timed out (pool timeout).",
        ),
        (
            httpx.ConnectError("[Errno 111]\nrefused"),
            APIConnectionError,
            "Connection error: could not reach 127.0.0.1:80: [Errno 111] refused",
        ),
        (
            httpx.RemoteProtocolError(""),
            APIConnectionError,
            "Connection error with 127.0.0.1:80: RemoteProtocolError",
        ),
        (
            httpx.DecodingError("bad gzip"),
            APIConnectionError,
            "Connection error with 127.0.0.1:80: bad gzip",
        ),
    ],
)
def test_transport_failures_become_connection_and_timeout_errors(exc, cls, text):
    error = transport_error(REQUEST, exc)
    assert type(error) is cls
    assert str(error) == text
    assert error.request is REQUEST


@pytest.mark.parametrize(
    "error",
    [
        InvalidInputError("messages[0].content[1].image_url.url", "scheme 'ftp' is not allowed"),
        APIConnectionError(request=REQUEST, message="Connection error:\n  reset\n"),
        APITimeoutError(request=REQUEST),
        status_error(response(500, b'{"error": {"message": "line one\\nline two"}}')),
        status_error(response(502, b"<html>\r\n<body>\n\nbad\n</body>\r\n</html>")),
        APIResponseValidationError(response(200, b"{\n\n"), "body is not JSON"),
        APIResponseValidationError(response(200), "empty body"),
    ],
)
def test_str_of_every_error_is_one_readable_line(error):
    text = str(error)
    assert text
    assert text == text.strip()
    assert "\n" not in text
    assert "\r" not in text
