"""What spec-diff reads and reports: a loaded document, a change, and bad input."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

Severity = Literal["breaking", "non-breaking"]
BREAKING: Final = "breaking"
NON_BREAKING: Final = "non-breaking"

# Exit statuses, documented in CONTRIBUTING.md.
EXIT_NONE: Final = 0
EXIT_NON_BREAKING: Final = 1
EXIT_BREAKING: Final = 2
EXIT_BAD_INPUT: Final = 3


class BadInput(Exception):
    """The candidate (or the base) cannot be compared; the message says why."""


@dataclass(frozen=True)
class Change:
    """One change between the documents: how it affects clients, which rule, and where."""

    severity: Severity
    rule: str
    location: str
    message: str
    pointer: str

    def line(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass(frozen=True)
class Spec:
    """A loaded document: the spec text exactly as published, and its parsed form."""

    label: str
    text: str
    data: Mapping[str, Any]
