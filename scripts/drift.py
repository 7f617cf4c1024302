"""Check that generated/ is exactly what the pipeline makes now, without touching it.

    python -m scripts.drift [--generated DIR] [--against DIR]

Regenerates from openapi.yaml, overrides/openapi-patch.yaml and generator-config.yml into a
temporary directory (scripts.generate, the one writer of generated/) and compares the
two trees file by file: a file edited by hand, a file the pipeline makes that is missing,
and a stale file the pipeline no longer makes each fail the check, with a unified diff. The
trees are compared directly, so untracked and deleted files count too (`git diff` alone
misses untracked ones). generated/GENERATED_FROM records the tool versions and input hashes
the tree was made with, so a new pin of the generator or formatter is drift even when the
code comes out the same; and the tools running the check must be the pinned ones.

`--against DIR` compares with an existing pipeline output instead of regenerating (for
callers that have just made one). Exit status: 0 in sync, 1 drift (or wrong tools).
"""

from __future__ import annotations

import argparse
import difflib
import importlib.metadata
import re
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from scripts import paths
from scripts.generate import GenerationError, generate, snapshot

STAMP: Final = paths.STAMP
MAX_DIFF_LINES: Final = 60

Kind = Literal["edited", "missing", "stale"]
EXPLAIN: Final[dict[Kind, str]] = {
    "edited": "differs from what the pipeline makes",
    "missing": "the pipeline makes it, but it is not there",
    "stale": "there, but the pipeline no longer makes it",
}


@dataclass(frozen=True)
class Finding:
    kind: Kind
    path: str  # Relative to the tree, POSIX.
    diff: str


def _lines(data: bytes | None) -> list[str]:
    if data is None:
        return []
    return data.decode("utf-8", errors="replace").splitlines(keepends=True)


def _diff(rel: str, expected: bytes | None, actual: bytes | None, label: str) -> str:
    fromfile = f"pipeline output/{rel}" if expected is not None else "/dev/null"
    tofile = f"{label}/{rel}" if actual is not None else "/dev/null"
    lines = list(difflib.unified_diff(_lines(expected), _lines(actual), fromfile, tofile))
    if not lines:  # An empty file, or a difference only in bytes that do not decode.
        return f"--- {fromfile}\n+++ {tofile}\n(empty or undecodable file)\n"
    lines = [line if line.endswith("\n") else line + "\n" for line in lines]
    if len(lines) > MAX_DIFF_LINES:
        hidden = len(lines) - MAX_DIFF_LINES
        lines = [*lines[:MAX_DIFF_LINES], f"... ({hidden} more diff lines)\n"]
    return "".join(lines)


def compare(expected_root: Path, actual_root: Path, label: str) -> list[Finding]:
    """How `actual_root` differs from the pipeline's output in `expected_root`."""
    expected, actual = snapshot(expected_root), snapshot(actual_root)
    findings: list[Finding] = []
    for rel in sorted(expected.keys() | actual.keys()):
        want, have = expected.get(rel), actual.get(rel)
        if want == have:
            continue
        kind: Kind = "missing" if have is None else "stale" if want is None else "edited"
        findings.append(Finding(kind, rel, _diff(rel, want, have, label)))
    return findings


