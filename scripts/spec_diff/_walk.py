"""The walk's machinery: where it is in both documents, how it records a change, `$ref`s."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

from scripts.spec_diff._model import BREAKING, NON_BREAKING, BadInput, Change
from scripts.spec_diff._rules import ANNOTATIONS, RULES

Direction = Literal["request", "response"]


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()


def show(value: object) -> str:
    """A value as messages quote it: JSON, cut at 60 characters."""
    shown = json.dumps(value, ensure_ascii=False, default=str)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def changed(old: object, new: object) -> str:
    """How a value changed, in words: added, removed, or from what to what."""
    if old is MISSING:
        return f"added ({show(new)})"
    if new is MISSING:
        return f"removed (was {show(old)})"
    if isinstance(old, str) and isinstance(new, str) and max(len(old), len(new)) > 55:
        # Long strings that differ near the end: show where they differ, not a shared head.
        same = next(
            (i for i, (x, y) in enumerate(zip(old, new, strict=False)) if x != y),
            min(len(old), len(new)),
        )
        if same > 20:
            return f'changed from "...{old[same - 10 :]}" to "...{new[same - 10 :]}"'
    return f"changed from {show(old)} to {show(new)}"


def _pointer(tokens: Sequence[str]) -> str:
    return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens)


def ordered_union(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The keys of both, in document order: the old ones first."""
    return [*old, *(k for k in new if k not in old)]


def mapping(value: object) -> Mapping[str, Any]:
    """`value` if it is a mapping, else an empty one: malformed parts compare as empty."""
    return value if isinstance(value, Mapping) else {}


def _has_ref(value: object) -> bool:
    if isinstance(value, Mapping):
        return "$ref" in value or any(_has_ref(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_ref(v) for v in value)
    return False


def same(old: object, new: object) -> bool:
    """Equal as written, and no `$ref` in them whose target could differ."""
    return old == new and not _has_ref(old)


def leaf_changes(
    old: object, new: object, prefix: str = ""
) -> Iterator[tuple[str, tuple[Any, Any]]]:
    """(".dotted.key", (old, new)) for each differing leaf of two plain structures."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in ordered_union(old, new):
            a, b = old.get(key, MISSING), new.get(key, MISSING)
            if a != b:
                yield from leaf_changes(a, b, f"{prefix}.{key}")
    elif old != new:
        yield prefix, (old, new)


@dataclass(frozen=True)
class At:
    """Where the walk is: a readable location and JSON pointers into both documents."""

    label: str
    old: tuple[str, ...]
    new: tuple[str, ...]
    field: str = ""
    direction: Direction = "request"

    @property
    def where(self) -> str:
        return f"{self.label} {self.field}" if self.field else self.label

    def down(self, *tokens: str, field: str | None = None, label: str | None = None) -> At:
        return replace(
            self,
            old=self.old + tokens,
            new=self.new + tokens,
            field=self.field if field is None else field,
            label=self.label if label is None else label,
        )


@dataclass
class Walk:
    """Two documents being compared, and the changes found so far."""

    base: Mapping[str, Any]
    candidate: Mapping[str, Any]
    found: dict[tuple[str, str, str], Change] = field(default_factory=dict)
    visited: set[tuple[tuple[str, ...], tuple[str, ...], str]] = field(default_factory=set)

    def report(self, key: str, at: At, message: str, *, removed: bool = False) -> None:
        """Record a change by its rule's key (_rules.py), as severe as the rule says here."""
        rule = RULES[key]
        severity = rule.request if at.direction == "request" else rule.response
        pointer = _pointer(at.old if removed else at.new)
        found = (rule.name, pointer, message)
        known = self.found.get(found)
        # The same component reached twice (a request and a response) keeps its first
        # location, but is breaking if it is breaking anywhere.
        if known is None or (known.severity == NON_BREAKING and severity == BREAKING):
            self.found[found] = Change(severity, rule.name, at.where, message, pointer)

    def unclassified(self, at: At, what: str, old: object, new: object) -> None:
        """Record a change no rule judges: breaking, and marked for review."""
        self.report(
            "unclassified-change",
            at,
            f"{what} {changed(old, new)} (not classified automatically: review it)",
        )

    def annotation(self, key: str, old: object, new: object, at: At) -> bool:
        """Report a documentation or metadata change; False if `key` is neither."""
        if key.startswith("x-apifox"):
            rule, what = "apifox-metadata-changed", f"Apifox metadata {key}"
        elif key.startswith("x-"):
            rule, what = "extension-changed", f"extension {key}"
        elif key in ANNOTATIONS:
            rule, what = ANNOTATIONS[key], key
        else:
            return False
        self.report(rule, at, f"{what} {changed(old, new)}")
        return True

    def resolve(
        self, doc: Mapping[str, Any], node: object, tokens: tuple[str, ...]
    ) -> tuple[object, tuple[str, ...]]:
        """Follow local `$ref`s to what they name, and where that is."""
        for _ in range(64):
            if not isinstance(node, Mapping) or not isinstance(node.get("$ref"), str):
                return node, tokens
            ref: str = node["$ref"]
            if not ref.startswith("#/"):
                return node, tokens  # A remote reference: compared as written.
            tokens = tuple(t.replace("~1", "/").replace("~0", "~") for t in ref[2:].split("/"))
            node = doc
            for token in tokens:
                if not isinstance(node, Mapping) or token not in node:
                    raise BadInput(f"$ref {ref!r} points at nothing")
                node = node[token]
        raise BadInput("$ref chain too long (a loop of references?)")
