"""spec-diff: every corpus spec gets its verdict, exact exit status and exact set of changes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline import CORPUS, EXIT, ROOT, Case, corpus, run_script
from scripts import spec_diff

CASES = corpus()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_corpus_case_gets_its_verdict_exit_status_and_changes(case: Case):
    done = run_script("spec_diff", case.path, "--base", case.base, "--json")
    assert done.returncode == EXIT[case.verdict], done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["verdict"] == case.verdict
    assert report["exit_status"] == EXIT[case.verdict]
    if case.verdict == "bad-input":
        assert report["error"]
        assert "bad input" in done.stderr
        return
    found = [(c["severity"], c["rule"], c["location"]) for c in report["changes"]]
    assert sorted(found) == sorted(case.changes)


def test_corpus_covers_each_kind_of_change_the_issue_names():
    rules = {(severity, rule) for case in CASES for severity, rule, _ in case.changes}
    assert {
        ("breaking", "property-removed"),
        ("breaking", "required-property-added"),  # with property-removed: a rename
        ("breaking", "type-changed"),
        ("breaking", "format-changed"),
        ("breaking", "property-newly-required"),
        ("breaking", "enum-value-removed"),
        ("breaking", "path-removed"),
        ("breaking", "request-body-newly-required"),
        ("non-breaking", "optional-property-added"),
        ("non-breaking", "enum-value-added"),
        ("non-breaking", "path-added"),
        ("non-breaking", "description-changed"),
        ("non-breaking", "example-changed"),
        ("non-breaking", "apifox-metadata-changed"),
    } <= rules
    assert {case.verdict for case in CASES} == set(EXIT)


def test_text_output_says_what_changed_where_and_the_verdict():
    done = run_script("spec_diff", CORPUS / "renamed_property.yaml", "--base", CORPUS / "base.yaml")
    assert done.returncode == 2
    assert done.stdout.splitlines() == [
        "Comparing tests/pipeline/spec_corpus/base.yaml (ours) with "
        f"{CORPUS / 'renamed_property.yaml'} (candidate)",
        "",
        "Breaking changes (2):",
        "  - POST /v1/chat/completions request body max_tokens: property removed",
        "  - POST /v1/chat/completions request body maxTokens: required property added",
        "",
        "Non-breaking changes (0)",
        "",
        "Verdict: breaking (exit status 2)",
    ]


def test_json_points_into_the_documents():
    done = run_script(
        "spec_diff", CORPUS / "removed_property.yaml", "--base", CORPUS / "base.yaml", "--json"
    )
    (change,) = json.loads(done.stdout)["changes"]
    assert change["pointer"] == (
        "/paths/~1v1~1chat~1completions/post/requestBody/content/application~1json/schema"
        "/properties/messages/items/properties/content/items/properties/text"
    )
    assert change["message"] == "property removed"


def test_default_base_is_openapi_yaml():
    done = run_script("spec_diff", ROOT / "openapi.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Comparing openapi.yaml (ours)")
    assert "Verdict: none (exit status 0)" in done.stdout


def test_a_missing_file_is_bad_input():
    done = run_script("spec_diff", CORPUS / "no-such-spec.yaml")
    assert done.returncode == 3
    assert "no-such-spec.yaml: cannot read it" in done.stderr
    assert done.stdout == ""


@pytest.fixture
def served_corpus() -> Iterator[str]:
    handler = partial(SimpleHTTPRequestHandler, directory=str(CORPUS))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_published_page_by_url(served_corpus: str):
    done = run_script(
        "spec_diff",
        f"{served_corpus}/apifox_page_added_property.txt",
        "--base",
        CORPUS / "base.yaml",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "request body stream: optional property added" in done.stdout


def test_an_unreachable_url_is_bad_input(served_corpus: str):
    done = run_script("spec_diff", f"{served_corpus}/missing.yaml")
    assert done.returncode == 3
    assert "cannot fetch it" in done.stderr


def test_page_extraction_keeps_the_spec_section_byte_for_byte():
    page = (CORPUS / "apifox_page_added_property.txt").read_text(encoding="utf-8")
    text = spec_diff.extract_spec_text(page, "page")
    assert text.startswith("openapi: 3.0.1\ninfo:\n")
    assert text.endswith("security: []\n")
    assert page.rstrip("\n").endswith(text.rstrip("\n"))


def test_client_option_catches_what_the_spec_verdict_cannot():
    """A title is documentation (non-breaking), but the generator renames models after it."""
    case = CORPUS / "title_renames_models.yaml"
    done = run_script("spec_diff", case, "--base", CORPUS / "base.yaml", "--client")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Non-breaking changes (1)" in done.stdout
    assert "Client regenerated from the candidate: PROBLEMS" in done.stdout
    assert "chat_image_api.models has no ChatCompletionRequest" in done.stdout


# Direction-dependent rules, on small in-memory documents.


def _doc(schema: dict, where: str) -> dict:
    operation: dict = {"responses": {"200": {"description": ""}}}
    if where == "request":
        operation["requestBody"] = {"content": {"application/json": {"schema": schema}}}
    else:
        operation["responses"]["200"]["content"] = {"application/json": {"schema": schema}}
    return {"openapi": "3.0.1", "paths": {"/x": {"post": operation}}}


def _changes(old: dict, new: dict) -> list[tuple[str, str]]:
    base = spec_diff.Spec("old", "", old)
    candidate = spec_diff.Spec("new", "", new)
    return [(c.severity, c.rule) for c in spec_diff.compare(base, candidate)]


@pytest.mark.parametrize(
    ("old", "new", "in_request", "in_response"),
    [
        (
            {"type": "string", "enum": ["a"]},
            {"type": "string", "enum": ["a", "b"]},
            "non-breaking",
            "breaking",  # generated literal enums reject a value they do not know
        ),
        (
            {"type": "object", "properties": {"a": {}}, "required": ["a"]},
            {"type": "object", "properties": {"a": {}}},
            "non-breaking",
            "breaking",
        ),
        (
            {"type": "object", "properties": {"a": {}}},
            {"type": "object", "properties": {"a": {}}, "required": ["a"]},
            "breaking",
            "non-breaking",
        ),
        ({"type": "string"}, {"type": "string", "nullable": True}, "non-breaking", "breaking"),
    ],
)
def test_request_and_response_rules_point_opposite_ways(old, new, in_request, in_response):
    assert [s for s, _ in _changes(_doc(old, "request"), _doc(new, "request"))] == [in_request]
    assert [s for s, _ in _changes(_doc(old, "response"), _doc(new, "response"))] == [in_response]


def test_changes_behind_a_ref_are_reported_where_the_operation_uses_them():
    def doc(props: dict) -> dict:
        spec = _doc({"$ref": "#/components/schemas/Body"}, "request")
        spec["components"] = {"schemas": {"Body": {"type": "object", "properties": props}}}
        return spec

    old, new = doc({"a": {"type": "string"}, "b": {}}), doc({"a": {"type": "integer"}})
    found = spec_diff.compare(spec_diff.Spec("o", "", old), spec_diff.Spec("n", "", new))
    assert sorted((c.rule, c.location, c.pointer) for c in found) == [
        ("property-removed", "POST /x request body b", "/components/schemas/Body/properties/b"),
        ("type-changed", "POST /x request body a", "/components/schemas/Body/properties/a"),
    ]


def test_an_unknown_keyword_change_is_breaking_and_says_review():
    found = _changes(
        _doc({"type": "string", "maxLength": 10}, "request"),
        _doc({"type": "string", "maxLength": 5}, "request"),
    )
    assert found == [("breaking", "constraint-changed")]


def test_a_dangling_ref_is_bad_input(tmp_path: Path):
    spec = (CORPUS / "base.yaml").read_text(encoding="utf-8")
    broken = spec.replace(
        "                max_tokens:\n                  type: integer\n",
        "                max_tokens:\n                  $ref: '#/components/schemas/Nope'\n",
    )
    assert broken != spec
    (tmp_path / "dangling.yaml").write_text(broken, encoding="utf-8")
    done = run_script("spec_diff", tmp_path / "dangling.yaml")
    assert done.returncode == 3
    assert "'#/components/schemas/Nope' points at nothing" in done.stderr
