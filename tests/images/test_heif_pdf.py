"""HEIC/HEIF through the `heif` extra and PDF pages through the `pdf` extra.

Run by the tests-extras session, which installs both; the other sessions leave them out.
"""

from __future__ import annotations

import io
import sys

import pytest
from pictures import exif_block, has_red_corner, metadata_of, opened, store_as, upright

from chat_image import ImagePart, InvalidInputError, UserMessage
from chat_image._images.errors import UnsupportedImageError
from chat_image._images.limits import ImagePolicy
from chat_image._images.pdf import MAX_PAGES, parse_pages, render_pdf
from chat_image._images.policy import apply_policy

pytestmark = [pytest.mark.pillow, pytest.mark.extras]

COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]


def heic(orientation: int = 1) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()

    image = upright((64, 48))
    stored = image.transpose(store_as(orientation)) if orientation != 1 else image
    out = io.BytesIO()
    stored.save(out, format="HEIF", exif=exif_block(orientation).tobytes(), quality=90)
    return out.getvalue()


def _data_url_message(data: bytes, media_type: str = "image/heic") -> UserMessage:
    import base64

    url = f"data:{media_type};base64," + base64.b64encode(data).decode()
    return UserMessage([{"type": "image_url", "image_url": {"url": url}}])


def _sent(prepared) -> bytes:
    return prepared.messages[0].content[0].image_url.data


@pytest.mark.parametrize("orientation", [1, 6])
def test_heic_becomes_an_upright_jpeg_without_gps_for_openai(orientation):
    prepared = apply_policy([_data_url_message(heic(orientation))], ImagePolicy())
    report = prepared.reports[0]
    assert (report.media_type_before, report.media_type_after) == ("image/heic", "image/jpeg")
    sent = _sent(prepared)
    image = opened(sent)
    assert image.format == "JPEG"
    assert image.size == (64, 48)
    assert has_red_corner(image)
    assert not metadata_of(sent)["gps"]


def test_gemini_takes_heic_but_strip_still_reencodes_it():
    prepared = apply_policy([_data_url_message(heic())], ImagePolicy(limits="gemini"))
    assert prepared.reports[0].media_type_after == "image/jpeg"


def test_without_pillow_heif_the_error_names_the_extra(monkeypatch):
    data = heic()
    monkeypatch.setitem(sys.modules, "pillow_heif", None)
    with pytest.raises(UnsupportedImageError) as caught:
        apply_policy([_data_url_message(data)], ImagePolicy())
    assert caught.value.extra == "heif"
    assert "pip install 'chat-image[heif]'" in str(caught.value)


def _pdf(tmp_path, pages=3):
    from PIL import Image

    images = [Image.new("RGB", (200, 100), colour) for colour in COLOURS[:pages]]
    path = tmp_path / "scan.pdf"
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=72)
    return path


def test_pdf_pages_render_in_order_at_the_dpi(tmp_path):
    pages = render_pdf(_pdf(tmp_path), "2-3", dpi=144)
    assert len(pages) == 2
    for (number, data), colour in zip(pages, COLOURS[1:], strict=True):
        assert number == COLOURS.index(colour) + 1
        image = opened(data)
        assert image.size == (400, 200)
        pixel = image.convert("RGB").getpixel((200, 100))
        assert all(abs(a - b) <= 4 for a, b in zip(pixel, colour, strict=True))  # JPEG inside


def test_a_page_range_outside_the_document_is_refused(tmp_path):
    with pytest.raises(InvalidInputError, match="page 4 is outside the document, which has 3"):
        render_pdf(_pdf(tmp_path), "1-5")


def _encrypted_pdf() -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <"
        + b"11" * 32
        + b"> /U <"
        + b"22" * 32
        + b"> /P -4 >>",
    ]
    data = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(data))
        data += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    data += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    file_id = b"<00112233445566778899aabbccddeeff>"
    data += b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 4 0 R /ID [%s %s] >>\n" % (
        len(objects) + 1,
        file_id,
        file_id,
    )
    return data + b"startxref\n%d\n%%%%EOF\n" % xref


def test_an_encrypted_pdf_is_refused_clearly(tmp_path):
    path = tmp_path / "locked.pdf"
    path.write_bytes(_encrypted_pdf())
    with pytest.raises(InvalidInputError, match="encrypted"):
        render_pdf(path)


def test_page_ranges():
    assert parse_pages("1-3,5", 6) == [1, 2, 3, 5]
    assert parse_pages("4-", 6) == [4, 5, 6]
    assert parse_pages(2, 6) == [2]
    assert parse_pages(None, 2) == [1, 2]
    for bad in ("3-1", "a", "0"):
        with pytest.raises(InvalidInputError):
            parse_pages(bad, 6)
    with pytest.raises(InvalidInputError, match="cap"):
        parse_pages(None, MAX_PAGES + 1)


def test_from_pdf_gives_image_parts(tmp_path):
    path = _pdf(tmp_path)
    parts = ImagePart.from_pdf(path, pages="1-2", dpi=72)
    assert len(parts) == 2
    assert all(part.image_url.media_type == "image/png" for part in parts)
    assert [part.image_url.source for part in parts] == [f"{path}#page=1", f"{path}#page=2"]


def test_ask_and_batch_take_pdf_pages(server, tmp_path):
    from cli_kit import lines, run

    _pdf(tmp_path)
    done = run("ask", "Summarise.", "--model", "m", "--image", "scan.pdf", "--pdf-pages", "2-3",
               "--no-stream", url=server.url, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    content = server.last.json["messages"][0]["content"]
    assert [part["type"] for part in content] == ["text", "image_url", "image_url"]
    folder = tmp_path / "docs"
    folder.mkdir()
    (tmp_path / "scan.pdf").rename(folder / "scan.pdf")
    done = run("batch", "docs", "-o", "out.jsonl", "--prompt", "Summarise.", "--model", "m",
               "--pdf-pages", "1", url=server.url, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    [record] = lines(tmp_path / "out.jsonl")
    assert record["status"] == "ok"
    assert [image["source"] for image in record["images_sent"]] == ["PDF#page=1"]
    assert len(server.last.json["messages"][0]["content"]) == 2
