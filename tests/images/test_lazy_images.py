"""Images from files are checked when the part is made and read while each attempt is sent.

A file changed, truncated, replaced or removed after its part was made ends the call in an
InvalidImageError naming it, and the server never receives a complete body that is wrong:
before the first attempt nothing is sent at all; between attempts (or while one is sent) the
attempt stops short of its Content-Length, and the connection is closed. (Over aiohttp, which
holds a request's head until its body's first bytes, an attempt whose file changed before it
sends nothing at all.)
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from chat_image import (
    MAX_IMAGE_BYTES,
    AsyncChatImage,
    ChatImage,
    ImageData,
    ImagePart,
    InvalidImageError,
    TextPart,
    UserMessage,
)
from chat_image.testing import FakeGateway, RecordedRequest, Reply
from completions import completion
from conftest import API_KEY, KINDS, Caller, backend_kwargs
from samples import SIGNATURES, noise_png

IMAGE_SIZE = 300_000  # several slices of the file, so a body is more than one write


def _changed(path: Path) -> None:
    """Rewritten in place, same size; stamped a second later, as a later write would be.

    (File times are coarse: a rewrite within the same clock tick keeps the time. What is
    compared is size, time and identity, as the README says.)
    """
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    stamp = path.stat().st_mtime_ns
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stamp + 10**9, stamp + 10**9))


def _grown(path: Path) -> None:
    with path.open("ab") as file:
        file.write(b"more")


def _truncated(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _replaced(path: Path) -> None:
    other = path.with_name("other.png")
    other.write_bytes(noise_png(path.stat().st_size))  # the same size, a different file
    other.replace(path)


def _removed(path: Path) -> None:
    path.unlink()


CHANGES: dict[str, Callable[[Path], None]] = {
    "changed": _changed,
    "grown": _grown,
    "truncated": _truncated,
    "replaced": _replaced,
    "removed": _removed,
}


@pytest.fixture
def image_file(tmp_path: Path) -> tuple[Path, bytes]:
    data = noise_png(IMAGE_SIZE)
    path = tmp_path / "photo.png"
    path.write_bytes(data)
    return path, data


def _messages(path: Path) -> list[UserMessage]:
    return [UserMessage([TextPart("What is this?"), ImagePart.from_path(path, "low")])]


def _sent_image(request: RecordedRequest) -> bytes:
    data = request.images[0].data
    assert data is not None
    return data


def _complete(request: RecordedRequest) -> bool:
    return request.size == int(request.headers["Content-Length"])


def _attempts_received(server: FakeGateway, count: int) -> list[RecordedRequest]:
    """The server's requests once it has recorded `count`: an aborted attempt reaches it
    (as a head and a closed connection) after the client has already raised."""
    arrived = threading.Event()
    for _ in range(1000):
        if server.count >= count:
            arrived.set()
            break
        arrived.wait(0.01)
    return list(server.requests)


def test_a_file_is_read_again_for_a_retry(image_file, call, server):
    path, data = image_file
    server.queue(Reply(status=500))  # then the default, a completion
    call(messages=_messages(path))
    assert len(call.sleeps) == 1
    assert [_sent_image(request) for request in server.requests] == [data, data]
    assert all(_complete(request) for request in server.requests)


@pytest.mark.parametrize("change", CHANGES)
def test_a_file_changed_before_the_send_is_refused_with_nothing_sent(
    change, image_file, call, server
):
    path, _ = image_file
    messages = _messages(path)
    CHANGES[change](path)
    with pytest.raises(InvalidImageError) as caught:
        call(messages=messages)
    assert caught.value.field == "path"
    assert str(path) in str(caught.value)
    assert "changed after the image part was made" in str(caught.value)
    assert server.count == 0


@pytest.mark.parametrize("change", CHANGES)
def test_a_file_changed_between_attempts_stops_the_retry(change, image_file, call: Caller, server):
    path, data = image_file

    def respond(_: RecordedRequest) -> Reply:
        if server.count == 1:
            CHANGES[change](path)  # the first attempt is in; the file changes before the next
        return Reply(status=503)

    server.responder = respond
    with pytest.raises(InvalidImageError) as caught:
        call(messages=_messages(path))
    assert str(path) in str(caught.value)
    assert "changed after the image part was made" in str(caught.value)
    assert len(call.sleeps) == 1  # the retry was attempted, and stopped
    if call.backend == "httpx":
        first, *later = _attempts_received(server, 2)
        # The retry's head went out, its body never whole: the server cannot take it for one.
        assert len(later) == 1
        assert not _complete(later[0])
    else:
        # aiohttp sends a head with the body's first bytes, which never came: nothing of the
        # retry went out, so the next request the server sees is a later call's.
        first, *later = _after_a_later_call(server)
        assert [request.json for request in later] == [{"later": True}]
    assert _complete(first)
    assert _sent_image(first) == data


def _after_a_later_call(server: FakeGateway) -> list[RecordedRequest]:
    """The server's requests once one more, sent now on a new connection, has arrived."""
    server.responder = None
    with httpx.Client() as plain:
        plain.post(server.url + "/v1/chat/completions", json={"later": True})
    return list(server.requests)


