"""`chat_image.ray.ChatImageMapper` without Ray: a plain class over a dict of columns, against
the fake gateway. Every row comes back answered or marked; no row's failure raises."""

from __future__ import annotations

import asyncio
import base64
import json
import pickle
import time

import pytest

from chat_image import InvalidInputError
from chat_image.batch import run_batch
from chat_image.ray import RESULT_COLUMNS, ChatImageMapper
from chat_image.testing import FakeGateway, Reply
from cli_kit import png
from completions import completion
from conftest import API_KEY


def mapper(server: FakeGateway, **kwargs) -> ChatImageMapper:
    return ChatImageMapper(
        model="m", prompt="Describe it.", api_key=API_KEY, base_url=server.url, **kwargs
    )


def _error_fields(out: dict) -> list[str]:
    return [message for message in out["error_message"] if message is not None]


def test_ok_rows_and_a_bad_image_row(server: FakeGateway):
    images = [png(64, 48, 0), b"GIF87 is not quite an image", png(64, 48, 2)]
    with mapper(server) as answer:
        out = answer({"bytes": images, "path": ["a.png", "b.png", "c.png"], "n": [1, 2, 3]})
    # The input columns less the image bytes, then the result columns, one row per input row.
    assert list(out) == ["path", "n", *RESULT_COLUMNS]
    assert out["path"] == ["a.png", "b.png", "c.png"]
    assert out["n"] == [1, 2, 3]
    assert out["status"] == ["ok", "error", "ok"]
    answer_text = "A wooden boardwalk through a green meadow."
    assert out["content"] == [answer_text, None, answer_text]
    assert out["finish_reason"] == ["stop", None, "stop"]
    assert out["prompt_tokens"] == [1118, None, 1118]
    assert out["completion_tokens"] == [12, None, 12]
    # As the batch runner says it (the one message builder names the image).
    assert out["error_type"] == [None, "InvalidInputError", None]
    assert "not a PNG, JPEG, GIF or WebP image" in out["error_message"][1]
    assert out["http_status"] == [None, None, None]
    assert all(h.startswith("sha256:") for h in out["input_hash"])
    assert len(set(out["input_hash"])) == 3
    assert all(isinstance(s, float) and s >= 0 for s in out["latency_s"])
    # The bad image was refused before sending: two requests, one per good row, each its image.
    assert server.count == 2
    sent = sorted(request.images[0].data for request in server.requests)
    assert sent == sorted([images[0], images[2]])
    assert all(
        request.json["messages"][-1]["content"][0]["text"] == "Describe it."
        for request in server.requests
    )


def test_a_429_with_retry_after_is_waited_out_then_answered(server: FakeGateway):
    server.queue(Reply(status=429, headers={"Retry-After": "1"}))
    started = time.monotonic()
    with mapper(server) as answer:
        out = answer({"bytes": [png(64, 48, 7)], "path": ["x.png"]})
    elapsed = time.monotonic() - started
    assert out["status"] == ["ok"]
    assert server.count == 2
    # Without Retry-After the first wait is at most 0.5 s (backoff); the gateway asked for 1 s.
    assert elapsed >= 0.95


def test_rate_limited_to_the_end_is_a_row_not_an_exception(server: FakeGateway):
    server.queue(*[Reply(status=429, headers={"Retry-After": "0.05"})] * 2)
    with mapper(server, max_retries=1, in_flight=1) as answer:
        out = answer({"bytes": [png(64, 48, 1), png(64, 48, 2)], "path": ["a", "b"]})
    assert out["status"] == ["error", "ok"]
    assert out["error_type"][0] == "RateLimitError"
    assert out["http_status"][0] == 429
    assert "Rate limit reached" in out["error_message"][0]
    assert server.count == 3


def test_no_image_data_in_any_error_field(server: FakeGateway):
    image = png(64, 48, 3) + bytes(range(256)) * 40
    encoded = base64.b64encode(image).decode()

    # A gateway that echoes the whole request in its error, as some proxies do.
    def echo(request):
        return Reply(status=400, message=request.body.decode())

    server.responder = echo
    with mapper(server) as answer:
        out = answer({"bytes": [image, b"\x00" * 5000], "path": ["echoed", "bad"]})
    assert out["status"] == ["error", "error"]
    assert out["http_status"] == [400, None]
    for message in _error_fields(out):
        assert len(message) <= 300
        assert "base64," not in message
        assert encoded[:64] not in message
        assert encoded[1000:1064] not in message
    assert "Error code: 400" in out["error_message"][0]


def test_images_as_paths_and_urls(server: FakeGateway, tmp_path):
    (tmp_path / "a.png").write_bytes(png(64, 48, 11))
    paths = [str(tmp_path / "a.png"), str(tmp_path / "missing.png"), "https://example.test/c.png"]
    with mapper(server, image_column="image", id_column="id") as answer:
        out = answer({"id": [1, 2, 3], "image": paths})
    # Paths and URLs are not image bytes: the column stays.
    assert out["image"] == paths
    assert out["status"] == ["ok", "error", "ok"]
    assert out["error_type"][1] == "InvalidImageError"
    assert "missing.png" in out["error_message"][1]
    assert server.count == 2
    images = [request.images[0] for request in server.requests]
    assert {image.data for image in images} == {png(64, 48, 11), None}
    assert {image.url for image in images} == {None, "https://example.test/c.png"}


def test_in_flight_bounds_each_workers_requests(server: FakeGateway):
    server.default = Reply(body=completion(), delay=0.1)
    with mapper(server, in_flight=2) as answer:
        out = answer({"bytes": [png(8, 8, i) for i in range(8)], "path": list("abcdefgh")})
    assert out["status"] == ["ok"] * 8
    assert server.max_in_flight == 2


