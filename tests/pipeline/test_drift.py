"""Check 1: generated/ against a fresh regeneration: every kind of drift fails, naming the file."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline import ROOT, run_script, tree_state
from scripts import drift

GENERATED = ROOT / "generated"


@pytest.fixture(scope="session")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pipeline output from the committed inputs, shared by the tests that compare."""
    output = tmp_path_factory.mktemp("regenerated")
    done = run_script("generate", "--output", output)
    assert done.returncode == 0, done.stderr
    return output


@pytest.fixture
def committed_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "generated"
    shutil.copytree(GENERATED, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_committed_tree_is_in_sync_and_the_check_writes_nothing():
    before = tree_state(ROOT)
    done = run_script("drift")  # Regenerates for real, into a temporary directory.
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("generated/ is in sync with the pipeline's output")
    assert tree_state(ROOT) == before


def _append(rel: str, text: str) -> Callable[[Path], None]:
    def edit(tree: Path) -> None:
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        with (tree / rel).open("a", encoding="utf-8") as file:
            file.write(text)

    return edit


def _stamp_tool(tool: str, version: str) -> Callable[[Path], None]:
    def edit(tree: Path) -> None:
        stamp = tree / "GENERATED_FROM"
        text, count = re.subn(
            rf"^tool {re.escape(tool)}==\S+$",
            f"tool {tool}=={version}",
            stamp.read_text(encoding="utf-8"),
            flags=re.MULTILINE,
        )
        assert count == 1
        stamp.write_text(text, encoding="utf-8")

    return edit


def _stamp_input(name: str) -> Callable[[Path], None]:
    def edit(tree: Path) -> None:
        stamp = tree / "GENERATED_FROM"
        text, count = re.subn(
            rf"^sha256 [0-9a-f]{{64}} {re.escape(name)}$",
            f"sha256 {'0' * 64} {name}",
            stamp.read_text(encoding="utf-8"),
            flags=re.MULTILINE,
        )
        assert count == 1
        stamp.write_text(text, encoding="utf-8")

    return edit


DRIFTS = {
    "hand-edit": (
        _append("chat_image_api/types.py", "# x\n"),
        ["edited  {tree}/chat_image_api/types.py", "+# x"],
    ),
    "missing-file": (
        lambda tree: (tree / "chat_image_api/models/image_detail.py").unlink(),
        ["missing {tree}/chat_image_api/models/image_detail.py: the pipeline makes it"],
    ),
    "stale-file": (
        _append("chat_image_api/models/old_model.py", "class OldModel: ...\n"),
        ["stale   {tree}/chat_image_api/models/old_model.py: there, but the pipeline no longer"],
    ),
    "untracked-file-in-a-new-dir": (
        _append("chat_image_api/extra/x.py", ""),
        ["stale   {tree}/chat_image_api/extra/x.py"],
    ),
    "generator-pin-changed": (
        _stamp_tool("openapi-python-client", "0.28.0"),
        ["openapi-python-client: {tree}/ was made with 0.28.0; the pinned version is now 0.29.1"],
    ),
    "formatter-pin-changed": (
        _stamp_tool("ruff", "0.17.5"),
        ["ruff: {tree}/ was made with 0.17.5; the pinned version is now 0.17.6"],
    ),
    "spec-changed-without-regenerating": (
        _stamp_input("openapi.yaml"),
        ["openapi.yaml changed since {tree}/ was made"],
    ),
}


@pytest.mark.parametrize("kind", DRIFTS)
def test_each_kind_of_drift_fails_naming_the_file(kind, committed_copy, regenerated):
    mutate, expected = DRIFTS[kind]
    mutate(committed_copy)
    done = run_script("drift", "--generated", committed_copy, "--against", regenerated)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith(f"DRIFT: {committed_copy}/ is not what the pipeline makes")
    for text in expected:
        assert text.format(tree=committed_copy) in done.stdout


def test_the_same_comparison_passes_an_untouched_copy(committed_copy, regenerated):
    """The baseline of the test above: only the mutation makes it fail."""
    (committed_copy / "chat_image_api" / "__pycache__").mkdir(exist_ok=True)
    (committed_copy / "chat_image_api" / "__pycache__" / "types.cpython-311.pyc").write_bytes(b"x")
    done = run_script("drift", "--generated", committed_copy, "--against", regenerated)
    assert done.returncode == 0, done.stdout


def test_tools_that_are_not_the_pinned_ones_are_refused(tmp_path: Path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[dependency-groups]\ngenerate = ["ruff==0.0.1", "PyYAML==6.0.4", {include-group = "x"}]\n',
        encoding="utf-8",
    )
    installed = drift.importlib.metadata.version("ruff")
    assert drift.pin_mismatches(pyproject) == [
        f"ruff is {installed} here, but pyproject.toml pins ruff==0.0.1"
    ]
    assert drift.pin_mismatches() == []  # This environment has the real pins.
