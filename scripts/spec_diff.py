"""Compare a candidate upstream spec with openapi.yaml and classify every change.

    python -m scripts.spec_diff NEW_SPEC [--base PATH] [--json] [--client]

NEW_SPEC is a path or an http(s) URL holding an OpenAPI 3 document, or the gateway's whole
published (Apifox) page: prose, a line "OpenAPI specification", then the YAML from
`openapi: 3.0.1` to the end; the spec section is taken from it.

Each change is breaking or non-breaking for a client of the API:
- breaking: a path, operation, parameter, response or property removed; a property,
  parameter or the request body newly required; a type or format changed; a request enum
  value removed; anything this tool does not know how to judge (it says so: review it);
- non-breaking: a path, operation or optional property added; a request enum value added;
  a description, summary, title or example changed; `x-*` (e.g. `x-apifox-*`) metadata.
In responses the direction flips where it matters: a property that stops being required or
a new enum value breaks clients (generated literal enums reject values they do not know).
A renamed property shows as removed + added, so it is breaking.

`--client` also regenerates the client from the candidate in a temporary directory and
checks that overrides/ still fit it (scripts.check_overrides); a failure there is
reported as a breaking change. Nothing in the work tree is written.

Exit status (documented in README.md):
  0  no changes
  1  non-breaking changes only
  2  at least one breaking change
  3  bad input: unreadable, not YAML, or not an OpenAPI 3 document
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal

import yaml

from scripts import paths
from scripts.generate import GenerationError, generate

EXIT_NONE: Final = 0
EXIT_NON_BREAKING: Final = 1
EXIT_BREAKING: Final = 2
EXIT_BAD_INPUT: Final = 3

Severity = Literal["breaking", "non-breaking"]
Direction = Literal["request", "response"]
BREAKING: Final = "breaking"
NON_BREAKING: Final = "non-breaking"

# How many of mypy's lines --client shows: the first ones name the override; more is noise.
MAX_MYPY_LINES: Final = 10
# The line of the published page after which the spec section starts.
PAGE_MARKER: Final = "OpenAPI specification"
METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Documentation: changing these never changes what goes over the wire.
ANNOTATIONS: Final = {
    "description": "description-changed",
    "summary": "summary-changed",
    "title": "title-changed",
    "example": "example-changed",
    "examples": "example-changed",
    "externalDocs": "external-docs-changed",
    "deprecated": "deprecated-changed",
}
# Schema keywords the walk judges itself; any other changed keyword is reported as
# "constraint-changed" (breaking, to be reviewed).
SCHEMA_KEYWORDS: Final = frozenset(
    {
        "$ref",
        "type",
        "format",
        "nullable",
        "enum",
        "properties",
        "required",
        "items",
        "additionalProperties",
        "oneOf",
        "anyOf",
        "allOf",
        "default",
    }
)


class BadInput(Exception):
    """The candidate (or the base) cannot be compared; the message says why."""


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()


@dataclass(frozen=True)
class Change:
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


# --- loading ---------------------------------------------------------------------------


def read_source(source: str) -> str:
    """The text at a path or an http(s) URL."""
    if re.match(r"https?://", source):
        try:
            with urllib.request.urlopen(source, timeout=60) as response:  # noqa: S310
                body: bytes = response.read()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise BadInput(f"{source}: cannot fetch it ({exc})") from None
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadInput(f"{source}: not UTF-8 text ({exc})") from None
    try:
        return Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{source}: cannot read it ({exc})") from None


def extract_spec_text(text: str, label: str) -> str:
    """The OpenAPI document in `text`: the whole text, or a published page's spec section."""
    lines = text.splitlines(keepends=True)
    markers = [i for i, line in enumerate(lines) if line.strip() == PAGE_MARKER]
    if markers:
        after = lines[markers[0] + 1 :]
        starts = [i for i, line in enumerate(after) if line.startswith("openapi:")]
        if not starts:
            raise BadInput(
                f"{label}: the page has a line {PAGE_MARKER!r} but no `openapi:` line after it"
            )
        text = "".join(after[starts[0] :])
    return text if text.endswith("\n") else text + "\n"


