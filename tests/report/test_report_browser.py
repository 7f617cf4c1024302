"""The report page in a real browser (Debian's Chromium) over real `chat-image batch` runs
against the fake gateway: what a person sees, clicks and types, and what the page refuses."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_kit import (
    BLUE,
    CHROMIUM,
    RED,
    OpenedPage,
    sideways_jpeg,
    two_halves,
    upright_png,
    write_lines,
)

from chat_image.testing import FakeGateway, RecordedRequest, Reply
from cli_kit import run
from completions import completion

# Collected in every session: Pillow and Playwright are imported inside the tests, which
# only the tests-browser session selects (and where they are missing, they fail there).
pytestmark = [pytest.mark.browser, pytest.mark.pillow]

INJECTED = (
    '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2; alert(1)">'
    " & <b>bold</b>"
)
OLD_ANSWERS: dict[str, Any] = {
    "upright": "A red band above a blue one.",
    "sideways": "Red on top, blue below.",
    "injected": INJECTED,
    "long": ("It goes on and on", "length"),
    "bad": Reply(status=400, message="Invalid image"),
    "down": Reply(status=500, message="The server had an error"),
}
# The second run: one answer kept, one changed, one fixed, one broken, one added, one gone.
NEW_ANSWERS: dict[str, Any] = {
    "upright": "A red band above a blue one.",
    "sideways": "Two bands: red over blue.",
    "injected": INJECTED,
    "long": Reply(status=500, message="The server had an error"),
    "bad": "A small image after all.",
    "extra": "An extra item.",
}


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (see .ci/run)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture
def open_report(chromium: Any) -> Iterator[Any]:
    """`open_report(path)`: the page, loaded and ready, recording requests and dialogs.

    Every request but the page's own file is recorded and refused; a dialog is recorded and
    dismissed, so nothing blocks the test.
    """
    contexts = []

    def opener(path: Path, *, width: int = 1400, height: int = 900) -> OpenedPage:
        context = chromium.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        url = path.resolve().as_uri()
        opened = OpenedPage(page, [], [], [])

        def route(route: Any) -> None:
            if route.request.url == url:
                route.continue_()
            else:
                opened.requests.append(route.request.url)
                route.abort()

        context.route("**/*", route)
        page.on(
            "request",
            lambda r: (
                r.url != url and not r.url.startswith("data:") and opened.requests.append(r.url)
            ),
        )
        page.on("dialog", lambda d: (opened.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: opened.errors.append(str(e)))
        page.on(
            "console",
            lambda m: m.type in ("error", "warning") and opened.errors.append(m.text),
        )
        page.goto(url)
        page.wait_for_selector("body[data-ready]")
        return opened

    yield opener
    for context in contexts:
        context.close()


def _responder(answers: dict[str, Any]):
    def answer(request: RecordedRequest) -> Reply:
        # Each manifest line's prompt ends with "#<id>": the item, whatever its image bytes.
        text = request.json["messages"][-1]["content"][0]["text"]
        given = answers[text.rsplit("#", 1)[1]]
        if isinstance(given, Reply):
            return given
        content, finish = given if isinstance(given, tuple) else (given, "stop")
        body = completion(content)
        body["model"] = request.json["model"]
        body["choices"][0]["finish_reason"] = finish
        return Reply(body=body)

    return answer


def _images(root: Path) -> None:
    folder = root / "images"
    folder.mkdir()
    sideways_jpeg(folder / "sideways.jpg")
    upright_png(folder / "upright.png")
    for name, color in (
        ("injected", (40, 160, 60)),
        ("long", (200, 160, 20)),
        ("bad", (90, 90, 90)),
        ("down", (120, 40, 160)),
        ("extra", (0, 150, 150)),
    ):
        two_halves(320, 200, color, BLUE, vertical=False).save(folder / f"{name}.png")


def _batch(server: FakeGateway, root: Path, answers: dict[str, Any], model: str, out: str) -> None:
    manifest = root / f"{out}.manifest.jsonl"
    items = [
        {
            "id": name,
            "image": f"images/{'sideways.jpg' if name == 'sideways' else name + '.png'}",
            "prompt": f"Describe it. #{name}",
        }
        for name in answers
    ]
    write_lines(manifest, items)
    server.responder = _responder(answers)
    done = run(
        "batch",
        manifest.name,
        "-o",
        out,
        "--model",
        model,
        "--max-retries",
        "0",
        "--concurrency",
        "2",
        url=server.url,
        cwd=root,
    )
    assert done.returncode in (0, 1), done.stderr  # 1: some items failed, as they should


def _report(root: Path, *args: str) -> Path:
    done = run("report", *args, url=None, cwd=root)
    assert done.returncode == 0, done.stderr
    return root / args[args.index("-o") + 1]


@pytest.fixture
def runs(server: FakeGateway, tmp_path: Path) -> Path:
    """Two real batch runs over the same images (old.jsonl, new.jsonl) in `tmp_path`."""
    _images(tmp_path)
    _batch(server, tmp_path, OLD_ANSWERS, "model-a", "old.jsonl")
    _batch(server, tmp_path, NEW_ANSWERS, "model-b", "new.jsonl")
    return tmp_path


def test_cards_and_facet_counts_are_the_runs_items(runs: Path, open_report):
    page = open_report(_report(runs, "old.jsonl", "-o", "report.html"))
    cards = page.cards()
    assert sorted(c["id"] for c in cards) == sorted(OLD_ANSWERS)
    assert Counter(c["status"] for c in cards) == {"ok": 4, "error": 2}
    assert page.facet_counts("status") == {"ok": 4, "error": 2}
    assert page.facet_counts("finish_reason") == {"stop": 3, "length": 1}
    assert page.facet_counts("error_type") == {"BadRequestError": 1, "InternalServerError": 1}
    assert page.facet_counts("model") == {"model-a": 6}
    summary = page.page.inner_text("#summary")
    assert summary.startswith("6 items · 4 ok · 2 failed · 4,520 tokens (4,472 in / 48 out)")
    card = page.page.locator('article[data-id="long"]')
    assert "length" in card.inner_text()
    assert "It goes on and on" in card.inner_text()
    error = page.page.locator('article[data-id="bad"] .error').inner_text()
    assert error.startswith("BadRequestError (400): ")
    assert "Invalid image" in error
    assert page.requests == []
    assert page.dialogs == []
    assert page.errors == []


def test_a_facet_click_and_typing_filter_the_cards(runs: Path, open_report):
    page = open_report(_report(runs, "old.jsonl", "-o", "report.html"))
    page.facet("status", "error").click()
    assert sorted(c["id"] for c in page.cards()) == ["bad", "down"]
    assert (
        page.page.get_attribute('[data-facet="status"][data-value="error"]', "aria-pressed")
        == "true"
    )
    # The other facets count what is left: both errors, one of each type.
    assert page.facet_counts("error_type") == {"BadRequestError": 1, "InternalServerError": 1}
    assert page.facet_counts("finish_reason") == {"stop": 0, "length": 0}
    page.facet("error_type", "InternalServerError").click()
    assert [c["id"] for c in page.cards()] == ["down"]
    page.page.click("#clear")
    assert len(page.cards()) == 6
    search = page.page.locator("input[type=search]")
    search.click()
    # Typed a key at a time, as a person does: the cards follow each keystroke.
    search.press_sequentially("red", delay=30)
    assert sorted(c["id"] for c in page.cards()) == ["sideways", "upright"]
    search.press_sequentially(" top", delay=30)
    assert [c["id"] for c in page.cards()] == ["sideways"]
    assert page.page.inner_text("#matching") == "1"
    assert page.facet_counts("status") == {"ok": 1, "error": 0}
    search.fill("BOLD")  # answers are searched whatever the case
    assert [c["id"] for c in page.cards()] == ["injected"]
    search.fill("nothing like this")
    assert page.cards() == []
    assert page.page.inner_text("#cards") == "No item matches."


def test_an_injected_answer_is_text_and_runs_nothing(runs: Path, open_report):
    page = open_report(_report(runs, "old.jsonl", "-o", "report.html"))
    answer = page.page.locator('article[data-id="injected"] .answer')
    assert answer.text_content() == INJECTED
    assert page.page.evaluate("window.__pwned") is None
    assert page.page.locator('article script, article img[src="x"], article b').count() == 0
    search = page.page.locator("input[type=search]")
    search.fill("<script>")  # searching for it renders it again: still text
    assert [c["id"] for c in page.cards()] == ["injected"]
    assert page.page.evaluate("window.__pwned") is None
    assert page.dialogs == []
    assert page.requests == []
    assert page.errors == []


def test_thumbnails_are_decoded_upright_and_a_missing_image_says_so(runs: Path, open_report):
    from PIL import Image

    (runs / "images" / "down.png").unlink()
    page = open_report(_report(runs, "old.jsonl", "-o", "report.html"))
    sizes = page.page.eval_on_selector_all(
        "article[data-id] img",
        "imgs => imgs.map(i => [i.closest('article').dataset.id, i.complete, i.naturalWidth,"
        " i.naturalHeight])",
    )
    assert sorted(s[0] for s in sizes) == ["bad", "injected", "long", "sideways", "upright"]
    assert all(complete and width > 0 for _, complete, width, _ in sizes)
    natural = {item: (width, height) for item, _, width, height in sizes}
    assert natural["sideways"] == (60, 120)  # stored 120 x 60, EXIF: turn it upright
    assert natural["upright"] == (96, 64)
    # What the screen shows: red on top and blue below, for both.
    for item in ("sideways", "upright"):
        shot = page.page.locator(f'article[data-id="{item}"] img').screenshot()
        with Image.open(io.BytesIO(shot)) as image:
            pixels = image.convert("RGB")
        width, height = pixels.size
        top = pixels.getpixel((width // 2, height // 5))
        bottom = pixels.getpixel((width // 2, height * 4 // 5))
        assert _near(top, RED), (item, top)
        assert _near(bottom, BLUE), (item, bottom)
    missing = page.page.locator('article[data-id="down"] [data-thumb="missing"]')
    assert missing.inner_text() == "missing: " + str(runs / "images" / "down.png")
    assert "1 image(s) not found" in page.page.inner_text("header")
    assert page.requests == []
    assert page.errors == []


def _near(color: tuple[int, ...], target: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(color, target, strict=False))


def test_images_that_moved_are_found_with_images_dir(runs: Path, open_report):
    (runs / "images").rename(runs / "elsewhere")
    moved = open_report(_report(runs, "old.jsonl", "-o", "moved.html"))
    assert moved.page.locator("[data-thumb=missing]").count() == 6
    found = open_report(_report(runs, "old.jsonl", "-o", "found.html", "--images", "elsewhere"))
    assert found.page.locator("article img").count() == 6
    assert found.page.locator("[data-thumb]").count() == 0


def test_compare_classifies_each_item(runs: Path, open_report, tmp_path: Path):
    page = open_report(_report(runs, "new.jsonl", "--compare", "old.jsonl", "-o", "compare.html"))
    changes = {c["id"]: c["change"] for c in page.cards()}
    assert changes == {
        "upright": "same",
        "injected": "same",
        "sideways": "changed",
        "bad": "fixed",
        "long": "broke",
        "extra": "added",
        "down": "removed",
    }
    assert page.facet_counts("change") == {
        "same": 2,
        "changed": 1,
        "fixed": 1,
        "broke": 1,
        "added": 1,
        "removed": 1,
    }
    assert page.page.inner_text("#changes") == (
        "against the old run: 2 same · 1 changed · 1 fixed · 1 broke · 1 added · 1 removed"
    )
    assert page.page.inner_text("#summary").startswith("new run: 6 items · 5 ok · 1 failed")
    card = page.page.locator('article[data-change="changed"]')
    assert card.locator('[data-side="old"] .answer').inner_text() == "Red on top, blue below."
    assert card.locator('[data-side="new"] .answer').inner_text() == "Two bands: red over blue."
    # The words that differ are marked, and the text stays the text.
    assert card.locator('[data-side="new"] ins').all_inner_texts() == [
        "Two",
        "bands:",
        "red",
        "over",
        "blue.",
    ]
    assert card.locator('[data-side="old"] del').all_inner_texts() == [
        "Red",
        "on",
        "top,",
        "blue",
        "below.",
    ]
    assert page.page.locator('[data-change="same"] ins, [data-change="same"] del').count() == 0
    removed = page.page.locator('article[data-id="down"]')
    assert removed.get_attribute("data-status") == "error"
    assert removed.locator('[data-side="new"]').inner_text().endswith("not in the new run")
    page.facet("change", "broke").click()
    assert [c["id"] for c in page.cards()] == ["long"]
    page.facet("change", "fixed").click()  # values of one facet add up
    assert sorted(c["id"] for c in page.cards()) == ["bad", "long"]
    assert page.facet_counts("model") == {"model-a": 0, "model-b": 2}
    assert page.page.evaluate("window.__pwned") is None
    assert page.requests == []
    assert page.dialogs == []
    assert page.errors == []
    page.page.click("#clear")
    for change in ("changed", "fixed", "broke"):  # what a person looks at first
        page.facet("change", change).click()
    assert sorted(c["id"] for c in page.cards()) == ["bad", "long", "sideways"]
    page.shot("report-compare.png", tmp_path)


def test_compare_facets_the_parsed_fields_that_changed(tmp_path: Path, open_report):
    def line(item: str, **parsed: Any) -> dict[str, Any]:
        return {
            "id": item,
            "status": "ok",
            "content": json.dumps(parsed),
            "parsed": parsed,
            "model": "m",
            "finish_reason": "stop",
        }

    old = write_lines(
        tmp_path / "old.jsonl",
        [
            line("r1", total=12.5, currency="EUR", vendor="Bakery"),
            line("r2", total=3.0, currency="EUR", vendor="Kiosk"),
            line("r3", total=8.0, currency="USD", vendor="Cafe"),
        ],
    )
    new = write_lines(
        tmp_path / "new.jsonl",
        [
            line("r1", total=12.5, currency="EUR", vendor="Bakery"),
            line("r2", total=30.0, currency="EUR", vendor="Kiosk"),
            line("r3", total=8.0, currency="EUR", vendor="Café"),
        ],
    )
    done = run("report", new.name, "--compare", old.name, "-o", "p.html", url=None, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    page = open_report(tmp_path / "p.html")
    assert page.facet_counts("field") == {"currency": 1, "total": 1, "vendor": 1}
    page.facet("field", "total").click()
    assert [c["id"] for c in page.cards()] == ["r2"]
    rows = page.page.locator('article[data-id="r2"] [data-side="new"] tr.changed')
    assert rows.inner_text().split("\t") == ["total", "30"]
    page.page.click("#clear")
    page.facet("field", "currency").click()
    assert [c["id"] for c in page.cards()] == ["r3"]


def test_the_same_runs_give_the_same_bytes(runs: Path):
    first = _report(runs, "new.jsonl", "--compare", "old.jsonl", "-o", "a.html").read_bytes()
    second = _report(runs, "new.jsonl", "--compare", "old.jsonl", "-o", "b.html").read_bytes()
    assert first == second
    assert b"<script" in first


def test_without_pillow_cards_say_why_there_is_no_thumbnail(runs: Path, open_report):
    # Pillow made unimportable in a fresh interpreter, as when the extra is not installed.
    code = (
        "import sys; sys.modules['PIL'] = None\n"
        "from chat_image.batch import write_report\n"
        "print(write_report('old.jsonl', 'plain.html'))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=runs, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "pillow=False" in done.stdout
    page = open_report(runs / "plain.html")
    notes = page.page.eval_on_selector_all("[data-thumb]", "els => els.map(e => e.dataset.thumb)")
    assert notes == ["no-pillow"] * 6
    assert page.page.locator("article img").count() == 0
    text = page.page.locator('article[data-id="upright"] [data-thumb]').inner_text()
    assert text == "no thumbnail: Pillow is not installed (pip install 'chat-image[images]')"


def test_a_screenshot_of_a_report(runs: Path, open_report, tmp_path: Path):
    from PIL import Image

    page = open_report(_report(runs, "old.jsonl", "-o", "report.html"))
    assert len(page.cards()) == 6
    with Image.open(page.shot("report.png", tmp_path)) as shot:
        assert shot.size == (1400, 900)


def test_ten_thousand_items_open_and_search_render_only_what_is_visible(tmp_path, open_report):
    records = [
        {
            "id": f"item-{n:05d}",
            "status": "ok" if n % 10 else "error",
            "content": f"answer number {n} about a {'cat' if n % 3 else 'dog'}",
            "error": None
            if n % 10
            else {"type": "RateLimitError", "message": "slow down", "status_code": 429},
            "model": "m",
            "finish_reason": "stop" if n % 10 else None,
        }
        for n in range(10_000)
    ]
    write_lines(tmp_path / "big.jsonl", records)
    page = open_report(_report(tmp_path, "big.jsonl", "-o", "big.html"))
    assert page.facet_counts("status") == {"ok": 9000, "error": 1000}
    assert page.page.inner_text("#matching") == "10000"
    shown = page.page.locator("article[data-id]").count()
    assert 0 < shown <= 300  # rendered as they come into view, not 10,000 at once
    page.page.mouse.wheel(0, 20_000)
    # Polled from here: the page's policy refuses wait_for_function's string evaluation.
    for _ in range(100):
        if page.page.locator("article[data-id]").count() > shown:
            break
        page.page.wait_for_timeout(100)
    assert page.page.locator("article[data-id]").count() > shown
    page.page.locator("input[type=search]").fill("dog 99")
    ids = [c["id"] for c in page.cards()]
    expected = [r["id"] for r in records if "dog" in r["content"] and "99" in r["content"]]
    assert page.page.inner_text("#matching") == str(len(expected))
    assert ids
    assert ids == expected[: len(ids)]
