"""Regenerate the client package from openapi.yaml: the one writer of generated/.

The upstream document is never edited. The pipeline applies overrides/openapi-patch.yaml
(JSON Patch) to a copy, runs openapi-python-client with generator-config.yml on it, and
swaps the result in for the old package, so files the spec no longer produces disappear.
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
from typing import Any

import jsonpatch
import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"
PATCH = ROOT / "overrides" / "openapi-patch.yaml"
CONFIG = ROOT / "generator-config.yml"
# Our versions of generator templates (--custom-template-path): they decide the output too.
TEMPLATES = ROOT / "overrides" / "templates"
PACKAGE = "chat_image_api"
STAMP = "GENERATED_FROM"
# The corrected spec, shipped in the package: chat_image.testing's FakeGateway checks requests
# against it, and users have no openapi.yaml.
SPEC_RESOURCE = "openapi.json"
# The tools whose versions decide the output: a change of any of them is drift too.
TOOLS = ("openapi-python-client", "ruff", "jsonpatch", "PyYAML")


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as file:
        return yaml.safe_load(file)


def patched_spec(spec_path: Path = SPEC, patch_path: Path = PATCH) -> Any:
    """The upstream document with the overrides' corrections applied."""
    try:
        return jsonpatch.apply_patch(load_yaml(spec_path), load_yaml(patch_path))
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
        raise SystemExit(
            f"{patch_path.relative_to(ROOT)} no longer applies to {spec_path.name}: {exc}\n"
            "The upstream spec changed under a correction; update the patch to match."
        ) from exc


def stamp_text(spec_path: Path = SPEC) -> str:
    """What the output was made from, so drift shows even when the code comes out equal."""
    lines = ["# Written by scripts/generate.py; `nox -s drift` compares it. Do not edit."]
    for path in (spec_path, PATCH, CONFIG, *sorted(TEMPLATES.rglob("*.jinja"))):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(
            f"sha256 {digest} {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name}"
        )
    for tool in TOOLS:
        lines.append(f"tool {tool}=={importlib.metadata.version(tool)}")
    return "\n".join(lines) + "\n"


def write_spec_resource(target: Path, spec_path: Path = SPEC) -> None:
    """The patched spec as JSON, byte-stable: sorted keys, fixed indent, UTF-8, final newline."""
    text = json.dumps(patched_spec(spec_path), indent=1, sort_keys=True, ensure_ascii=False)
    target.write_text(text + "\n", encoding="utf-8")


def generate(output: Path, spec_path: Path = SPEC) -> None:
    """Write the generated tree (the package and its stamp) into `output`."""
    with tempfile.TemporaryDirectory(prefix="chat-image-gen-") as tmp:
        work = Path(tmp)
        spec_copy = work / "openapi.patched.yaml"
        with spec_copy.open("w", encoding="utf-8") as file:
            yaml.safe_dump(patched_spec(spec_path), file, allow_unicode=True, sort_keys=False)
        package_dir = work / PACKAGE
        subprocess.run(
            [
                "openapi-python-client",
                "generate",
                "--path",
                str(spec_copy),
                "--config",
                str(CONFIG),
                "--custom-template-path",
                str(TEMPLATES),
                "--meta",
                "none",
                "--output-path",
                str(package_dir),
                "--fail-on-warning",
            ],
            cwd=work,
            check=True,
        )
        # PEP 561: the generated package is typed, and says so to type checkers.
        (package_dir / "py.typed").write_text("")
        write_spec_resource(package_dir / SPEC_RESOURCE, spec_path)
        output.mkdir(parents=True, exist_ok=True)
        target = output / PACKAGE
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(package_dir, target)
        (output / STAMP).write_text(stamp_text(spec_path), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=ROOT / "generated")
    parser.add_argument("--spec", type=Path, default=SPEC)
    args = parser.parse_args(argv)
    generate(args.output, args.spec)
    return 0


if __name__ == "__main__":
    sys.exit(main())
