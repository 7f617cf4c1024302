"""The report page at 10,000 items: how long `write_report` takes, how big the page is, how
long Chromium (Debian's, under Playwright) takes to open it and to answer each keystroke of
a search. Figures for information: no target, and nothing asserted."""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from ._report import Row

PAGE_ITEMS = 10_000
# What a person types into the search box, one keystroke at a time.
QUERY = "dog 99"
_WORDS = ("cat", "dog", "boat", "tree", "street", "receipt", "invoice", "bicycle", "meadow")

# Each keystroke: the input event, then the next frame after it (so layout and paint count).
_TYPE = """async (query) => {
  const box = document.querySelector('input[type=search]');
  const times = [];
  for (let i = 1; i <= query.length; i++) {
    const start = performance.now();
    box.value = query.slice(0, i);
    box.dispatchEvent(new Event('input'));
    await new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)));
    times.push(performance.now() - start);
  }
  return times;
}"""


def _images(folder: Path, count: int) -> list[str]:
    """`count` distinct photo-like JPEGs (640 x 480: a gradient, a shape, some grain)."""
    from PIL import Image, ImageDraw

    rng = random.Random(7)  # noqa: S311 - pictures, not secrets
    grain = Image.effect_noise((640, 480), 24).convert("RGB")
    paths = []
    for n in range(count):
        base = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
        tint = Image.new("RGB", (640, 480), tuple(rng.randrange(256) for _ in range(3)))
        image = Image.blend(Image.blend(base, tint, 0.6), grain, 0.15)
        draw = ImageDraw.Draw(image)
        x, y = rng.randrange(500), rng.randrange(340)
        draw.ellipse((x, y, x + 140, y + 140), fill=tuple(rng.randrange(256) for _ in range(3)))
        path = folder / f"photo-{n:05d}.jpg"
        image.save(path, "JPEG", quality=85)
        paths.append(str(path))
    return paths


def _output(path: Path, images: list[str]) -> None:
    rng = random.Random(11)  # noqa: S311 - sample text, not secrets
    with path.open("w", encoding="utf-8") as out:
        for n, image in enumerate(images):
            words = " ".join(rng.choice(_WORDS) for _ in range(30))
            failed = n % 25 == 0
            record: dict[str, Any] = {
                "id": Path(image).name,
                "images": [image],
                "status": "error" if failed else "ok",
                "latency_s": round(rng.uniform(0.3, 3.0), 3),
                "attempts": 1,
            }
            if failed:
                record["error"] = {"type": "RateLimitError", "message": "slow", "status_code": 429}
            else:
                record |= {
                    "content": f"Item {n}: {words}.",
                    "finish_reason": "stop",
                    "model": "model-a",
                    "usage": {"prompt_tokens": 800, "completion_tokens": 60, "total_tokens": 860},
                }
            out.write(json.dumps(record) + "\n")


def run_report_page(rounds: int, items: int = PAGE_ITEMS) -> list[Row]:
    """Rows for the report page; one report is written per round, and opened and searched."""
    from playwright.sync_api import sync_playwright

    from chat_image.batch import write_report

    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    write_s: list[float] = []
    size_mb: list[float] = []
    open_ms: list[float] = []
    key_ms: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        root = Path(tmp)
        (root / "images").mkdir()
        images = _images(root / "images", items)
        _output(root / "out.jsonl", images)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium)
            try:
                for _ in range(rounds):
                    started = time.perf_counter()
                    summary = write_report(root / "out.jsonl", root / "report.html")
                    write_s.append(time.perf_counter() - started)
                    size_mb.append(summary.path.stat().st_size / 1e6)
                    page = browser.new_page(viewport={"width": 1400, "height": 900})
                    started = time.perf_counter()
                    page.goto(summary.path.resolve().as_uri())
                    page.wait_for_selector("body[data-ready]", timeout=120_000)
                    open_ms.append((time.perf_counter() - started) * 1000)
                    key_ms += page.evaluate(_TYPE, QUERY)
                    page.close()
            finally:
                browser.close()
    name = f"report: {items:,} items"
    return [
        Row(f"{name}, write_report (thumbnails)", "s", {"chat_image": write_s}, "(info)"),
        Row(f"{name}, page size", "MB", {"chat_image": size_mb}, "(info)"),
        Row(f"{name}, open in Chromium", "ms", {"chat_image": open_ms}, "(info)"),
        Row(f"{name}, search per keystroke", "ms", {"chat_image": key_ms}, "(info)"),
    ]
