"""What a batch's output holds: one JSON line per finished item, its fields decided here.

A line is `{"id", "input_hash", "status": "ok" | "error", ...}`: an answer's content, finish
reason, usage, model and request id, or an error's type, message and status code; then the
attempts and latency. `input_hash` is what decides the answer, so a resume can tell an item
already answered from one whose input changed. With a `response_format` (`--schema`), an
answer also has `parsed`, and an answer that never fit the schema is an error line with its
`problems`. `images` and `request` say what was asked (the images' absolute paths or URLs,
the prompt, model and options), so that `chat-image report` finds each image and shows each
question without being told.

`build_line` makes the line's dict (a feature adds its fields in `answer_fields` or
`error_fields`); `encode_line` makes the bytes the journal appends. Text is written as UTF-8,
except what UTF-8 cannot hold: a lone UTF-16 surrogate (an emoji cut in half at `max_tokens`,
a file name that is not UTF-8) is written as its JSON escape (`\\ud83d`), so that the line
is valid UTF-8 and reads back as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from .._images.policy import ImageReport
from .._models.completion import ChatCompletion
from .._models.messages import is_url
from ._models import RunOptions

__all__ = [
    "answer_fields",
    "build_line",
    "encode_line",
    "error_fields",
    "image_fields",
    "input_hash",
    "request_fields",
]


def input_hash(
    options: RunOptions,
    prompt: str,
    model: str,
    max_tokens: int,
    detail: str | None,
    images: list[bytes | str],
) -> str:
    """What decides the answer: an image's bytes (or URL), the request's text and options."""
    described: dict[str, Any] = {
        "prompt": prompt,
        "system": options.system,
        "model": model,
        "max_tokens": max_tokens,
        "detail": detail,
        "resize": options.resize,
        # The image policy changes what is sent; named only when given, so that the hashes of
        # earlier runs (made before it existed) still match.
        **({"image_policy": repr(options.images)} if options.images is not None else {}),
        **({"pdf_pages": options.pdf_pages} if options.pdf_pages is not None else {}),
        "images": [
            image if isinstance(image, str) else hashlib.sha256(image).hexdigest()
            for image in images
        ],
    }
    if options.response_format is not None:
        # The schema decides the answer too; absent without one, so older hashes still match.
        from .._structured.target import prepare

        described["schema"] = prepare(options.response_format).response_format()
    canonical = json.dumps(described, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def build_line(
    base: Mapping[str, Any],
    outcome: ChatCompletion | Exception,
    *,
    attempts: int,
    latency_s: float,
    request_id: str | None = None,
) -> dict[str, Any]:
    """One finished item's line: `base` (id, input_hash, metadata), its outcome's fields,
    then the attempts it took and its latency."""
    line = dict(base)
    if isinstance(outcome, ChatCompletion):
        line |= answer_fields(outcome, request_id)
    else:
        line |= error_fields(outcome)
    line["attempts"] = attempts
    line["latency_s"] = round(latency_s, 3)
    return line


def encode_line(line: Mapping[str, Any]) -> bytes:
    """`line` as one JSONL line of UTF-8. Outside its strings JSON is ASCII, so the only
    characters `backslashreplace` can meet are lone surrogates in strings, and `\\udXXX`
    is exactly their JSON escape."""
    text = json.dumps(line, ensure_ascii=False, separators=(",", ":"))
    return (text + "\n").encode("utf-8", "backslashreplace")


def answer_fields(completion: ChatCompletion, request_id: str | None) -> dict[str, Any]:
    """An answered item's fields: the first choice's content and finish reason, and usage."""
    choice = completion.choices[0] if completion.choices else None
    usage = completion.usage
    return {
        "status": "ok",
        "content": choice.message.content if choice else None,
        "finish_reason": choice.finish_reason if choice else None,
        "usage": None
        if usage is None
        else {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        },
        "model": completion.model,
        "request_id": request_id,
        **_parsed_fields(completion),
    }


def _parsed_fields(completion: ChatCompletion) -> dict[str, Any]:
    """With `--schema`: `parsed`, the first choice's parsed value as JSON, and the mode and
    attempts that produced it."""
    from .._structured.outcomes import ParsedChatCompletion

    if not isinstance(completion, ParsedChatCompletion):
        return {}
    from .._structured.spec import to_jsonable

    return {
        "parsed": to_jsonable(completion.parsed),
        "structured": {"mode": completion.mode, "answers": completion.attempts},
    }


def error_fields(exc: Exception) -> dict[str, Any]:
    """A failed item's fields: the error's type and message, and the HTTP status if any."""
    return {
        "status": "error",
        "error": {
            "type": type(exc).__name__,
            "message": str(exc),
            "status_code": getattr(exc, "status_code", None),
        },
        "request_id": getattr(exc, "request_id", None),
        **_problem_fields(exc),
    }


def image_fields(reports: Sequence[ImageReport]) -> dict[str, Any]:
    """What the image policy did (issue 18): `actions` over all the item's images, and each
    image's actions, media types, bytes and pixels before and after (`images_sent`; `images`
    is the input paths, the report's field)."""
    actions = sorted({action for report in reports for action in report.actions})
    return {"actions": actions, "images_sent": [report.to_dict() for report in reports]}


def _problem_fields(exc: Exception) -> dict[str, Any]:
    """With `--schema`, an answer that never fit: each problem of the last answer, by path."""
    errors = getattr(exc, "errors", None)
    if not isinstance(errors, list) or not errors:
        return {}
    return {"problems": [str(problem) for problem in errors[-1]]}


def request_fields(
    options: RunOptions,
    images: Sequence[str],
    prompt: str | None,
    model: str | None,
    max_tokens: int,
    detail: str | None,
) -> dict[str, Any]:
    """What an item asked, for the report: its images (a file as an absolute path, so the
    report finds it from any folder; a URL as is) and the request's text and options.

    Written for every line, a failed one too (a missing image is reported where it was).
    """
    return {
        "images": [image if is_url(image) else os.path.abspath(image) for image in images],
        "request": {
            "prompt": prompt,
            "system": options.system,
            "model": model,
            "max_tokens": max_tokens,
            "detail": detail,
            "resize": options.resize,
        },
    }
