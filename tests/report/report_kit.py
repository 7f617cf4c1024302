"""The report tests' kit: pages open in Chromium that record what they try to load, images
with known pixels and EXIF orientations, and the data a report embeds."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import attrs

# Debian's chromium, as .ci/run installs it; Playwright's own browser downloads are not used.
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Set (to a folder) to keep the screenshots the tests take, e.g. docs/images for the docs.
SCREENSHOTS_ENV = "CHAT_IMAGE_REPORT_SCREENSHOTS"

RED = (220, 30, 30)
BLUE = (30, 60, 220)


def write_lines(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def two_halves(
    width: int,
    height: int,
    first: tuple[int, int, int],
    second: tuple[int, int, int],
    *,
    vertical: bool,
) -> Any:
    """An RGB image split in two: left/right halves (`vertical`) or top/bottom ones."""
    from PIL import Image

    image = Image.new("RGB", (width, height), second)
    box = (0, 0, width // 2, height) if vertical else (0, 0, width, height // 2)
    image.paste(first, box)
    return image


def sideways_jpeg(path: Path) -> Path:
    """A JPEG stored 120 x 60 (red left, blue right) whose EXIF says "rotate 90 degrees
    clockwise" (orientation 6), with a GPS position: upright it is 60 x 120, red on top."""
    from PIL import Image

    image = two_halves(120, 60, RED, BLUE, vertical=True)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0)}  # GPSInfo: latitude
    image.save(path, "JPEG", quality=95, exif=exif.tobytes())
    return path


def upright_png(path: Path, color: tuple[int, int, int] = RED) -> Path:
    """A PNG, 96 x 64, `color` on top and blue below."""
    two_halves(96, 64, color, BLUE, vertical=False).save(path, "PNG")
    return path


def decode_data_url(url: str) -> Any:
    import base64

    from PIL import Image

    head, _, data = url.partition(",")
    assert head == "data:image/jpeg;base64", head
    return Image.open(io.BytesIO(base64.b64decode(data)))


def page_data(html: str) -> dict[str, Any]:
    """The items a report page embeds (its JSON data block), as the page's script reads them."""
    start = html.index('<script type="application/json" id="report-data">')
    start = html.index(">", start) + 1
    end = html.index("</script>", start)
    return json.loads(html[start:end])


@attrs.define
class OpenedPage:
    """A report open in the browser, with everything it tried to load and every dialog."""

    page: Any
    requests: list[str]
    dialogs: list[str]
    errors: list[str]

    def cards(self) -> list[dict[str, str]]:
        return self.page.eval_on_selector_all(
            "article[data-id]",
            "els => els.map(e => ({id: e.dataset.id, status: e.dataset.status,"
            " change: e.dataset.change || null}))",
        )

    def facet(self, facet: str, value: str) -> Any:
        return self.page.locator(f'[data-facet="{facet}"][data-value="{value}"]')

    def facet_counts(self, facet: str) -> dict[str, int]:
        texts = self.page.eval_on_selector_all(
            f'[data-facet="{facet}"]',
            "els => els.map(e => [e.dataset.value, e.textContent])",
        )
        # The count is in the control's text, after the value.
        return {value: int(text.rsplit(" ", 1)[1]) for value, text in texts}

    def shot(self, name: str, tmp: Path) -> Path:
        path = tmp / name
        self.page.screenshot(path=str(path), full_page=False)
        keep = os.environ.get(SCREENSHOTS_ENV)
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, Path(keep) / name)
        return path