def parse_spec(text: str, label: str) -> Spec:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BadInput(f"{label}: not valid YAML ({exc})") from None
    if not isinstance(data, Mapping) or "openapi" not in data:
        raise BadInput(
            f"{label}: not an OpenAPI document (no top-level `openapi:` key), and no line "
            f"{PAGE_MARKER!r} to find one after"
        )
    version = str(data["openapi"])
    if not version.startswith("3."):
        raise BadInput(f"{label}: OpenAPI {version}; this tool compares OpenAPI 3 documents")
    if not isinstance(data.get("paths", {}), Mapping):
        raise BadInput(f"{label}: `paths` is not a mapping")
    return Spec(label, text, data)


def load_spec(source: str) -> Spec:
    """A candidate from a path or URL: a plain document or a published page."""
    return parse_spec(extract_spec_text(read_source(source), source), source)


# --- comparing -------------------------------------------------------------------------


def _show(value: object) -> str:
    shown = json.dumps(value, ensure_ascii=False, default=str)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _changed(old: object, new: object) -> str:
    if old is MISSING:
        return f"added ({_show(new)})"
    if new is MISSING:
        return f"removed (was {_show(old)})"
    if isinstance(old, str) and isinstance(new, str) and max(len(old), len(new)) > 55:
        # Long strings that differ near the end: show where they differ, not a shared head.
        same = next(
            (i for i, (x, y) in enumerate(zip(old, new, strict=False)) if x != y),
            min(len(old), len(new)),
        )
        if same > 20:
            return f'changed from "...{old[same - 10 :]}" to "...{new[same - 10 :]}"'
    return f"changed from {_show(old)} to {_show(new)}"


def _pointer(tokens: Sequence[str]) -> str:
    return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens)


