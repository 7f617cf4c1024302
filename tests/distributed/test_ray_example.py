"""examples/ray_to_parquet.py (docs/distributed.md shows it as it is) runs on a local Ray
cluster against the fake gateway, a local folder and Parquet folder standing in for the
bucket, the credentials coming from the workers' environment as the page says."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat_image.testing import FakeGateway
from cli_kit import image_folder
from conftest import API_KEY

pytestmark = [
    pytest.mark.ray,
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*"),
]

EXAMPLE = Path(__file__).parents[2] / "examples" / "ray_to_parquet.py"


def test_the_example_answers_every_photo_into_parquet(server: FakeGateway, tmp_path, monkeypatch):
    import pyarrow.parquet as pq
    import ray

    ids = set(image_folder(tmp_path / "photos", 12).values())
    code = EXAMPLE.read_text(encoding="utf-8")
    for old, new in {
        '"s3://my-bucket/photos/"': repr(str(tmp_path / "photos")),
        '"s3://my-bucket/answers/"': repr(str(tmp_path / "answers")),
        # Two workers at a quarter CPU each leave a cluster of 2 CPUs room to read the files.
        "WORKERS = 8": "WORKERS = 2",
    }.items():
        assert old in code
        code = code.replace(old, new)
    # Workers start from the environment the cluster was started in.
    monkeypatch.setenv("CHAT_IMAGE_API_KEY", API_KEY)
    monkeypatch.setenv("CHAT_IMAGE_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        exec(compile(code, str(EXAMPLE), "exec"), {"__name__": "__example__"})
    finally:
        ray.shutdown()
    rows = pq.read_table(tmp_path / "answers").to_pylist()
    assert sorted(Path(row["path"]).name for row in rows) == sorted(ids)
    assert {row["status"] for row in rows} == {"ok"}
    assert "bytes" not in rows[0]
    assert server.count == 12
    assert all(request.has_api_key(API_KEY) for request in server.requests)
