"""spec-diff on documents that parse as YAML and say `openapi: 3` but are malformed inside
(`required: 3`, a list where a mapping belongs): bad input, exit 3, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from pipeline import CORPUS, run_script

BODY = ("paths", "/v1/chat/completions", "post", "requestBody", "content", "application/json")


def _at(document: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        document = document[key]
    return document


def _set(*keys: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        _at(document, *keys[:-1])[keys[-1]] = value

    return change


MALFORMED = {
    "required-a-number": _set(*BODY, "schema", "required", value=3),
    "required-a-mapping": _set(*BODY, "schema", "required", value={"model": True}),
    "properties-a-list": _set(*BODY, "schema", "properties", value=["model", "messages"]),
    "a-property-a-string": _set(*BODY, "schema", "properties", "model", value="string"),
    "items-a-number": _set(*BODY, "schema", "properties", "messages", "items", value=7),
    "enum-a-number": _set(*BODY, "schema", "properties", "model", "enum", value=5),
    "parameters-a-mapping": _set(*BODY[:3], "parameters", value={"name": "x"}),
    "a-parameter-a-string": _set(*BODY[:3], "parameters", value=["Content-Type"]),
    "responses-a-list": _set(*BODY[:3], "responses", value=[200]),
    "operation-a-list": _set(*BODY[:3], value=["post"]),
    "content-a-string": _set(*BODY[:5], value="application/json"),
    "components-a-list": _set("components", value=[1, 2]),
}


@pytest.mark.parametrize("name", MALFORMED)
@pytest.mark.parametrize("side", ["candidate", "base"])
def test_a_malformed_document_is_bad_input_and_exits_3(tmp_path, name, side):
    document = yaml.safe_load((CORPUS / "base.yaml").read_text(encoding="utf-8"))
    MALFORMED[name](document)
    malformed = tmp_path / "malformed.yaml"
    malformed.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    good = CORPUS / "base.yaml"
    candidate, base = (malformed, good) if side == "candidate" else (good, malformed)
    done = run_script("spec_diff", candidate, "--base", base, "--json")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "bad input" in done.stderr
    report = json.loads(done.stdout)
    assert report["verdict"] == "bad-input"
    assert report["exit_status"] == 3
    assert "malformed.yaml" in report["error"]
