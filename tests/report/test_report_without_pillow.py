"""Without the images extra, a report is still written; its cards say why they have no
thumbnail."""

from __future__ import annotations

import pytest
from report_kit import page_data, write_lines

from chat_image.batch import write_report

pytestmark = pytest.mark.no_pillow

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def test_cards_say_there_is_no_thumbnail_and_why(tmp_path):
    with pytest.raises(ImportError):
        import PIL  # noqa: F401 - this session runs without the extra
    (tmp_path / "a.png").write_bytes(PNG)
    out = write_lines(
        tmp_path / "out.jsonl",
        [
            {"id": "a.png", "status": "ok", "content": "dot", "images": [str(tmp_path / "a.png")]},
            {
                "id": "gone.png",
                "status": "ok",
                "content": "?",
                "images": [str(tmp_path / "gone.png")],
            },
        ],
    )
    summary = write_report(out, tmp_path / "r.html")
    assert (summary.pillow, summary.thumbnails, summary.missing_images) == (False, 0, 1)
    html = summary.path.read_text(encoding="utf-8")
    thumbs = {item["id"]: item["thumbs"] for item in page_data(html)["items"]}
    assert thumbs["a.png"] == [
        {
            "why": "no-pillow",
            "text": "no thumbnail: Pillow is not installed (pip install 'chat-image[images]')",
        }
    ]
    assert thumbs["gone.png"] == [{"why": "missing", "text": f"missing: {tmp_path / 'gone.png'}"}]
    assert "Pillow is not installed" in html.split("</script>", 1)[1]  # the header says it too
