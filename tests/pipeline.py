"""Helpers for the tests of scripts/: run a pipeline module as nox does, read the spec corpus."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from scripts.paths import ROOT

CORPUS = ROOT / "tests" / "pipeline" / "spec_corpus"
EXIT = {"none": 0, "non-breaking": 1, "breaking": 2, "bad-input": 3}


def run_script(name: str, *args: str | Path, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`python -m scripts.NAME ARGS...` run in `root`, with this environment's tools."""
    env = dict(os.environ)
    # The pipeline runs openapi-python-client and ruff by name: from this environment.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [sys.executable, "-m", f"scripts.{name}", *map(str, args)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@dataclass(frozen=True)
class Case:
    path: Path
    base: Path
    verdict: str
    changes: frozenset[tuple[str, str, str]]
    overrides: tuple[str, ...] | None  # ("pass",) or ("fail", token, ...), if checked

    @property
    def name(self) -> str:
        return self.path.name


def load_case(path: Path) -> Case:
    base, verdict = CORPUS / "base.yaml", ""
    changes: set[tuple[str, str, str]] = set()
    overrides: tuple[str, ...] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        key, _, value = line.lstrip("# ").partition(": ")
        if key == "base":
            base = CORPUS / value
        elif key == "verdict":
            verdict = value
        elif key == "change":
            severity, rule, location = value.split(" ", 2)
            changes.add((severity, rule, location))
        elif key == "overrides":
            overrides = tuple(value.split())
    assert verdict in EXIT, f"{path.name}: no valid `# verdict:` line"
    return Case(path, base, verdict, frozenset(changes), overrides)


def corpus() -> list[Case]:
    return [
        load_case(path)
        for path in sorted(CORPUS.iterdir())
        if path.name not in ("base.yaml", "README.md")
    ]


def tree_state(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file of the work tree but caches and VCS data: what a read-only check must keep."""
    skipped = {".git", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis"}
    state: dict[str, tuple[int, bytes]] = {}
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if d not in skipped and d != "__pycache__"]
        for name in files:
            path = Path(directory, name)
            state[path.relative_to(root).as_posix()] = (path.stat().st_mtime_ns, path.read_bytes())
    return state
