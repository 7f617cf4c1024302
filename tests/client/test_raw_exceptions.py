"""Input that used to escape as a bare Python or httpx exception is an InvalidInputError naming
the field, raised before anything is sent; and the messages of a few errors say enough to act.
"""

from __future__ import annotations

import math
import os
import socket
import threading

import pytest

from chat_image import (
    APIConnectionError,
    APIStatusError,
    AsyncChatImage,
    ChatImage,
    ImagePart,
    ImageURL,
    InvalidImageError,
    InvalidInputError,
    TextPart,
    UnknownPart,
    UserMessage,
)
from chat_image.testing import Reply
from conftest import API_KEY

NOT_JSON = {"bytes": b"\x00", "set": {1, 2}, "nan": math.nan, "inf": [math.inf]}


@pytest.mark.parametrize("value", NOT_JSON.values(), ids=NOT_JSON.keys())
@pytest.mark.parametrize(
    ("messages", "field"),
    [
        (lambda v: [{"role": "user", "content": "hi", "meta": v}], "messages[0].meta"),
        (
            lambda v: [{"role": "user", "content": [{"type": "text", "text": "a", "meta": v}]}],
            "messages[0].content[0].meta",
        ),
        (
            lambda v: [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "https://e.x/a.png", "meta": v}}
                    ],
                }
            ],
            "messages[0].content[0].image_url.meta",
        ),
        (
            lambda v: [{"role": "user", "content": [{"type": "input_audio", "input_audio": v}]}],
            "messages[0].content[0].input_audio",
        ),
    ],
)
def test_extra_fields_that_are_not_json_are_refused(messages, field, value, call, server):
    with pytest.raises(InvalidInputError) as caught:
        call(messages=messages(value))
    assert caught.value.field == field
    assert "cannot be sent as JSON" in str(caught.value)
    assert server.count == 0


@pytest.mark.parametrize("value", NOT_JSON.values(), ids=NOT_JSON.keys())
@pytest.mark.parametrize(
    "make",
    [
        lambda v: UserMessage("hi", extra={"meta": v}),
        lambda v: TextPart("a", extra={"meta": v}),
        lambda v: ImagePart(ImageURL("https://e.x/a.png"), extra={"meta": v}),
        lambda v: ImageURL("https://e.x/a.png", extra={"meta": v}),
    ],
)
def test_typed_extra_fields_that_are_not_json_are_refused_when_made(make, value):
    with pytest.raises(InvalidInputError) as caught:
        make(value)
    assert caught.value.field == "meta"


def test_an_unknown_part_that_is_not_json_is_refused_when_made():
    with pytest.raises(InvalidInputError) as caught:
        UnknownPart({"type": "input_audio", "input_audio": {"data": b"RIFF"}})
    assert caught.value.field == "input_audio"


BAD_HEADERS = [
    ({"X-Note": "café"}, "['X-Note']", "non-ASCII"),
    ({"X-Note": "a\r\nX-Injected: 1"}, "['X-Note']", "control characters"),
    ({"X-Count": 3}, "['X-Count']", "expected a string, got int"),
    ({"X-Note": None}, "['X-Note']", "expected a string, got NoneType"),
    ({"Bad Name": "v"}, "", "'Bad Name' is not a valid header name"),
    ({"Ünïcode": "v"}, "", "is not a valid header name"),
]


@pytest.mark.parametrize(("headers", "where", "problem"), BAD_HEADERS)
def test_extra_headers_that_http_cannot_carry_are_refused(headers, where, problem, call, server):
    with pytest.raises(InvalidInputError) as caught:
        call(extra_headers=headers)
    assert caught.value.field == f"extra_headers{where}"
    assert problem in str(caught.value)
    assert server.count == 0


@pytest.mark.parametrize("cls", [ChatImage, AsyncChatImage])
@pytest.mark.parametrize(("headers", "where", "problem"), BAD_HEADERS)
def test_default_headers_that_http_cannot_carry_are_refused(cls, headers, where, problem, server):
    with pytest.raises(InvalidInputError) as caught:
        cls(api_key=API_KEY, base_url=server.url, default_headers=headers)
    assert caught.value.field == f"default_headers{where}"
    assert problem in str(caught.value)


