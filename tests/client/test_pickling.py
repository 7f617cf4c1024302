"""Every error crosses process boundaries intact, without the key; clients refuse to be copied.

The errors are raised for real in worker processes (spawned, as on macOS and Windows), by
calls to a server on 127.0.0.1, and come back through ProcessPoolExecutor and Pool.map.
"""

from __future__ import annotations

import asyncio
import copy
import multiprocessing
import pickle
import socket
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest

import chat_image
from chat_image import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncChatImage,
    AuthenticationError,
    BadRequestError,
    ChatImage,
    ChatImageError,
    ImagePart,
    InternalServerError,
    InvalidImageError,
    InvalidInputError,
    MissingExtraError,
    RateLimitError,
    UserMessage,
)
from chat_image.testing import FakeGateway, RecordedRequest, Reply
from conftest import API_KEY

REPLIES = {
    "400": Reply(status=400, message="image too large", headers={"x-request-id": "req_400"}),
    "401": Reply(status=401, message="bad key"),
    "418": Reply(status=418, body={"detail": ["odd", 1]}, headers={"x-request-id": "req_418"}),
    "429": Reply(status=429, message="slow down", headers={"x-request-id": "req_429"}),
    "500": Reply(status=500, body=b"<html>oops</html>", headers={"Content-Type": "text/html"}),
    "not_json": Reply(body=b"not json", headers={"Content-Type": "text/plain"}),
    "closed": Reply(fault="close"),
    "hang": Reply(fault="hang"),
}
EXPECTED: dict[str, type[Exception]] = {
    "400": BadRequestError,
    "401": AuthenticationError,
    "418": APIStatusError,
    "429": RateLimitError,
    "500": InternalServerError,
    "not_json": APIResponseValidationError,
    "closed": APIConnectionError,
    "hang": APITimeoutError,
    "refused": APIConnectionError,
    "bad_input": InvalidInputError,
    "bad_image": InvalidImageError,
    "missing_extra": MissingExtraError,
    "closed_client": ChatImageError,
}
# What users read on each kind of error, beyond its type and message.
FIELDS = {
    APIStatusError: ("status_code", "request_id", "body", "error_message", "type", "param", "code"),
    APIResponseValidationError: ("status_code", "request_id", "body", "problem"),
    APIConnectionError: ("message", "body"),
    InvalidInputError: ("field", "problem"),
    MissingExtraError: ("feature", "extra", "name"),
}


def provoke(case: str, url: str) -> None:
    """Raise the error `case` names, for real: run in a worker process and in the test's."""
    if case == "bad_image":
        ImagePart.from_path("/nonexistent/cat.png")
    if case == "missing_extra":
        raise MissingExtraError("Resizing an image", "images", "Pillow")
    with ChatImage(api_key=API_KEY, base_url=url, max_retries=0, timeout=0.5) as client:
        if case == "closed_client":
            client.close()
        client.chat.completions.create(
            model="gpt-4o",
            messages=[UserMessage("hi")],
            max_tokens=0 if case == "bad_input" else 5,
            extra_headers={"X-Case": case},
        )


def provoke_args(args: tuple[str, str]) -> None:
    provoke(*args)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def workers() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


@pytest.fixture
def answering(server: FakeGateway) -> FakeGateway:
    server.responder = lambda request: REPLIES[request.headers["X-Case"]]
    return server


def _raised(case: str, url: str) -> ChatImageError:
    with pytest.raises(ChatImageError) as caught:
        provoke(case, url)
    return caught.value


def _url(case: str, server: FakeGateway) -> str:
    # Nothing listens on a port just bound and closed: the connection is refused.
    return f"http://127.0.0.1:{_closed_port()}" if case == "refused" else server.url


def _same(remote: Exception, local: Exception) -> None:
    assert type(remote) is type(local)
    assert str(remote) == str(local)
    assert remote.args == local.args
    for kind, names in FIELDS.items():
        if isinstance(local, kind):
            for name in names:
                assert getattr(remote, name) == getattr(local, name), name


