"""What a batch's output holds: one JSON line per finished item, its fields decided here.

A line is `{"id", "input_hash", "status": "ok" | "error", ...}`: an answer's content, finish
reason, usage, model and request id, or an error's type, message and status code; then the
attempts and latency. `input_hash` is what decides the answer, so a resume can tell an item
already answered from one whose input changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from .._images.policy import ImageReport
from .._models.completion import ChatCompletion
from ._models import RunOptions

__all__ = ["answer_fields", "error_fields", "image_fields", "input_hash"]


def input_hash(
    options: RunOptions,
    prompt: str,
    model: str,
    max_tokens: int,
    detail: str | None,
    images: list[bytes | str],
) -> str:
    """What decides the answer: an image's bytes (or URL), the request's text and options."""
    described = {
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
    canonical = json.dumps(described, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


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
    }


def image_fields(reports: Sequence[ImageReport]) -> dict[str, Any]:
    """What the image policy did (issue 18): `actions` over all the item's images, and each
    image's actions, media types, bytes and pixels before and after."""
    actions = sorted({action for report in reports for action in report.actions})
    return {"actions": actions, "images": [report.to_dict() for report in reports]}