def test_a_header_value_is_never_echoed(call):
    with pytest.raises(InvalidInputError) as caught:
        call(extra_headers={"X-Secret": "tøp-secret-value"})
    assert "tøp-secret-value" not in str(caught.value)


@pytest.mark.parametrize("cls", [ChatImage, AsyncChatImage])
@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://api..example.com", "empty label"),
        ("http://.example.com", "empty label"),
        ("http://" + "a" * 64 + ".example.com", "label over 63 characters"),
        ("http://" + ".".join(["a" * 60] * 5), "over 253"),
        ("http://xn--zz.example.com", "not a valid URL"),
        ("http://-api.example.com", "not letters, digits and inner hyphens"),
        ("http://127.0.0.1:70000", "port 70000 is not in 1-65535"),
        ("http://127.0.0.1:-1", "port -1 is not in 1-65535"),
        ("http://127.0.0.1:0", "port 0 is not in 1-65535"),
    ],
)
def test_a_base_url_no_resolver_takes_is_refused_at_construction(cls, url, problem):
    with pytest.raises(InvalidInputError) as caught:
        cls(api_key=API_KEY, base_url=url)
    assert caught.value.field == "base_url"
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8000",
        "http://my_service:8080/v1",
        "https://api.example.com./v1",
        "http://[::1]:8000",
        "http://10.0.0.1",
        "https://bücher.example/v1",
        "https://xn--bcher-kva.example",
    ],
)
def test_ordinary_hosts_still_pass(url):
    ChatImage(api_key=API_KEY, base_url=url).close()


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("cat\x00.png", "contains a NUL character"),
        (None, "expected a str or os.PathLike path, got NoneType"),
        (b"cat.png", "expected a str or os.PathLike path, got bytes"),
        ("", "empty"),
    ],
)
def test_an_image_path_that_cannot_name_a_file_is_refused(path, problem):
    with pytest.raises(InvalidInputError) as caught:
        ImagePart.from_path(path)
    assert caught.value.field == "path"
    assert problem in str(caught.value)


def test_a_fifo_is_refused_and_never_blocks(tmp_path):
    fifo = tmp_path / "camera.png"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def make() -> None:
        try:
            ImagePart.from_path(fifo)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=make, daemon=True)
    worker.start()
    worker.join(60)
    if worker.is_alive():
        # Blocked in open(): release it (a writer opening the FIFO), then fail.
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join()
        pytest.fail("from_path blocked on a FIFO")
    [error] = outcome
    assert isinstance(error, InvalidImageError)
    assert str(error) == f"path: {str(fifo)!r} is a FIFO (named pipe), not an image file"


def _closed_port() -> int:
    # Bound, then closed: nothing listens there now, so a connection is refused.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_connection_error_names_the_host_and_port(call):
    port = _closed_port()
    with pytest.raises(APIConnectionError) as caught:
        call(client={"base_url": f"http://127.0.0.1:{port}"}, max_retries=0)
    assert f"could not reach 127.0.0.1:{port}" in str(caught.value)


@pytest.mark.parametrize(
    ("location", "absolute"),
    [("https://new.example/v1/chat/completions", True), ("/v2/chat/completions", False)],
)
def test_a_redirect_says_where_it_pointed(location, absolute, call, server):
    server.default = Reply(status=301, body=b"", headers={"Location": location})
    with pytest.raises(APIStatusError) as caught:
        call()
    target = location if absolute else server.url + location
    assert caught.value.status_code == 301
    assert f"redirected to {target}; redirects are not followed: check base_url" in str(
        caught.value
    )


@pytest.mark.pillow
@pytest.mark.parametrize("resize", [False, True])
def test_a_pillow_failure_names_the_file_not_an_object(resize, tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    part = ImagePart.from_path(path, "high")
    with pytest.raises(InvalidImageError) as caught:
        ImagePart.from_path(path, "high", resize=True) if resize else part.estimate_tokens()
    assert str(path) in str(caught.value)
    assert "object at 0x" not in str(caught.value)
    with pytest.raises(InvalidImageError) as from_bytes:
        ImagePart.from_bytes(path.read_bytes(), "high").estimate_tokens()
    assert "the image cannot be decoded" in str(from_bytes.value)
    assert "object at 0x" not in str(from_bytes.value)