@pytest.mark.parametrize("case", EXPECTED)
def test_an_error_raised_in_a_worker_arrives_whole(case, workers, answering):
    url = _url(case, answering)
    local = _raised(case, url)
    assert type(local) is EXPECTED[case]
    with pytest.raises(EXPECTED[case]) as caught:
        workers.submit(provoke, case, url).result(timeout=120)
    _same(caught.value, local)


@pytest.mark.parametrize("case", EXPECTED)
def test_a_pickled_error_carries_no_key_and_no_request_headers(case, answering):
    local = _raised(case, _url(case, answering))
    data = pickle.dumps(local)
    assert API_KEY.encode() not in data
    remote = pickle.loads(data)
    _same(remote, local)
    request = getattr(remote, "request", None)
    if request is not None:
        assert "authorization" not in request.headers
        assert request.url == local.request.url  # type: ignore[attr-defined]
        assert request.method == "POST"
    response = getattr(remote, "response", None)
    if response is not None:
        assert response.status_code == local.response.status_code  # type: ignore[attr-defined]
        assert response.headers.get("x-request-id") == local.request_id  # type: ignore[attr-defined]


def test_pool_map_gets_the_error_instead_of_hanging(answering):
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        pending = pool.map_async(provoke_args, [("429", answering.url)])
        # A bound on waiting, so that a regression fails instead of hanging the suite.
        with pytest.raises(RateLimitError) as caught:
            pending.get(timeout=120)
    assert caught.value.status_code == 429
    assert caught.value.request_id == "req_429"
    assert caught.value.error_message == "slow down"


def _echoing(request: RecordedRequest) -> Reply:
    return Reply(status=400, message=f"bad key {API_KEY}", headers={"x-request-id": API_KEY})


def test_a_pickled_error_keeps_the_echoed_key_masked(answering):
    answering.responder = _echoing
    local = _raised("400", answering.url)
    data = pickle.dumps(local)
    assert API_KEY.encode() not in data
    remote = pickle.loads(data)
    assert remote.request_id == "[redacted]"
    assert remote.response.headers["x-request-id"] == "[redacted]"


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("how", [pickle.dumps, copy.copy, copy.deepcopy])
def test_a_client_refuses_to_be_pickled_or_copied(kind, how, server):
    cls = ChatImage if kind == "sync" else AsyncChatImage
    client = cls(api_key=API_KEY, base_url=server.url)
    with pytest.raises(TypeError, match=f"{cls.__name__} cannot be pickled or copied") as caught:
        how(client)
    assert API_KEY not in str(caught.value)
    if isinstance(client, ChatImage):
        client.close()
    else:
        asyncio.run(client.close())


def test_every_exception_class_is_covered():
    raised = set(EXPECTED.values())
    public = {
        value
        for value in vars(chat_image).values()
        if isinstance(value, type) and issubclass(value, ChatImageError)
    }
    # The rest differ from a covered class only by name (status subclasses, the bases).
    by_name_only = {
        chat_image.PermissionDeniedError,
        chat_image.NotFoundError,
        chat_image.ConflictError,
        chat_image.UnprocessableEntityError,
        chat_image.APIError,
        # Raised by a gzip bomb: pickled (in-process) in test_answer_size.py.
        chat_image.ResponseTooLargeError,
        # Raised by function_tool(), before any call: pickled in test_tool_definitions.py.
        chat_image.ToolDefinitionError,
        # parse()'s outcomes: raised in spawned workers in structured/test_outcomes_pickle.py.
        chat_image.LengthFinishReasonError,
        chat_image.ContentFilterFinishReasonError,
        chat_image.StructuredOutputError,
        chat_image.ResponseFormatUnsupportedError,
        # The image policy's errors: pickled with their fields in images/test_image_limits.py.
        chat_image.ImageLimitError,
        chat_image.ImageFetchError,
        chat_image.UnsupportedImageError,
    }
    assert public - raised - by_name_only == set()