def _stamp_fields(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """(inputs: name -> sha256, tools: name -> version) recorded in a GENERATED_FROM stamp."""
    inputs: dict[str, str] = {}
    tools: dict[str, str] = {}
    for line in text.splitlines():
        if match := re.fullmatch(r"sha256 ([0-9a-f]{64}) (.+)", line):
            inputs[match[2]] = match[1]
        elif match := re.fullmatch(r"tool ([^=\s]+)==(\S+)", line):
            tools[match[1]] = match[2]
    return inputs, tools


def explain_stamp(expected: bytes | None, actual: bytes | None, label: str) -> list[str]:
    """What a GENERATED_FROM difference means, in words."""
    if actual is None:
        return [f"{label}/{STAMP} is missing: nothing records how {label}/ was made."]
    want_inputs, want_tools = _stamp_fields((expected or b"").decode("utf-8", errors="replace"))
    have_inputs, have_tools = _stamp_fields(actual.decode("utf-8", errors="replace"))
    lines: list[str] = []
    for tool in sorted(want_tools.keys() | have_tools.keys()):
        was, now = have_tools.get(tool, "nothing"), want_tools.get(tool, "nothing")
        if was != now:
            lines.append(
                f"{tool}: {label}/ was made with {was}; the pinned version is now {now} "
                "(pyproject.toml, dependency group `generate`)"
            )
    for name in sorted(want_inputs.keys() | have_inputs.keys()):
        if want_inputs.get(name) != have_inputs.get(name):
            lines.append(f"{name} changed since {label}/ was made (its recorded sha256 differs)")
    return lines or [f"{label}/{STAMP} was edited (it is written only by scripts/generate.py)"]


def pin_mismatches(pyproject: Path = paths.PYPROJECT) -> list[str]:
    """Pinned pipeline tools that are installed at another version (or not at all)."""
    groups = tomllib.loads(pyproject.read_text(encoding="utf-8"))["dependency-groups"]
    problems: list[str] = []
    for entry in groups["generate"]:
        if not isinstance(entry, str) or "==" not in entry:
            continue
        name, pinned = (part.strip() for part in entry.split("==", 1))
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != pinned:
            problems.append(f"{name} is {installed} here, but pyproject.toml pins {name}=={pinned}")
    return problems


def regenerate(output: Path) -> None:
    """The pipeline's output for the committed inputs, into `output`."""
    try:
        generate(output)
    except GenerationError as exc:
        message = f"drift: the pipeline cannot regenerate from the committed inputs:\n{exc}"
        raise SystemExit(message) from exc


def report(findings: list[Finding], expected_root: Path, actual_root: Path, label: str) -> str:
    out = [
        f"DRIFT: {label}/ is not what the pipeline makes from openapi.yaml, "
        "overrides/openapi-patch.yaml and generator-config.yml:"
    ]
    out.extend(f"  {f.kind:<7} {label}/{f.path}: {EXPLAIN[f.kind]}" for f in findings)
    stamp = [f for f in findings if f.path == STAMP]
    if stamp:
        out.append(f"\n{label}/{STAMP} records how the tree was made; it differs:")
        expected = (expected_root / STAMP).read_bytes() if stamp[0].kind != "stale" else None
        actual = (actual_root / STAMP).read_bytes() if stamp[0].kind != "missing" else None
        out.extend(f"  - {line}" for line in explain_stamp(expected, actual, label))
    out.append("\nDiffs (--- what the pipeline makes, +++ what is there):")
    out.extend(f.diff.rstrip("\n") for f in findings)
    out.append(
        "\nIf the change is meant (a new spec, tool pin, patch or generator config), run "
        "`nox -s generate` and commit generated/ with it. If generated/ was edited by hand, "
        "move the change to overrides/chat_image/ (or overrides/openapi-patch.yaml, "
        "generator-config.yml) and regenerate: the next generation would silently undo it."
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generated", type=Path, default=paths.GENERATED, help="the tree to check")
    parser.add_argument("--against", type=Path, help="an existing pipeline output to compare with")
    args = parser.parse_args(argv)
    actual_root: Path = args.generated.resolve()
    label = paths.shown(actual_root)
    pins = pin_mismatches()
    if pins:
        print("drift: the pipeline's tools here are not the pinned ones; run `nox -s drift`:")
        print("\n".join(f"  - {line}" for line in pins))
        return 1
    with tempfile.TemporaryDirectory(prefix="chat-image-drift-") as tmp:
        expected_root = args.against.resolve() if args.against else Path(tmp)
        if args.against is None:
            regenerate(expected_root)
        findings = compare(expected_root, actual_root, label)
        if not findings:
            count = len(snapshot(actual_root))
            print(f"{label}/ is in sync with the pipeline's output ({count} files).")
            return 0
        print(report(findings, expected_root, actual_root, label))
        return 1


if __name__ == "__main__":
    sys.exit(main())
