"""Regenerate the client package from openapi.yaml: the one writer of generated/.

    python -m scripts.generate [--output DIR] [--spec PATH]

The upstream document is never edited. The pipeline applies overrides/openapi-patch.yaml
(JSON Patch) to a copy, runs openapi-python-client with generator-config.yml on it, and
swaps the result in for the old package, so files the spec no longer produces disappear.
It ends by saying whether the output changed, and how many files.

`generate()` is the pipeline itself: `drift`, `spec-diff --client` and `update-spec` call it
to regenerate into a temporary directory.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Final

import yaml

from scripts import paths

# The tools whose versions decide the output: a change of any of them is drift too.
TOOLS: Final = ("openapi-python-client", "ruff", "jsonpatch", "PyYAML")
# What git ignores inside generated/ (see .gitignore): never part of the output.
IGNORED_DIRS: Final = frozenset({"__pycache__"})
IGNORED_SUFFIXES: Final = frozenset({".pyc", ".pyo"})


class GenerationError(Exception):
    """The pipeline cannot generate from these inputs; the message says why."""


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as file:
        return yaml.safe_load(file)


def patched_spec(spec_path: Path = paths.SPEC, patch_path: Path = paths.PATCH) -> Any:
    """The upstream document with the overrides' corrections applied."""
    # Imported here: the tests-images session imports this module (for drift's and
    # generate's tests, which it then deselects) without the pipeline's tools installed.
    import jsonpatch

    try:
        return jsonpatch.apply_patch(load_yaml(spec_path), load_yaml(patch_path))
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
        raise GenerationError(
            f"{paths.shown(patch_path)} no longer applies to {spec_path.name}: {exc}\n"
            "The upstream spec changed under a correction; update the patch to match."
        ) from exc


def stamp_text(spec_path: Path = paths.SPEC) -> str:
    """What the output was made from, so drift shows even when the code comes out equal."""
    lines = ["# Written by scripts/generate.py; `nox -s drift` compares it. Do not edit."]
    inputs = (spec_path, paths.PATCH, paths.CONFIG, *sorted(paths.TEMPLATES.rglob("*.jinja")))
    for path in inputs:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        name = path.relative_to(paths.ROOT) if path.is_relative_to(paths.ROOT) else path.name
        lines.append(f"sha256 {digest} {name}")
    for tool in TOOLS:
        lines.append(f"tool {tool}=={importlib.metadata.version(tool)}")
    return "\n".join(lines) + "\n"


def spec_json(spec: dict[str, Any]) -> str:
    """The patched spec as JSON, byte-stable: sorted keys, fixed indent, final newline."""
    return json.dumps(spec, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _run_generator(spec_copy: Path, package_dir: Path) -> None:
    """openapi-python-client on the patched copy, its chatter kept for the error if it fails."""
    try:
        done = _generator_process(spec_copy, package_dir)
    except OSError as exc:  # Not installed: the sessions install the pinned one.
        raise GenerationError(f"cannot run openapi-python-client ({exc}); use `nox`") from exc
    if done.returncode != 0:
        raise GenerationError(
            f"openapi-python-client failed (exit {done.returncode}):\n"
            + (done.stdout + done.stderr).strip()
        )


def _generator_process(spec_copy: Path, package_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "openapi-python-client",
            "generate",
            *("--path", str(spec_copy)),
            *("--config", str(paths.CONFIG)),
            *("--custom-template-path", str(paths.TEMPLATES)),
            *("--meta", "none"),
            *("--output-path", str(package_dir)),
            "--fail-on-warning",
        ],
        cwd=package_dir.parent,
        capture_output=True,
        text=True,
        check=False,
    )


def generate(output: Path, spec_path: Path = paths.SPEC) -> None:
    """Write the pipeline's output for `spec_path` (the package and its stamp) into `output`.

    Raises GenerationError, with nothing written, when the patch or the generator fails.
    """
    with tempfile.TemporaryDirectory(prefix="chat-image-gen-") as tmp:
        spec = patched_spec(spec_path)
        spec_copy = Path(tmp) / "openapi.patched.yaml"
        with spec_copy.open("w", encoding="utf-8") as file:
            yaml.safe_dump(spec, file, allow_unicode=True, sort_keys=False)
        package_dir = Path(tmp) / paths.PACKAGE
        _run_generator(spec_copy, package_dir)
        # Files the pipeline adds to the generator's output: one line each, here.
        (package_dir / "py.typed").write_text("")  # PEP 561: the package is typed.
        (package_dir / paths.SPEC_RESOURCE).write_text(spec_json(spec), encoding="utf-8")

        output.mkdir(parents=True, exist_ok=True)
        target = output / paths.PACKAGE
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(package_dir, target)
        (output / paths.STAMP).write_text(stamp_text(spec_path), encoding="utf-8")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` (but caches), by relative POSIX path."""
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if IGNORED_DIRS & set(rel.parts) or path.suffix in IGNORED_SUFFIXES or not path.is_file():
            continue
        files[rel.as_posix()] = path.read_bytes()
    return files


def outcome(label: str, before: dict[str, bytes], after: dict[str, bytes]) -> str:
    """One line saying whether a tree changed, and how many files."""
    changed = sum(before.get(rel) != after.get(rel) for rel in before.keys() | after.keys())
    if not changed:
        return f"{label}/: unchanged ({len(after)} files)"
    return f"{label}/: {file_count(changed)} changed"


def file_count(count: int) -> str:
    """`1 file`, `2 files`."""
    return f"{count} {'file' if count == 1 else 'files'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=paths.GENERATED)
    parser.add_argument("--spec", type=Path, default=paths.SPEC)
    args = parser.parse_args(argv)
    before = snapshot(args.output)
    try:
        generate(args.output, args.spec)
    except GenerationError as exc:
        print(f"generate: {exc}", file=sys.stderr)
        return 1
    print(outcome(paths.shown(args.output), before, snapshot(args.output)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
