"""The report file itself: one page that loads nothing, shows the output's text as text,
and is the same bytes for the same inputs."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
from importlib import resources

import pytest
from report_kit import page_data, write_lines

from chat_image import InvalidInputError
from chat_image.batch import write_report

NASTY = '</script><script>alert(1)</script><!-- <img src=x onerror="alert(2)"> \u2028 & é'


def _lines(tmp_path, records=None):
    return write_lines(
        tmp_path / "out.jsonl",
        records
        or [
            {
                "id": "a.png",
                "status": "ok",
                "content": NASTY,
                "finish_reason": "stop",
                "model": "m",
                "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
                "latency_s": 1.5,
                "attempts": 1,
            },
            {
                "id": "</script>",
                "status": "error",
                "latency_s": 0.5,
                "attempts": 3,
                "error": {"type": "RateLimitError", "message": "<b>slow</b>", "status_code": 429},
            },
        ],
    )


def test_text_from_the_output_cannot_become_markup(tmp_path):
    html = write_report(_lines(tmp_path), tmp_path / "r.html").path.read_text(encoding="utf-8")
    # Only the page's own two script elements: the data block and the code.
    assert html.count("<script") == 2
    assert html.count("</script>") == 2
    assert "<img" not in html
    assert "<!--" not in html
    data = page_data(html)
    runs = {item["id"]: item["runs"][0] for item in data["items"]}
    assert runs["a.png"]["content"] == NASTY  # and the page reads back exactly what was written
    assert runs["</script>"]["error"] == {
        "type": "RateLimitError",
        "message": "<b>slow</b>",
        "status_code": 429,
    }


def test_the_page_loads_nothing_and_allows_only_its_own_style_and_script(tmp_path):
    html = write_report(_lines(tmp_path), tmp_path / "r.html").path.read_text(encoding="utf-8")
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)[1]
    style = re.search(r"<style>(.*?)</style>", html, re.S)[1]
    script = html.rsplit("<script>", 1)[1].split("</script>", 1)[0]

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert policy == (
        f"default-src 'none'; img-src data:; style-src {digest(style)}; "
        f"script-src {digest(script)}; base-uri 'none'; form-action 'none'"
    )
    page_only = html.replace(html.split('id="report-data">', 1)[1].split("</script>", 1)[0], "")
    for reference in ("http:", "https:", "://", "src=", "href=", "url(", "@import"):
        assert reference not in page_only.replace("<!DOCTYPE html>", ""), reference


def test_the_same_inputs_give_the_same_bytes_in_any_process(tmp_path):
    out = _lines(tmp_path)
    old = write_lines(
        tmp_path / "old.jsonl",
        [{"id": f"item{n}", "status": "ok", "content": str(n)} for n in range(30)],
    )
    first = write_report(out, tmp_path / "1.html", compare=old).path.read_bytes()
    code = (
        "import sys; from chat_image.batch import write_report\n"
        "write_report(sys.argv[1], sys.argv[2], compare=sys.argv[3])"
    )
    for seed in ("1", "2"):
        target = tmp_path / f"{seed}-other.html"
        subprocess.run(
            [sys.executable, "-c", code, str(out), str(target), str(old)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        )
        assert target.read_bytes() == first


def test_the_summary_counts_the_last_lines(tmp_path):
    out = _lines(tmp_path)
    with out.open("a") as more:
        more.write(
            '{"id": "a.png", "status": "error", "error": {"type": "APITimeoutError",'
            ' "message": "timed out", "status_code": null}}\n'
        )
    summary = write_report(out, tmp_path / "r.html")
    assert (summary.items, summary.ok, summary.failed) == (2, 0, 2)
    html = summary.path.read_text(encoding="utf-8")
    assert '<b data-summary="items">2</b> items' in html
    assert '<b data-summary="failed">2</b> failed' in html


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"thumb_px": 0}, "thumb_px"),
        ({"thumb_px": 10_000}, "thumb_px"),
        ({"thumb_px": "256"}, "thumb_px"),
        ({"compare": "nope.jsonl"}, "compare"),
        ({"images": "no-such-folder"}, "images"),
    ],
)
def test_bad_arguments_are_refused_naming_the_field(tmp_path, kwargs, field):
    with pytest.raises(InvalidInputError) as raised:
        write_report(_lines(tmp_path), tmp_path / "r.html", **kwargs)
    assert raised.value.field == field
    assert not (tmp_path / "r.html").exists()


def test_a_report_into_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(InvalidInputError, match="its folder does not exist") as raised:
        write_report(_lines(tmp_path), tmp_path / "no" / "r.html")
    assert raised.value.field == "report"


def test_a_missing_output_is_refused(tmp_path):
    with pytest.raises(InvalidInputError, match="no such file") as raised:
        write_report(tmp_path / "absent.jsonl", tmp_path / "r.html")
    assert raised.value.field == "output"


def test_the_page_assets_ship_in_the_package():
    package = resources.files("chat_image.batch._report")
    assert 'getElementById("report-data")' in package.joinpath("report.js").read_text()
    assert package.joinpath("report.css").is_file()
