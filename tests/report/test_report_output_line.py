"""What a batch output line records for the report, and `chat-image report` finding each
image with no flags where the batch ran."""

from __future__ import annotations

import os

from report_kit import page_data

from chat_image.testing import FakeGateway
from cli_kit import image_folder, lines, run


def test_a_line_records_its_images_prompt_model_and_options(server: FakeGateway, tmp_path):
    image_folder(tmp_path / "images", 2)
    done = run(
        "batch",
        "images",
        "-o",
        "out.jsonl",
        "--prompt",
        "Describe it.",
        "--model",
        "m",
        "--max-tokens",
        "50",
        "--detail",
        "low",
        url=server.url,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    record = next(r for r in lines(tmp_path / "out.jsonl") if r["id"] == "img000.png")
    assert record["images"] == [str(tmp_path / "images" / "img000.png")]
    assert os.path.isabs(record["images"][0])
    assert record["request"] == {
        "prompt": "Describe it.",
        "system": None,
        "model": "m",
        "max_tokens": 50,
        "detail": "low",
        "resize": False,
    }


def test_an_item_that_failed_before_sending_records_them_too(server: FakeGateway, tmp_path):
    (tmp_path / "manifest.jsonl").write_text(
        '{"id": "gone", "image": "nowhere.png", "prompt": "What is it?"}\n'
    )
    done = run(
        "batch", "manifest.jsonl", "-o", "out.jsonl", "--model", "m", url=server.url, cwd=tmp_path
    )
    assert done.returncode == 1, done.stderr
    [record] = lines(tmp_path / "out.jsonl")
    assert record["status"] == "error"
    assert record["images"] == [str(tmp_path / "nowhere.png")]
    assert record["request"]["prompt"] == "What is it?"
    assert server.count == 0


def test_the_report_finds_the_images_from_anywhere_on_the_machine(server: FakeGateway, tmp_path):
    image_folder(tmp_path / "run" / "images", 3)
    done = run(
        "batch",
        "images",
        "-o",
        "out.jsonl",
        "--prompt",
        "Describe it.",
        "--model",
        "m",
        url=server.url,
        cwd=tmp_path / "run",
    )
    assert done.returncode == 0, done.stderr
    (tmp_path / "elsewhere").mkdir()
    made = run("report", "../run/out.jsonl", "-o", "r.html", url=None, cwd=tmp_path / "elsewhere")
    assert made.returncode == 0, made.stderr
    assert "wrote r.html: 3 items (3 ok, 0 failed)" in made.stderr
    items = page_data((tmp_path / "elsewhere" / "r.html").read_text(encoding="utf-8"))["items"]
    # Found: no "missing" note. (cli_kit's PNGs are headers only: with Pillow they are
    # "unreadable", without it "no-pillow"; tests/report/test_report_thumbs.py decodes real ones.)
    notes = {thumb.get("why") for item in items for thumb in item["thumbs"]}
    assert len(notes) == 1
    assert notes < {"no-pillow", "unreadable"}
    assert [item["runs"][0]["prompt"] for item in items] == ["Describe it."] * 3


def test_report_usage_errors_exit_2_with_one_line(tmp_path):
    missing = run("report", "absent.jsonl", "-o", "r.html", url=None, cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr == "chat-image: error: OUT.jsonl: 'absent.jsonl': no such file\n"
    (tmp_path / "out.jsonl").write_text('{"id": "a", "status": "ok"}\n')
    over = run("report", "out.jsonl", "-o", "out.jsonl", url=None, cwd=tmp_path)
    assert over.returncode == 2
    assert "would overwrite an input" in over.stderr
    bad = run("report", "out.jsonl", "--thumb-px", "5", url=None, cwd=tmp_path)
    assert bad.returncode == 2
    assert "--thumb-px: expected an integer from 16 to 2048, got 5" in bad.stderr
    default = run("report", "out.jsonl", url=None, cwd=tmp_path)
    assert default.returncode == 0, default.stderr
    assert (tmp_path / "out.html").is_file()
