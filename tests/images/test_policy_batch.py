"""The image policy in `chat-image batch` and `ask`: converted formats walked, the output line
recording what was done, and the command-line options."""

from __future__ import annotations

import json

import pytest
from pictures import encode, has_red_corner, metadata_of, opened, sent_images, upright

from cli_kit import lines, run

pytestmark = pytest.mark.pillow

BATCH = ("batch", "images", "-o", "out.jsonl", "--prompt", "Describe it.", "--model", "m")


def _folder(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "phone.jpg").write_bytes(encode(upright((300, 200)), "JPEG", orientation=6))
    upright((64, 48)).save(folder / "scan.tif", format="TIFF")
    (folder / "drawing.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    return folder


def test_the_walk_takes_converted_formats_and_each_line_says_what_was_done(server, tmp_path):
    _folder(tmp_path)
    done = run(*BATCH, "--target", "anthropic", url=server.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "skipped drawing.svg: not a PNG, JPEG, GIF or WebP image, nor a TIFF" in done.stderr
    records = {record["id"]: record for record in lines(tmp_path / "out.jsonl")}
    assert set(records) == {"phone.jpg", "scan.tif"}
    phone = records["phone.jpg"]
    assert phone["status"] == "ok"
    assert phone["actions"] == ["oriented", "stripped"]
    [image] = phone["images_sent"]
    assert image["pixels"] == [[300, 200], [300, 200]]
    assert image["media_type"] == ["image/jpeg", "image/jpeg"]
    assert image["bytes"][0] > 0
    assert records["scan.tif"]["actions"] == ["converted"]
    assert records["scan.tif"]["images_sent"][0]["media_type"] == ["image/tiff", "image/jpeg"]
    received = {}
    for request in server.requests:
        [(media_type, data)] = sent_images(request.json)
        received[opened(data).size] = (media_type, data)
    media_type, photo = received[(300, 200)]
    assert media_type == "image/jpeg"
    assert has_red_corner(opened(photo))
    assert not metadata_of(photo)["gps"]
    assert received[(64, 48)][0] == "image/jpeg"


def test_keep_metadata_sends_gps_but_still_upright(server, tmp_path):
    _folder(tmp_path)
    done = run(*BATCH, "--keep-metadata", url=server.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    photos = [
        data
        for request in server.requests
        for media_type, data in sent_images(request.json)
        if opened(data).size == (300, 200)
    ]
    [photo] = photos
    assert metadata_of(photo)["gps"]
    assert 0x0112 not in opened(photo).getexif()


def test_too_many_images_is_an_error_line_and_nothing_is_sent(server, tmp_path):
    folder = _folder(tmp_path)
    manifest = tmp_path / "items.jsonl"
    item = {"id": "two", "images": ["images/phone.jpg", "images/scan.tif"], "prompt": "Compare."}
    manifest.write_text(json.dumps(item) + "\n")
    done = run("batch", str(manifest), "-o", "out.jsonl", "--model", "m", "--target", "vllm",
               url=server.url, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1, done.stderr
    [record] = lines(tmp_path / "out.jsonl")
    assert record["status"] == "error"
    assert record["error"]["type"] == "ImageLimitError"
    assert "2 images in one request, over the limit of 1" in record["error"]["message"]
    assert server.count == 0
    assert folder.exists()


def test_ask_takes_the_options(server, tmp_path):
    (tmp_path / "phone.jpg").write_bytes(encode(upright((300, 200)), "JPEG", orientation=6))
    done = run("ask", "What is it?", "--model", "m", "--image", "phone.jpg", "--no-stream",
               "--target", "gemini", url=server.url, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    [(media_type, photo)] = sent_images(server.last.json)
    assert media_type == "image/jpeg"
    assert has_red_corner(opened(photo))
    assert not metadata_of(photo)["gps"]


def test_a_run_says_in_its_summary_what_it_skipped_and_why(server, tmp_path):
    _folder(tmp_path)
    (tmp_path / "images" / "notes.txt").write_text("not an image")
    done = run(*BATCH, url=server.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert server.count == 2
    assert "skipped input: 2, by reason:\n    2: not a PNG, JPEG, GIF or WebP image" in done.stderr


def test_a_dry_run_says_what_it_skipped_and_why(server, tmp_path):
    _folder(tmp_path)
    (tmp_path / "images" / "notes.txt").write_text("not an image")
    done = run(*BATCH, "--dry-run", "-v", url=server.url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "items: 2 " in done.stdout
    assert "skipped input: 2\n  2: not a PNG, JPEG, GIF or WebP image, nor a TIFF" in done.stdout
    assert "skipped drawing.svg: not a PNG" in done.stderr
    assert "skipped notes.txt: not a PNG" in done.stderr
    quiet = run(*BATCH, "--dry-run", url=server.url, cwd=tmp_path)
    assert "skipped drawing.svg" not in quiet.stderr
    assert server.count == 0
