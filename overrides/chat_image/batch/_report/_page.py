"""The report as one HTML file: static header, the items as inert JSON, then the script.

Nothing in the page is fetched: styles and script are inline, pictures are data URLs, and a
Content-Security-Policy allows exactly the page's own style and script (by hash), images
from data URLs, and nothing else. Text from the batch output reaches the page only through
JSON (with `<`, `>` and `&` escaped) and, in the page, `textContent`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import statistics
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import IO, Any, Final

from ..._version import __version__

__all__ = ["Totals", "page_head", "page_tail", "side", "write_items"]

_ESCAPES: Final = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def inert_json(value: object) -> str:
    """JSON that cannot end the <script> element holding it, nor start markup inside it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.translate(_ESCAPES)


def _text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: object) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def side(record: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What a card shows of one run's line for an item, with every field's type checked."""
    if record is None:
        return None
    request = record.get("request")
    request = request if isinstance(request, dict) else {}
    usage = record.get("usage")
    tokens = None
    if isinstance(usage, dict):
        tokens = [
            _int(usage.get("prompt_tokens")) or 0,
            _int(usage.get("completion_tokens")) or 0,
            _int(usage.get("total_tokens")) or 0,
        ]
    error = record.get("error")
    shown_error = None
    if isinstance(error, dict) or record.get("status") != "ok":
        error = error if isinstance(error, dict) else {}
        shown_error = {
            "type": _text(error.get("type")) or "Error",
            "message": _text(error.get("message")) or "",
            "status_code": _int(error.get("status_code")),
        }
    parsed = record.get("parsed")
    model = record.get("model") or request.get("model")
    return {
        "status": _text(record.get("status")) or "unknown",
        "content": _text(record.get("content")),
        "parsed": parsed if isinstance(parsed, dict) else None,
        "finish_reason": _text(record.get("finish_reason")),
        "model": _text(model),
        "tokens": tokens,
        "latency_s": _number(record.get("latency_s")),
        "attempts": _int(record.get("attempts")),
        "error": shown_error,
        "prompt": _text(request.get("prompt")),
    }


class Totals:
    """The summary line's figures, added up over the new run's records."""

    def __init__(self) -> None:
        self.items = 0
        self.ok = 0
        self.failed = 0
        self.tokens_in = 0
        self.tokens_out = 0
        self.latencies: list[float] = []
        self.changes: dict[str, int] = {}

    def add(self, shown: Mapping[str, Any]) -> None:
        self.items += 1
        if shown["status"] == "ok":
            self.ok += 1
        else:
            self.failed += 1
        if shown["tokens"] is not None:
            self.tokens_in += shown["tokens"][0]
            self.tokens_out += shown["tokens"][1]
        if shown["latency_s"] is not None:
            self.latencies.append(float(shown["latency_s"]))


def _figure(key: str, value: str, words: str) -> str:
    return f'<b data-summary="{key}">{html.escape(value)}</b> {html.escape(words)}'


def _summary(totals: Totals) -> str:
    tokens = totals.tokens_in + totals.tokens_out
    parts = [
        _figure("items", f"{totals.items:,}", "items"),
        _figure("ok", f"{totals.ok:,}", "ok"),
        _figure("failed", f"{totals.failed:,}", "failed"),
        _figure("tokens", f"{tokens:,}", "tokens")
        + f" ({totals.tokens_in:,} in / {totals.tokens_out:,} out)",
    ]
    if totals.latencies:
        total = sum(totals.latencies)
        median = statistics.median(totals.latencies)
        parts.append(
            _figure("time", f"{total:,.1f} s", "of requests") + f" (median {median:.2f} s)"
        )
    return " \u00b7 ".join(parts)


def page_head(out: IO[str], *, title: str, compare: bool, thumb_px: int) -> None:
    """Everything before the items: the document head and the opening of the data."""
    css = _asset("report.css")
    js = _asset("report.js")
    policy = (
        f"default-src 'none'; img-src data:; style-src {_hash(css)}; "
        f"script-src {_hash(js)}; base-uri 'none'; form-action 'none'"
    )
    mode = "compare" if compare else "single"
    out.write(
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        f'<meta name="generator" content="chat-image {html.escape(__version__)}">\n'
        f"<title>{html.escape(title)}</title>\n<style>{css}</style>\n</head>\n"
        f'<body class="{mode}">\n'
        '<script type="application/json" id="report-data">'
        f'{{"mode":"{mode}","thumb_px":{thumb_px},"items":['
    )


def write_items(out: IO[str], items: Iterable[dict[str, Any]]) -> None:
    for index, item in enumerate(items):
        if index:
            out.write(",\n")
        out.write(inert_json(item))


def page_tail(
    out: IO[str], *, title: str, totals: Totals, changes: Mapping[str, int] | None, notes: list[str]
) -> None:
    """Everything after the items: the header with the summary, the controls, the script.

    The header comes after the data in the file (the data's element shows nothing, so the
    header is still first on the page): the summary is written once every item has been
    counted, and the items are never all held at once.
    """
    out.write("]}</script>\n")
    out.write(f'<header class="top">\n<h1>{html.escape(title)}</h1>\n')
    lead = "new run: " if changes is not None else ""
    out.write(f'<p class="summary" id="summary">{lead}{_summary(totals)}</p>\n')
    if changes is not None:
        line = " \u00b7 ".join(_figure(name, f"{count:,}", name) for name, count in changes.items())
        out.write(f'<p class="summary" id="changes">against the old run: {line}</p>\n')
    for note in notes:
        out.write(f'<p class="notes">{html.escape(note)}</p>\n')
    out.write(
        '<div class="controls">'
        '<input type="search" id="search" placeholder="Search ids, answers and errors" '
        'aria-label="Search ids, answers and errors" autocomplete="off" spellcheck="false">'
        '<button type="button" class="clear" id="clear" data-action="clear">Clear</button>'
        '<span class="shown"><span id="matching">0</span> matching</span></div>\n'
        "</header>\n"
        '<main><nav class="facets" id="facets" aria-label="Filters"></nav>'
        '<div class="cards" id="cards"></div></main>\n'
        "<noscript>The cards need JavaScript, which this page runs from itself only."
        "</noscript>\n"
        f"<script>{_asset('report.js')}</script>\n</body>\n</html>\n"
    )
