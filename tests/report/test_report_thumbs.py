"""Thumbnails: upright, small, without the image's metadata, and found where the images are."""

from __future__ import annotations

import base64
import io

import pytest
from report_kit import (
    BLUE,
    RED,
    decode_data_url,
    page_data,
    sideways_jpeg,
    upright_png,
    write_lines,
)

from chat_image.batch import write_report

# Collected in every session: Pillow is imported inside the tests.
pytestmark = pytest.mark.pillow


def _thumbs(tmp_path, records, **kwargs):
    out = write_lines(tmp_path / "out.jsonl", records)
    summary = write_report(out, tmp_path / "r.html", **kwargs)
    items = page_data(summary.path.read_text(encoding="utf-8"))["items"]
    return summary, {item["id"]: item["thumbs"] for item in items}


def _near(color, target):
    return all(abs(a - b) < 40 for a, b in zip(color, target, strict=False))


def test_a_sideways_photo_is_turned_upright_and_loses_its_metadata(tmp_path):
    from PIL import Image

    photo = sideways_jpeg(tmp_path / "p.jpg")
    with Image.open(photo) as original:
        assert original.getexif()[0x0112] == 6
        assert 0x8825 in original.getexif()
    _, thumbs = _thumbs(tmp_path, [{"id": "p.jpg", "status": "ok", "images": [str(photo)]}])
    [thumb] = thumbs["p.jpg"]
    assert (thumb["w"], thumb["h"]) == (60, 120)
    with decode_data_url(thumb["src"]) as image:
        assert image.size == (60, 120)
        assert not image.getexif()
        assert "icc_profile" not in image.info
        assert "exif" not in image.info
        assert _near(image.getpixel((30, 10)), RED)
        assert _near(image.getpixel((30, 110)), BLUE)


def test_thumbnails_fit_thumb_px_and_transparency_becomes_white(tmp_path):
    from PIL import Image

    big = tmp_path / "big.png"
    image = Image.new("RGBA", (1000, 400), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (500, 0, 1000, 400))
    image.save(big)
    _, thumbs = _thumbs(
        tmp_path, [{"id": "big", "status": "ok", "images": [str(big)]}], thumb_px=100
    )
    [thumb] = thumbs["big"]
    assert (thumb["w"], thumb["h"]) == (100, 40)
    with decode_data_url(thumb["src"]) as small:
        assert _near(small.convert("RGB").getpixel((10, 20)), (255, 255, 255))
        assert _near(small.convert("RGB").getpixel((90, 20)), (0, 0, 255))


def test_images_are_found_where_recorded_in_images_dir_or_by_id(tmp_path):
    (tmp_path / "now").mkdir()
    upright_png(tmp_path / "now" / "moved.png")
    upright_png(tmp_path / "now" / "by-id.png")
    upright_png(tmp_path / "here.png")
    records = [
        {"id": "here", "status": "ok", "images": ["here.png"]},  # relative to the output's folder
        {"id": "moved", "status": "ok", "images": ["/gone/away/moved.png"]},
        {"id": "by-id.png", "status": "ok"},  # an old line without paths: a folder run's id
        {"id": "lost", "status": "ok", "images": ["/gone/away/lost.png"]},
    ]
    summary, thumbs = _thumbs(tmp_path, records, images=tmp_path / "now")
    assert all("src" in thumbs[i][0] for i in ("here", "moved", "by-id.png"))
    assert thumbs["lost"] == [{"why": "missing", "text": "missing: /gone/away/lost.png"}]
    assert (summary.thumbnails, summary.missing_images) == (3, 1)
    _, without_dir = _thumbs(tmp_path, records)
    assert without_dir["by-id.png"][0]["why"] == "unrecorded"
    assert without_dir["moved"][0]["why"] == "missing"


def test_urls_data_urls_many_images_and_broken_files(tmp_path):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), RED).save(buffer, "PNG")
    inline = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    many = [str(upright_png(tmp_path / f"{n}.png")) for n in range(6)]
    _, thumbs = _thumbs(
        tmp_path,
        [
            {"id": "url", "status": "ok", "images": ["https://example.com/cat.png"]},
            {"id": "inline", "status": "ok", "images": [inline]},
            {"id": "many", "status": "ok", "images": many},
            {"id": "broken", "status": "ok", "images": [str(tmp_path / "broken.png")]},
        ],
    )
    assert thumbs["url"] == [
        {"why": "url", "text": "image at a URL, not fetched: https://example.com/cat.png"}
    ]
    assert thumbs["inline"][0]["w"] == 8
    assert [t.get("why") for t in thumbs["many"]] == [None, None, None, None, "more"]
    assert thumbs["many"][-1]["text"] == "and 2 more image(s)"
    assert thumbs["broken"][0]["why"] == "unreadable"