def _ordered_union(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return [*old, *(k for k in new if k not in old)]


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _has_ref(value: object) -> bool:
    if isinstance(value, Mapping):
        return "$ref" in value or any(_has_ref(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_ref(v) for v in value)
    return False


def _same(old: object, new: object) -> bool:
    """Equal as written, and no `$ref` in them whose target could differ."""
    return old == new and not _has_ref(old)


@dataclass(frozen=True)
class _At:
    """Where the walk is: a readable location and JSON pointers into both documents."""

    label: str
    old: tuple[str, ...]
    new: tuple[str, ...]
    field: str = ""
    direction: Direction = "request"

    @property
    def where(self) -> str:
        return f"{self.label} {self.field}" if self.field else self.label

    def down(self, *tokens: str, field: str | None = None, label: str | None = None) -> _At:
        return replace(
            self,
            old=self.old + tokens,
            new=self.new + tokens,
            field=self.field if field is None else field,
            label=self.label if label is None else label,
        )


@dataclass
class _Differ:
    base: Mapping[str, Any]
    candidate: Mapping[str, Any]
    found: dict[tuple[str, str, str], Change] = field(default_factory=dict)
    visited: set[tuple[tuple[str, ...], tuple[str, ...], str]] = field(default_factory=set)

    def report(
        self, severity: Severity, rule: str, at: _At, message: str, *, removed: bool = False
    ) -> None:
        pointer = _pointer(at.old if removed else at.new)
        key = (rule, pointer, message)
        known = self.found.get(key)
        # The same component reached twice (a request and a response) keeps its first
        # location, but is breaking if it is breaking anywhere.
        if known is None or (known.severity == NON_BREAKING and severity == BREAKING):
            self.found[key] = Change(severity, rule, at.where, message, pointer)

    def unclassified(self, at: _At, what: str, old: object, new: object) -> None:
        self.report(
            BREAKING,
            "unclassified-change",
            at,
            f"{what} {_changed(old, new)} (not classified automatically: review it)",
        )

    def annotation(self, key: str, old: object, new: object, at: _At) -> bool:
        """Report a documentation or metadata change; False if `key` is neither."""
        if key.startswith("x-apifox"):
            rule, what = "apifox-metadata-changed", f"Apifox metadata {key}"
        elif key.startswith("x-"):
            rule, what = "extension-changed", f"extension {key}"
        elif key in ANNOTATIONS:
            rule, what = ANNOTATIONS[key], key
        else:
            return False
        self.report(NON_BREAKING, rule, at, f"{what} {_changed(old, new)}")
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

    # The document ----------------------------------------------------------------------

    def diff(self) -> list[Change]:
        self.document()
        self.paths()
        self.components()
        return list(self.found.values())

    def document(self) -> None:
        at = _At("document", (), ())
        for key in _ordered_union(self.base, self.candidate):
            old, new = self.base.get(key, MISSING), self.candidate.get(key, MISSING)
            if key in ("paths", "components") or old == new:
                continue
            here = at.down(key, label=key)
            if key == "openapi":
                same_minor = str(old).split(".")[:2] == str(new).split(".")[:2]
                self.report(
                    NON_BREAKING if same_minor else BREAKING,
                    "openapi-version-changed",
                    here,
                    f"OpenAPI version {_changed(old, new)}",
                )
            elif key in ("info", "servers", "tags", "externalDocs"):
                for sub, (a, b) in _leaf_changes(old, new):
                    self.report(
                        NON_BREAKING, f"{key.lower()}-changed", here, f"{key}{sub} {_changed(a, b)}"
                    )
            elif key == "security":
                self.report(BREAKING, "security-changed", here, f"security {_changed(old, new)}")
            elif not self.annotation(key, old, new, here):
                self.unclassified(here, key, old, new)

    def paths(self) -> None:
        old_paths = _mapping(self.base.get("paths"))
        new_paths = _mapping(self.candidate.get("paths"))
        for path in _ordered_union(old_paths, new_paths):
            at = _At(path, ("paths", path), ("paths", path))
            if path not in new_paths:
                self.report(BREAKING, "path-removed", at, "path removed", removed=True)
            elif path not in old_paths:
                self.report(NON_BREAKING, "path-added", at, "path added")
            else:
                self.path_item(_mapping(old_paths[path]), _mapping(new_paths[path]), path, at)

    def path_item(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str, at: _At) -> None:
        for key in _ordered_union(old, new):
            a, b = old.get(key, MISSING), new.get(key, MISSING)
            here = at.down(key, label=f"{key.upper()} {path}" if key in METHODS else path)
            if key in METHODS:
                if b is MISSING:
                    self.report(
                        BREAKING, "operation-removed", here, "operation removed", removed=True
                    )
                elif a is MISSING:
                    self.report(NON_BREAKING, "operation-added", here, "operation added")
                else:
                    self.operation(
                        _mapping(a), _mapping(b), here, old.get("parameters"), new.get("parameters")
                    )
            elif a == b or key == "parameters":
                continue  # Path-level parameters are compared with each operation.
            elif key == "servers":
                self.report(NON_BREAKING, "servers-changed", here, f"servers {_changed(a, b)}")
            elif not self.annotation(key, a, b, here):
                self.unclassified(here, key, a, b)

    def operation(
        self,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        at: _At,
        old_path_params: object,
        new_path_params: object,
    ) -> None:
        self.parameters(
            self.parameter_map(self.base, old_path_params, old.get("parameters"), at.old),
            self.parameter_map(self.candidate, new_path_params, new.get("parameters"), at.new),
            at,
        )
        for key in _ordered_union(old, new):
            a, b = old.get(key, MISSING), new.get(key, MISSING)
            if _same(a, b) or key == "parameters":
                continue
            here = at.down(key)
            if key == "requestBody":
                self.request_body(a, b, here)
            elif key == "responses":
                self.responses(_mapping(a), _mapping(b), here)
            elif key == "security":
                self.report(BREAKING, "security-changed", here, f"security {_changed(a, b)}")
            elif key in ("operationId", "tags", "servers"):
                self.report(NON_BREAKING, f"{key.lower()}-changed", here, f"{key} {_changed(a, b)}")
            elif not self.annotation(key, a, b, here):
                self.unclassified(here, key, a, b)

    # Parameters -----------------------------------------------------------------------

    def parameter_map(
        self, doc: Mapping[str, Any], path_level: object, op_level: object, op_ptr: tuple[str, ...]
    ) -> dict[tuple[str, str], tuple[Mapping[str, Any], tuple[str, ...]]]:
        """Parameters by (in, name); operation-level ones override path-level ones."""
        found: dict[tuple[str, str], tuple[Mapping[str, Any], tuple[str, ...]]] = {}
        sources = ((path_level, op_ptr[:-1]), (op_level, op_ptr))
        for params, base_ptr in sources:
            if not isinstance(params, list):
                continue
            for index, raw in enumerate(params):
                param, ptr = self.resolve(doc, raw, (*base_ptr, "parameters", str(index)))
                if isinstance(param, Mapping):
                    found[(str(param.get("in")), str(param.get("name")))] = (param, ptr)
        return found

    def parameters(
        self,
        old: dict[tuple[str, str], tuple[Mapping[str, Any], tuple[str, ...]]],
        new: dict[tuple[str, str], tuple[Mapping[str, Any], tuple[str, ...]]],
        at: _At,
    ) -> None:
        for key in [*old, *(k for k in new if k not in old)]:
            place, name = key
            label = f"{at.label} {place} parameter {name}"
            if key not in new:
                here = replace(at, label=label, old=old[key][1], new=old[key][1])
                self.report(BREAKING, "parameter-removed", here, "parameter removed", removed=True)
                continue
            here = replace(at, label=label, old=old.get(key, new[key])[1], new=new[key][1])
            param = new[key][0]
            if key not in old:
                if param.get("required") is True:
                    self.report(
                        BREAKING, "required-parameter-added", here, "required parameter added"
                    )
                else:
                    self.report(
                        NON_BREAKING, "optional-parameter-added", here, "optional parameter added"
                    )
                continue
            before = old[key][0]
            for prop in _ordered_union(before, param):
                a, b = before.get(prop, MISSING), param.get(prop, MISSING)
                if _same(a, b) or prop in ("in", "name"):
                    continue
                if prop == "required":
                    if b is True:
                        self.report(
                            BREAKING, "parameter-newly-required", here, "parameter is now required"
                        )
                    else:
                        self.report(
                            NON_BREAKING,
                            "parameter-no-longer-required",
                            here,
                            "parameter is no longer required",
                        )
                elif prop == "schema" and isinstance(a, Mapping) and isinstance(b, Mapping):
                    self.schema(a, b, here.down("schema"))
                elif not self.annotation(prop, a, b, here.down(prop)):
                    self.unclassified(here, prop, a, b)

    # Bodies ---------------------------------------------------------------------------

    def request_body(self, old_raw: object, new_raw: object, at: _At) -> None:
        at = replace(at, label=f"{at.label} request body")
        if new_raw is MISSING:
            self.report(BREAKING, "request-body-removed", at, "request body removed", removed=True)
            return
        new, new_ptr = self.resolve(self.candidate, new_raw, at.new)
        if old_raw is MISSING:
            if _mapping(new).get("required") is True:
                self.report(
                    BREAKING, "request-body-added-required", at, "required request body added"
                )
            else:
                self.report(NON_BREAKING, "request-body-added", at, "optional request body added")
            return
        old, old_ptr = self.resolve(self.base, old_raw, at.old)
        at = replace(at, old=old_ptr, new=new_ptr)
        old_m, new_m = _mapping(old), _mapping(new)
        for key in _ordered_union(old_m, new_m):
            a, b = old_m.get(key, MISSING), new_m.get(key, MISSING)
            if _same(a, b):
                continue
            if key == "required":
                if b is True:
                    self.report(
                        BREAKING,
                        "request-body-newly-required",
                        at.down(key),
                        "request body is now required",
                    )
                else:
                    self.report(
                        NON_BREAKING,
                        "request-body-no-longer-required",
                        at.down(key),
                        "request body is no longer required",
                    )
            elif key == "content":
                self.content(_mapping(a), _mapping(b), at.down(key))
            elif not self.annotation(key, a, b, at.down(key)):
                self.unclassified(at, key, a, b)

    def content(self, old: Mapping[str, Any], new: Mapping[str, Any], at: _At) -> None:
        several = len(set(old) | set(new)) > 1
        for media in _ordered_union(old, new):
            here = at.down(media, label=f"{at.label} ({media})" if several else at.label)
            if media not in new:
                self.report(
                    BREAKING,
                    "media-type-removed",
                    here,
                    f"media type {media} removed",
                    removed=True,
                )
                continue
            if media not in old:
                self.report(NON_BREAKING, "media-type-added", here, f"media type {media} added")
                continue
            a_media, b_media = _mapping(old[media]), _mapping(new[media])
            for key in _ordered_union(a_media, b_media):
                a, b = a_media.get(key, MISSING), b_media.get(key, MISSING)
                if _same(a, b):
                    continue
                if key == "schema":
                    self.schema(a, b, here.down(key))
                elif not self.annotation(key, a, b, here.down(key)):
                    self.unclassified(here, key, a, b)

    def responses(self, old: Mapping[str, Any], new: Mapping[str, Any], at: _At) -> None:
        operation = at.label
        for code in _ordered_union(old, new):
            here = at.down(str(code), label=f"{operation} response {code}")
            here = replace(here, direction="response")
            if code not in new:
                self.report(BREAKING, "response-removed", here, "response removed", removed=True)
                continue
            if code not in old:
                self.report(NON_BREAKING, "response-added", here, "response added")
                continue
            a_raw, a_ptr = self.resolve(self.base, old[code], here.old)
            b_raw, b_ptr = self.resolve(self.candidate, new[code], here.new)
            here = replace(here, old=a_ptr, new=b_ptr)
            a_resp, b_resp = _mapping(a_raw), _mapping(b_raw)
            for key in _ordered_union(a_resp, b_resp):
                a, b = a_resp.get(key, MISSING), b_resp.get(key, MISSING)
                if _same(a, b):
                    continue
                if key == "content":
                    body = here.down(key, label=f"{here.label} body")
                    self.content(_mapping(a), _mapping(b), body)
                elif key == "headers":
                    self.response_headers(_mapping(a), _mapping(b), here.down(key))
                elif not self.annotation(key, a, b, here.down(key)):
                    self.unclassified(here, key, a, b)

    def response_headers(self, old: Mapping[str, Any], new: Mapping[str, Any], at: _At) -> None:
        for name in _ordered_union(old, new):
            here = at.down(name, label=f"{at.label} header {name}")
            if name not in new:
                self.report(
                    BREAKING, "response-header-removed", here, "header removed", removed=True
                )
            elif name not in old:
                self.report(NON_BREAKING, "response-header-added", here, "header added")
            else:
                for sub, (a, b) in _leaf_changes(old[name], new[name]):
                    key = sub.rsplit(".", 1)[-1]
                    if not self.annotation(key, a, b, here):
                        self.unclassified(here, f"header{sub}", a, b)

    # Schemas --------------------------------------------------------------------------

    def schema(self, old_raw: object, new_raw: object, at: _At) -> None:
        old, old_ptr = self.resolve(self.base, old_raw, at.old)
        new, new_ptr = self.resolve(self.candidate, new_raw, at.new)
        at = replace(at, old=old_ptr, new=new_ptr)
        seen = (old_ptr, new_ptr, at.direction)
        if seen in self.visited:
            return
        self.visited.add(seen)
        if not isinstance(old, Mapping) or not isinstance(new, Mapping):
            if old != new:
                self.unclassified(at, "schema", old, new)
            return
        request = at.direction == "request"
        for key in _ordered_union(old, new):
            a, b = old.get(key, MISSING), new.get(key, MISSING)
            if a == b or key in SCHEMA_KEYWORDS:
                continue
            if not self.annotation(key, a, b, at.down(key)):
                self.report(
                    BREAKING,
                    "constraint-changed",
                    at,
                    f"{key} {_changed(a, b)} (not classified automatically: review it)",
                )
        if old.get("default", MISSING) != new.get("default", MISSING):
            self.report(
                NON_BREAKING,
                "default-changed",
                at,
                f"default {_changed(old.get('default', MISSING), new.get('default', MISSING))}",
            )
        old_type, new_type = old.get("type"), new.get("type")
        if old_type != new_type:
            self.report(
                BREAKING,
                "type-changed",
                at,
                f"type changed from {old_type or 'unspecified'} to {new_type or 'unspecified'}",
            )
            return  # Its structure is a different thing now: nothing below compares.
        if old.get("format") != new.get("format"):
            self.report(
                BREAKING,
                "format-changed",
                at,
                f"format {_changed(old.get('format', MISSING), new.get('format', MISSING))}",
            )
        if bool(old.get("nullable")) != bool(new.get("nullable")):
            widened = bool(new.get("nullable"))
            self.report(
                NON_BREAKING if widened == request else BREAKING,
                "nullable-changed",
                at,
                "now nullable" if widened else "no longer nullable",
            )
        self.enum(old.get("enum"), new.get("enum"), at)
        self.properties(old, new, at)
        if "items" in old or "items" in new:
            self.schema(
                old.get("items", {}), new.get("items", {}), at.down("items", field=at.field + "[]")
            )
        self.additional_properties(
            old.get("additionalProperties", MISSING), new.get("additionalProperties", MISSING), at
        )
        for keyword in ("oneOf", "anyOf", "allOf"):
            a, b = old.get(keyword, MISSING), new.get(keyword, MISSING)
            if _same(a, b):
                continue
            if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
                for index, (x, y) in enumerate(zip(a, b, strict=True)):
                    self.schema(
                        x, y, at.down(keyword, str(index), field=f"{at.field}<{keyword}[{index}]>")
                    )
            else:
                self.unclassified(at, keyword, a, b)

    def enum(self, old: object, new: object, at: _At) -> None:
        if old == new:
            return
        request = at.direction == "request"
        if not isinstance(old, list) or not isinstance(new, list):
            # Introducing an enum narrows the values; dropping it widens them.
            narrowed = isinstance(new, list)
            self.report(
                BREAKING if narrowed == request else NON_BREAKING,
                "enum-added" if narrowed else "enum-removed",
                at,
                f"values now limited to {_show(new)}" if narrowed else "values no longer limited",
            )
            return
        for value in old:
            if value not in new:
                self.report(
                    BREAKING if request else NON_BREAKING,
                    "enum-value-removed",
                    at,
                    f"enum value {_show(value)} removed",
                )
        for value in new:
            if value not in old:
                self.report(
                    NON_BREAKING if request else BREAKING,
                    "enum-value-added",
                    at,
                    f"enum value {_show(value)} added",
                )

    def properties(self, old: Mapping[str, Any], new: Mapping[str, Any], at: _At) -> None:
        request = at.direction == "request"
        old_props, new_props = _mapping(old.get("properties")), _mapping(new.get("properties"))
        old_required = set(old.get("required") or ())
        new_required = set(new.get("required") or ())
        names = _ordered_union(old_props, new_props)
        names += [n for n in sorted(old_required | new_required) if n not in names]
        for name in names:
            here = at.down("properties", name, field=f"{at.field}.{name}" if at.field else name)
            if name in old_props and name not in new_props:
                self.report(BREAKING, "property-removed", here, "property removed", removed=True)
            elif name in new_props and name not in old_props:
                if name in new_required:
                    self.report(
                        BREAKING if request else NON_BREAKING,
                        "required-property-added",
                        here,
                        "required property added",
                    )
                else:
                    self.report(
                        NON_BREAKING, "optional-property-added", here, "optional property added"
                    )
            else:
                if name in new_required and name not in old_required:
                    self.report(
                        BREAKING if request else NON_BREAKING,
                        "property-newly-required",
                        here,
                        "property is now required",
                    )
                elif name in old_required and name not in new_required:
                    self.report(
                        NON_BREAKING if request else BREAKING,
                        "property-no-longer-required",
                        here,
                        "property is no longer required",
                    )
                if name in old_props:
                    self.schema(old_props[name], new_props[name], here)

    def additional_properties(self, old: object, new: object, at: _At) -> None:
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            self.schema(old, new, at.down("additionalProperties", field=at.field + "{*}"))
            return
        if old == new:
            return
        closed_before, closed_now = old is False, new is False
        if closed_before == closed_now:
            self.unclassified(at, "additionalProperties", old, new)
            return
        request = at.direction == "request"
        self.report(
            BREAKING if closed_now == request else NON_BREAKING,
            "additional-properties-changed",
            at,
            "no longer accepts undeclared properties"
            if closed_now
            else "now accepts undeclared properties",
        )

    # Components -----------------------------------------------------------------------

    def components(self) -> None:
        old_c = _mapping(self.base.get("components"))
        new_c = _mapping(self.candidate.get("components"))
        for kind in _ordered_union(old_c, new_c):
            a, b = old_c.get(kind, MISSING), new_c.get(kind, MISSING)
            if a == b:
                continue
            at = _At(f"components/{kind}", ("components", kind), ("components", kind))
            if kind == "securitySchemes":
                self.report(BREAKING, "security-changed", at, f"securitySchemes {_changed(a, b)}")
            elif kind == "schemas":
                self.component_schemas(_mapping(a), _mapping(b), at)
            elif not self.annotation(kind, a, b, at):
                # Parameters, bodies and responses count where operations use them.
                continue

    def component_schemas(self, old: Mapping[str, Any], new: Mapping[str, Any], at: _At) -> None:
        # Changes already found through an operation keep that (more telling) location.
        for name in _ordered_union(old, new):
            here = at.down(name, label=f"components/schemas/{name}")
            if name not in new:
                self.report(BREAKING, "schema-removed", here, "schema removed", removed=True)
            elif name not in old:
                self.report(NON_BREAKING, "schema-added", here, "schema added")
            else:
                self.schema(old[name], new[name], here)


def _leaf_changes(
    old: object, new: object, prefix: str = ""
) -> Iterator[tuple[str, tuple[Any, Any]]]:
    """(".dotted.key", (old, new)) for each differing leaf of two plain structures."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in _ordered_union(old, new):
            a, b = old.get(key, MISSING), new.get(key, MISSING)
            if a != b:
                yield from _leaf_changes(a, b, f"{prefix}.{key}")
    elif old != new:
        yield prefix, (old, new)


def compare(base: Spec, candidate: Spec) -> list[Change]:
    """Every change from `base` to `candidate`, breaking ones first, in document order."""
    changes = _Differ(base.data, candidate.data).diff()
    return sorted(changes, key=lambda c: c.severity != BREAKING)


def verdict(changes: Sequence[Change]) -> tuple[str, int]:
    if any(c.severity == BREAKING for c in changes):
        return "breaking", EXIT_BREAKING
    if changes:
        return "non-breaking", EXIT_NON_BREAKING
    return "none", EXIT_NONE


# --- the client check ------------------------------------------------------------------


def client_problems(candidate: Spec) -> list[Change]:
    """Regenerate from the candidate in a temporary directory; check overrides/ against it."""
    from scripts import check_overrides  # Needed only for --client.

    with tempfile.TemporaryDirectory(prefix="chat-image-spec-diff-") as tmp:
        spec_copy = Path(tmp) / "openapi.yaml"
        spec_copy.write_text(candidate.text, encoding="utf-8")
        output = Path(tmp) / "generated"
        try:
            generate(output, spec_copy)
        except GenerationError as exc:
            why = str(exc).strip().splitlines()
            return [
                Change(
                    BREAKING,
                    "client-not-generated",
                    "the client pipeline (scripts/generate.py)",
                    "cannot generate from the candidate: " + " / ".join(why[-3:]),
                    "",
                )
            ]
        result = check_overrides.check(output)
        shown = [f"mypy: {line}" for line in result.mypy[:MAX_MYPY_LINES]]
        if len(result.mypy) > MAX_MYPY_LINES:
            shown.append(f"mypy: ... and {len(result.mypy) - MAX_MYPY_LINES} more errors")
        return [
            Change(BREAKING, "overrides-broken", "overrides/chat_image", problem, "")
            for problem in [*shown, *result.contract]
        ]


# --- output ----------------------------------------------------------------------------


def render_text(
    base: Spec, candidate: Spec, changes: Sequence[Change], client: bool, status: bool = True
) -> str:
    name, code = verdict(changes)
    spec_changes = [c for c in changes if not c.rule.startswith(("client-", "overrides-"))]
    client_changes = [c for c in changes if c not in spec_changes]
    out = [f"Comparing {base.label} (ours) with {candidate.label} (candidate)", ""]
    for severity, title in ((BREAKING, "Breaking"), (NON_BREAKING, "Non-breaking")):
        chosen = [c for c in spec_changes if c.severity == severity]
        out.append(f"{title} changes ({len(chosen)}){':' if chosen else ''}")
        out.extend(f"  - {c.line()}" for c in chosen)
        out.append("")
    if client:
        out.append(
            f"Client regenerated from the candidate: "
            f"{'overrides/ still fit it' if not client_changes else 'PROBLEMS'}"
        )
        out.extend(f"  - {c.message}" for c in client_changes)
        out.append("")
    out.append(f"Verdict: {name} (exit status {code})" if status else f"Verdict: {name}")
    return "\n".join(out)


def render_json(base: Spec, candidate: Spec, changes: Sequence[Change]) -> str:
    name, code = verdict(changes)
    return json.dumps(
        {
            "base": base.label,
            "candidate": candidate.label,
            "verdict": name,
            "exit_status": code,
            "counts": {
                BREAKING: sum(c.severity == BREAKING for c in changes),
                NON_BREAKING: sum(c.severity == NON_BREAKING for c in changes),
            },
            "changes": [
                {
                    "severity": c.severity,
                    "rule": c.rule,
                    "location": c.location,
                    "message": c.message,
                    "pointer": c.pointer,
                }
                for c in changes
            ],
        },
        ensure_ascii=False,
        indent=2,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Classify the changes from openapi.yaml to a candidate upstream spec.",
        epilog="Exit status: 0 no changes, 1 non-breaking only, 2 breaking, 3 bad input.",
    )
    parser.add_argument("candidate", help="path or http(s) URL: a spec, or the published page")
    parser.add_argument(
        "--base", default=str(paths.SPEC), help="the spec to compare with (openapi.yaml)"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--client", action="store_true", help="also regenerate and check overrides/ against it"
    )
    args = parser.parse_args(argv)
    base_label = paths.shown(Path(args.base))
    try:
        base = replace(load_spec(args.base), label=base_label)
        candidate = load_spec(args.candidate)
        changes = compare(base, candidate)
    except BadInput as exc:
        if args.json:
            print(
                json.dumps(
                    {"verdict": "bad-input", "exit_status": EXIT_BAD_INPUT, "error": str(exc)}
                )
            )
        print(f"spec-diff: bad input: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.client:
        changes = [*changes, *client_problems(candidate)]
        changes.sort(key=lambda c: c.severity != BREAKING)
    print(
        render_json(base, candidate, changes)
        if args.json
        else render_text(base, candidate, changes, args.client)
    )
    return verdict(changes)[1]


if __name__ == "__main__":
    sys.exit(main())
