"""Loading a document to compare: from a path or an http(s) URL, plain or a published page."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import yaml

from scripts.spec_diff._model import BadInput, Spec
from scripts.spec_diff._shape import check_shape

# The line of the published page after which the spec section starts.
PAGE_MARKER: Final = "OpenAPI specification"


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
    """`text` parsed, and checked to be an OpenAPI 3 document."""
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
    check_shape(data, label)
    return Spec(label, text, data)


def load_spec(source: str) -> Spec:
    """A candidate from a path or URL: a plain document or a published page."""
    return parse_spec(extract_spec_text(read_source(source), source), source)
