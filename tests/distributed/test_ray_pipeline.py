"""A Ray Data pipeline on a local Ray cluster (2 CPUs): image files read by Ray, answered by
`ChatImageMapper` on two workers against the fake gateway, written to Parquet. Run by the
`tests-ray` session, the only one that installs Ray."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chat_image.ray import RESULT_COLUMNS, ChatImageMapper
from chat_image.testing import FakeGateway, Reply
from cli_kit import image_folder
from conftest import API_KEY

pytestmark = [
    pytest.mark.ray,
    # Ray warns about its own deprecated settings, from inside Ray: not ours to fix.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*"),
]

GOOD = 24
BAD = 3


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    import ray

    # A throwaway cluster on this machine: no token written to the home folder for it.
    saved = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()
        if saved is None:
            del os.environ["RAY_AUTH_MODE"]
        else:
            os.environ["RAY_AUTH_MODE"] = saved


def _images(root: Path) -> dict[str, str]:
    digests = image_folder(root, GOOD)
    for index in range(BAD):
        (root / f"broken{index}.png").write_bytes(b"this is not a PNG " * (index + 1))
    return digests


def _answer(ray: Any, root: Path, url: str) -> Any:
    dataset = ray.data.read_binary_files(str(root), include_paths=True)
    return dataset.map_batches(
        ChatImageMapper,
        fn_constructor_kwargs={
            "model": "m",
            "prompt": "Describe it.",
            "api_key": API_KEY,
            "base_url": url,
            "in_flight": 4,
            "rpm": 60_000,
            "workers": 2,
        },
        concurrency=2,
        # The mapper waits on the network: half a CPU each leaves one for reading the files.
        num_cpus=0.5,
        batch_size=5,
    )


def test_every_row_is_answered_or_marked_and_none_is_lost(cluster, server: FakeGateway, tmp_path):
    root = tmp_path / "images"
    digests = _images(root)
    rows = _answer(cluster, root, server.url).take_all()
    by_name = {Path(row["path"]).name: row for row in rows}
    assert len(rows) == len(by_name) == GOOD + BAD
    assert set(by_name) == set(digests.values()) | {f"broken{i}.png" for i in range(BAD)}
    for name, row in by_name.items():
        assert "bytes" not in row
        assert set(RESULT_COLUMNS) <= set(row)
        if name.startswith("broken"):
            assert (row["status"], row["error_type"]) == ("error", "InvalidInputError")
            assert "not a PNG, JPEG, GIF or WebP image" in row["error_message"]
            assert row["http_status"] is None
        else:
            assert row["status"] == "ok", row
            assert row["content"] == "A wooden boardwalk through a green meadow."
            assert row["prompt_tokens"] == 1118
    # One request per good row, each carrying a different one of the images.
    assert server.count == GOOD
    sent = {request.images[0].data for request in server.requests}
    assert len(sent) == GOOD


def test_rate_limits_and_gateway_errors_stay_in_their_rows_through_to_parquet(
    cluster, server: FakeGateway, tmp_path
):
    import pyarrow.parquet as pq

    root = tmp_path / "images"
    digests = _images(root)
    hated = sorted(digests.values())[0]

    def answer(request):
        # One image is always refused; everything else meets a 429 first, once in a while.
        if request.images and request.images[0].data == (root / hated).read_bytes():
            return Reply(status=400, message="This image is not allowed.")
        return None

    server.responder = answer
    server.queue(*[Reply(status=429, headers={"Retry-After": "0.2"})] * 3)
    _answer(cluster, root, server.url).write_parquet(str(tmp_path / "answers"))
    table = pq.read_table(tmp_path / "answers").to_pylist()
    by_name = {Path(row["path"]).name: row for row in table}
    assert len(table) == len(by_name) == GOOD + BAD
    statuses = {name: row["status"] for name, row in by_name.items()}
    assert statuses[hated] == "error"
    assert by_name[hated]["http_status"] == 400
    assert "This image is not allowed." in by_name[hated]["error_message"]
    assert sum(status == "ok" for status in statuses.values()) == GOOD - 1
    # The good rows, the refused one once (400 is not retried), and the three 429s.
    assert server.count == GOOD + 3


def test_a_batch_with_no_failure_has_the_schema_of_one_with_failures(server: FakeGateway):
    # Its error columns are all None: untyped, Arrow would make them null columns, and the
    # Parquet files of two such batches would not read back as one table.
    import pyarrow as pa

    from cli_kit import png

    def table(images: list[bytes]) -> Any:
        with ChatImageMapper(
            model="m", prompt="Describe it.", api_key=API_KEY, base_url=server.url
        ) as answer:
            out = answer({"bytes": images, "path": [f"{i}.png" for i in range(len(images))]})
        return pa.table(out)

    all_ok = table([png(64, 48, 0), png(64, 48, 1)])
    one_bad = table([png(64, 48, 2), b"this is not a PNG"])
    assert all_ok.column("error_message").null_count == 2
    assert all_ok.schema == one_bad.schema
    assert pa.concat_tables([all_ok, one_bad]).column("status").to_pylist() == [
        "ok",
        "ok",
        "ok",
        "error",
    ]
