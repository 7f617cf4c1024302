"""`nox -s generate` ends by saying whether generated/ changed, and how many files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline import ROOT, run_script
from scripts.generate import outcome, snapshot

SKIP = shutil.ignore_patterns(
    ".git", ".nox", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis"
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the repository, so that generating into its generated/ leaves ours alone."""
    copy = tmp_path / "repo"
    shutil.copytree(ROOT, copy, ignore=SKIP)
    return copy


def test_generate_says_unchanged_then_counts_the_files_it_changed(repo: Path):
    committed = snapshot(repo / "generated")
    done = run_script("generate", root=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == f"generated/: unchanged ({len(committed)} files)"

    package = repo / "generated" / "chat_image_api"
    with (package / "types.py").open("a", encoding="utf-8") as file:
        file.write("# a hand edit\n")
    (package / "models" / "image_detail.py").unlink()
    (package / "stale.py").write_text("", encoding="utf-8")
    done = run_script("generate", root=repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "generated/: 3 files changed"
    assert snapshot(repo / "generated") == committed


@pytest.mark.parametrize(
    ("before", "after", "line"),
    [
        ({"a": b"1", "b": b"2"}, {"a": b"1", "b": b"2"}, "out/: unchanged (2 files)"),
        ({"a": b"1"}, {"a": b"2"}, "out/: 1 file changed"),
        ({"a": b"1", "gone": b""}, {"a": b"1", "new": b""}, "out/: 2 files changed"),
        ({}, {"a": b"1", "b": b"2"}, "out/: 2 files changed"),
    ],
)
def test_outcome_counts_edited_added_and_removed_files(before, after, line):
    assert outcome("out", before, after) == line
