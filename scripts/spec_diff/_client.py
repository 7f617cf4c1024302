"""--client: regenerate the client from the candidate and check that overrides/ still fit it."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Final

from scripts import check_overrides
from scripts.generate import GenerationError, generate
from scripts.spec_diff._model import Change, Spec
from scripts.spec_diff._rules import RULES

# How many of mypy's lines --client shows: the first ones name the override; more is noise.
MAX_MYPY_LINES: Final = 10


def _problem(key: str, location: str, message: str) -> Change:
    return Change(RULES[key].request, RULES[key].name, location, message, "")


def client_problems(candidate: Spec) -> list[Change]:
    """Regenerate from the candidate in a temporary directory; check overrides/ against it."""
    with tempfile.TemporaryDirectory(prefix="chat-image-spec-diff-") as tmp:
        spec_copy = Path(tmp) / "openapi.yaml"
        spec_copy.write_text(candidate.text, encoding="utf-8")
        output = Path(tmp) / "generated"
        try:
            generate(output, spec_copy)
        except GenerationError as exc:
            why = str(exc).strip().splitlines()
            return [
                _problem(
                    "client-not-generated",
                    "the client pipeline (scripts/generate.py)",
                    "cannot generate from the candidate: " + " / ".join(why[-3:]),
                )
            ]
        result = check_overrides.check(output)
        shown = [f"mypy: {line}" for line in result.mypy[:MAX_MYPY_LINES]]
        if len(result.mypy) > MAX_MYPY_LINES:
            shown.append(f"mypy: ... and {len(result.mypy) - MAX_MYPY_LINES} more errors")
        return [
            _problem("overrides-broken", "overrides/chat_image", problem)
            for problem in [*shown, *result.contract]
        ]