def test_the_cluster_rate_is_divided_among_workers(server: FakeGateway):
    answer = mapper(server, rpm=1200, workers=4)
    assert answer.worker_rpm == 300
    # 300 a minute is one request each 0.2 s: four rows take at least three intervals.
    started = time.monotonic()
    with answer:
        out = answer({"bytes": [png(8, 8, i) for i in range(4)], "path": list("abcd")})
    assert out["status"] == ["ok"] * 4
    assert time.monotonic() - started >= 0.6


def test_batches_reuse_one_worker_loop_and_client(server: FakeGateway):
    with mapper(server) as answer:
        first = answer({"bytes": [png(8, 8, 1)], "path": ["a"]})
        second = answer({"bytes": [png(8, 8, 2)], "path": ["b"]})
    assert first["status"] == second["status"] == ["ok"]
    # One kept-alive connection served both batches.
    assert len({request.client_port for request in server.requests}) == 1


def test_the_input_hash_is_the_batch_runners(server: FakeGateway, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "a.png").write_bytes(png(64, 48, 5))
    output = tmp_path / "out.jsonl"
    asyncio.run(
        run_batch(
            folder, output, prompt="Describe it.", model="m", api_key=API_KEY, base_url=server.url
        )
    )
    [line] = [json.loads(line) for line in output.read_text().splitlines()]
    with mapper(server) as answer:
        out = answer({"bytes": [png(64, 48, 5)], "path": ["a.png"]})
    assert out["input_hash"] == [line["input_hash"]]


def test_a_missing_column_stops_the_first_batch_naming_it(server: FakeGateway):
    with (
        mapper(server) as answer,
        pytest.raises(InvalidInputError, match=r"^bytes: no such column"),
    ):
        answer({"image": [png(8, 8)], "path": ["a"]})
    assert server.count == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"model": ""}, "model"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"in_flight": 0}, "in_flight"),
        ({"rpm": -1}, "rpm"),
        ({"workers": 1.5}, "workers"),
        ({"detail": "medium"}, "detail"),
        ({"max_retries": -1}, "max_retries"),
    ],
)
def test_bad_arguments_are_refused_when_made(server: FakeGateway, kwargs, field):
    arguments = {"model": "m", "prompt": "p", **kwargs}
    with pytest.raises(InvalidInputError, match=f"^{field}: "):
        ChatImageMapper(**arguments)


def test_travels_pickled_as_its_arguments_and_never_shows_the_key(server: FakeGateway):
    answer = mapper(server)
    with answer:
        answer({"bytes": [png(8, 8, 1)], "path": ["a"]})
        copy = pickle.loads(pickle.dumps(answer))
    assert API_KEY not in repr(answer)
    with copy:
        assert copy({"bytes": [png(8, 8, 2)], "path": ["b"]})["status"] == ["ok"]
    assert server.count == 2


def test_settings_come_from_the_environment_where_it_runs(server: FakeGateway, monkeypatch):
    answer = ChatImageMapper(model="m", prompt="p")  # nothing is read when it is made
    monkeypatch.setenv("CHAT_IMAGE_API_KEY", API_KEY)
    monkeypatch.setenv("CHAT_IMAGE_BASE_URL", server.url)
    with answer:
        assert answer({"bytes": [png(8, 8, 1)], "path": ["a"]})["status"] == ["ok"]
    assert server.last.has_api_key(API_KEY)


def test_with_a_schema_each_row_is_parsed_and_a_misfit_is_an_error_row(server: FakeGateway):
    import dataclasses

    @dataclasses.dataclass
    class Scene:
        place: str
        people: int

    server.queue(
        Reply(body=completion(content='{"place": "a meadow", "people": 0}')),
        Reply(body=completion(content="A meadow, nobody in it.")),
        Reply(body=completion(content="Still prose, no JSON.")),
    )
    with mapper(server, schema=Scene, in_flight=1) as answer:
        out = answer({"bytes": [png(64, 48, 0), png(64, 48, 1)], "path": ["a.png", "b.png"]})
    assert list(out) == ["path", *RESULT_COLUMNS, "parsed"]
    assert out["status"] == ["ok", "error"]
    assert out["parsed"] == [{"place": "a meadow", "people": 0}, None]
    assert out["error_type"][1] == "StructuredOutputError"
    # The schema went on the wire; the prose answer was asked again once (the default re-ask).
    assert server.requests[0].json["response_format"]["type"] == "json_schema"
    assert server.count == 3


def test_a_schema_that_cannot_be_one_is_refused_when_the_mapper_is_made(server: FakeGateway):
    with pytest.raises(InvalidInputError, match="schema"):
        mapper(server, schema=object())


def test_the_image_policy_is_the_clients_own_and_a_bad_one_is_refused_at_once(server):
    with pytest.raises(InvalidInputError, match="images"):
        mapper(server, images="no-such-profile")
    image = png(64, 48, 0)
    with mapper(server, images=False) as answer:
        out = answer({"bytes": [image], "path": ["a.png"]})
    assert out["status"] == ["ok"]
    assert server.requests[0].images[0].data == image


@pytest.mark.parametrize("rpm", [0, -1, float("nan"), True, "60"])
def test_a_bad_rpm_is_refused_when_the_mapper_is_made(server: FakeGateway, rpm):
    with pytest.raises(InvalidInputError, match="rpm"):
        mapper(server, rpm=rpm)
