"""update-spec, in a copy of the repository: what it writes, checks and summarizes."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline import CORPUS, ROOT, run_script, tree_state

SKIP = shutil.ignore_patterns(
    ".git", ".nox", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis"
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the repository whose openapi.yaml is the corpus base, as the corpus assumes.

    (After an update openapi.yaml is no longer the base; generated/ then is one update
    behind in the copy, which update-spec regenerates anyway.)
    """
    copy = tmp_path / "repo"
    shutil.copytree(ROOT, copy, ignore=SKIP)
    shutil.copyfile(CORPUS / "base.yaml", copy / "openapi.yaml")
    return copy


def update(repo: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """The copy's scripts/update_spec.py, so that the copy is what it writes to."""
    return run_script("update_spec", *args, root=repo)


def test_a_breaking_update_is_written_checked_and_summarized(repo: Path):
    done = update(repo, CORPUS / "renamed_property.yaml", "--skip-tests")
    assert done.returncode == 1, done.stdout + done.stderr
    spec = (repo / "openapi.yaml").read_text(encoding="utf-8")
    assert spec == (CORPUS / "renamed_property.yaml").read_text(encoding="utf-8")
    request = repo / "generated/chat_image_api/models/chat_completion_request.py"
    assert '"maxTokens"' in request.read_text(encoding="utf-8")
    summary = done.stdout.split("----- pull request summary (paste from here) -----\n")[1]
    digest = hashlib.sha256(spec.encode("utf-8")).hexdigest()[:12]
    assert summary.splitlines()[:3] == [
        "### Update openapi.yaml from the upstream spec",
        "",
        f"Source: `{CORPUS / 'renamed_property.yaml'}` (spec section sha256 `{digest}…`)",
    ]
    assert "**Spec changes: breaking**" in summary
    assert "- breaking: POST /v1/chat/completions request body max_tokens: property removed" in (
        summary
    )
    assert "- modified `generated/chat_image_api/models/chat_completion_request.py`" in summary
    assert "- [x] drift: generated/ is in sync" in summary
    assert "- [ ] overrides: overrides/chat_image no longer fits" in summary
    assert "- [ ] tests: not run (--skip-tests)" in summary
    assert "key 'max_tokens' missing; it has 'maxTokens' instead" in done.stdout


def test_the_published_page_is_cut_to_its_spec_section(repo: Path):
    done = update(repo, CORPUS / "apifox_page_added_property.txt", "--skip-tests")
    assert done.returncode == 1, done.stdout + done.stderr  # 1: the tests were skipped
    spec = (repo / "openapi.yaml").read_text(encoding="utf-8")
    assert spec.startswith("openapi: 3.0.1\n")
    assert spec.endswith("security: []\n")
    assert "OpenAPI specification" not in spec
    assert "Request example" not in spec
    assert "                stream:\n                  type: boolean\n" in spec
    assert "- [x] overrides: overrides/chat_image fits chat_image_api in generated" in done.stdout


def test_a_spec_the_pipeline_cannot_take_writes_nothing(repo: Path):
    before = tree_state(repo)
    done = update(repo, CORPUS / "renamed_tag.yaml")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "the pipeline cannot generate from the candidate; nothing written" in done.stderr
    assert "overrides/openapi-patch.yaml no longer applies" in done.stderr
    assert tree_state(repo) == before


@pytest.mark.parametrize(
    ("source", "status", "message"),
    [
        (CORPUS / "not_openapi.yaml", 3, "bad input, nothing written"),
        ("openapi.yaml", 0, "openapi.yaml already holds this spec; nothing to do"),
    ],
)
def test_nothing_is_written_for_bad_input_or_the_same_spec(repo: Path, source, status, message):
    before = tree_state(repo)
    done = update(repo, source)  # A relative path is the copy's own openapi.yaml.
    assert done.returncode == status, done.stdout + done.stderr
    assert message in done.stdout + done.stderr
    assert tree_state(repo) == before