class PausingServer:
    """One connection on 127.0.0.1: reads the head and the first `pause_after` bytes of the
    body, runs `meanwhile`, then reads on. Answers a complete body with a completion."""

    def __init__(self, meanwhile: Callable[[], None], pause_after: int = 64 * 1024) -> None:
        self._meanwhile = meanwhile
        self._pause_after = pause_after
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.expected = -1
        self.received = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        connection, _ = self._listener.accept()
        with connection:
            head = b""
            while b"\r\n\r\n" not in head:
                head += connection.recv(4096)
            head, _, body = head.partition(b"\r\n\r\n")
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    self.expected = int(value)
            self.received = len(body)
            paused = False
            while self.received < self.expected:
                if not paused and self.received >= self._pause_after:
                    self._meanwhile()
                    paused = True
                piece = connection.recv(64 * 1024)
                if not piece:
                    return  # the client gave up: the body never came whole
                self.received += len(piece)
            answer = json.dumps(completion()).encode()
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer)
            )

    def __enter__(self) -> PausingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._thread.join(timeout=30)
        self._listener.close()


@pytest.fixture
def large_file(tmp_path: Path) -> Path:
    """A file at the size limit: far more than the sockets between client and server hold,
    so the client is still reading it when the server pauses."""
    path = tmp_path / "large.png"
    with path.open("wb") as file:
        file.write(SIGNATURES["PNG"])
        file.truncate(MAX_IMAGE_BYTES)
    return path


def _send(kind: str, url: str, path: Path) -> None:
    create = {"model": "gpt-4o", "messages": _messages(path), "max_tokens": 5, "max_retries": 0}
    if kind == "sync":
        with ChatImage(api_key=API_KEY, base_url=url) as client:
            client.chat.completions.create(**create)
        return

    async def main() -> None:
        backend = kind.removeprefix("async-")
        async with AsyncChatImage(api_key=API_KEY, base_url=url, **backend_kwargs(backend)) as ai:
            await ai.chat.completions.create(**create)

    asyncio.run(main())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("change", ["changed", "grown", "truncated"])
def test_a_file_changed_while_it_is_sent_aborts_the_body(kind, change, large_file):
    with (
        PausingServer(lambda: CHANGES[change](large_file)) as server,
        pytest.raises(InvalidImageError) as caught,
    ):
        _send(kind, server.url, large_file)
    assert str(large_file) in str(caught.value)
    assert server.expected > MAX_IMAGE_BYTES
    assert 0 < server.received < server.expected


@pytest.mark.parametrize("kind", KINDS)
def test_a_file_replaced_while_it_is_sent_is_sent_as_checked(kind, large_file):
    """The body reads the file it opened, which is the one checked: it arrives whole."""
    with PausingServer(lambda: _replaced(large_file)) as server:
        _send(kind, server.url, large_file)
    assert server.received == server.expected > MAX_IMAGE_BYTES


def test_reading_data_checks_the_file_too(image_file):
    path, data = image_file
    image = ImageData.from_path(path)
    assert image.data == data
    _truncated(path)
    with pytest.raises(InvalidImageError, match="changed after the image part was made"):
        _ = image.data


def test_from_bytes_keeps_the_callers_bytes():
    data = noise_png(1000)
    assert ImageData.from_bytes(data).data is data


@pytest.fixture
def many_files(tmp_path: Path) -> list[Path]:
    paths = []
    for index in range(3):
        path = tmp_path / f"{index}.png"
        path.write_bytes(noise_png(IMAGE_SIZE + index))
        paths.append(path)
    return paths


def test_the_last_of_several_files_changing_stops_the_body_before_it_completes(many_files, server):
    parts = [ImagePart.from_path(path) for path in many_files]
    with ChatImage(api_key=API_KEY, base_url=server.url, max_retries=1) as client:
        client._sleep = lambda _: None

        def respond(_: RecordedRequest) -> Reply:
            if server.count == 1:
                _grown(many_files[-1])
            return Reply(status=500)

        server.responder = respond
        with pytest.raises(InvalidImageError) as caught:
            client.chat.completions.create(
                model="gpt-4o", messages=[UserMessage(parts)], max_tokens=5
            )
    assert str(many_files[-1]) in str(caught.value)
    first, *later = _attempts_received(server, 2)
    assert _complete(first)
    assert len(later) == 1
    assert 0 < later[0].size < int(later[0].headers["Content-Length"])


def _jpeg(size: tuple[int, int]) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, format="JPEG")
    return out.getvalue()


@pytest.mark.pillow
def test_a_resized_image_is_kept_and_its_file_no_longer_matters(tmp_path, client, server):
    path = tmp_path / "big.jpg"
    path.write_bytes(_jpeg((2048, 1024)))
    part = ImagePart.from_path(path, "low", resize=True)
    _removed(path)
    client.chat.completions.create(model="gpt-4o", messages=[UserMessage([part])], max_tokens=5)
    sent = server.last.images[0].data
    assert sent == part.image_url.data  # type: ignore[union-attr]
    assert sent != _jpeg((2048, 1024))


@pytest.mark.pillow
def test_an_image_small_enough_to_resize_is_sent_from_its_file(tmp_path, client, server):
    path = tmp_path / "small.jpg"
    path.write_bytes(_jpeg((300, 200)))
    part = ImagePart.from_path(path, "low", resize=True)
    _truncated(path)
    with pytest.raises(InvalidImageError, match="changed after the image part was made"):
        client.chat.completions.create(model="gpt-4o", messages=[UserMessage([part])], max_tokens=5)
    assert server.count == 0
