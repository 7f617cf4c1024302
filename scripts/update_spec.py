"""Take a new upstream spec: write it to openapi.yaml, regenerate, check, test, summarize.

    python -m scripts.update_spec NEW_SPEC

NEW_SPEC is what `nox -s spec-diff` takes (a path or URL: a spec, or the published page).
Steps, each reported:
1. classify the changes against openapi.yaml (scripts.spec_diff);
2. regenerate from the candidate into a temporary directory first: if the pipeline cannot
   (a correction in overrides/openapi-patch.yaml no longer applies, say), stop with nothing
   written;
3. write the spec section to openapi.yaml byte for byte, and regenerate generated/
   (scripts.generate);
4. run the drift check (scripts.drift), the overrides check (scripts.check_overrides) and
   the test suite against the new code;
5. print a summary to paste into the pull request.

`--skip-tests` leaves step 4's test suite to you (the summary says so, and the exit status
cannot be 0 then).

Exit status: 0 updated (or nothing to do) and every check passes; 1 updated, but a check
failed or the tests were skipped (the summary says which: fix it before merging); 3 bad
input, nothing written; 4 the pipeline cannot generate from the candidate, nothing written.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from scripts import drift, paths, spec_diff
from scripts.generate import GenerationError, file_count, generate

EXIT_OK: Final = 0
EXIT_CHECKS_FAILED: Final = 1
EXIT_BAD_INPUT: Final = 3
EXIT_CANNOT_GENERATE: Final = 4
FILE_CHANGE: Final = {"edited": "modified", "missing": "added", "stale": "removed"}


@dataclass(frozen=True)
class Step:
    name: str
    ok: bool
    headline: str
    output: str


def _run(name: str, args: Sequence[str], env: dict[str, str] | None = None) -> Step:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=paths.ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = (done.stdout + done.stderr).strip()
    lines = output.splitlines()
    headline = lines[-1] if name == "tests" and lines else (lines[0] if lines else "")
    return Step(name, done.returncode == 0, headline, output)


def _test_the_new_package() -> Step:
    """The tests session's suite, against the package just written, as `pip install .` ships
    it (its console script and pytest plugin included), without Pillow."""
    install = _run("tests", ["-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", "."])
    if not install.ok:
        return install
    return _run("tests", ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not pillow"])


def summary(
    source: str,
    candidate: spec_diff.Spec,
    changes: Sequence[spec_diff.Change],
    files: Sequence[drift.Finding],
    steps: Sequence[Step],
) -> str:
    verdict, _ = spec_diff.verdict(changes)
    digest = hashlib.sha256(candidate.text.encode("utf-8")).hexdigest()[:12]
    breaking = sum(c.severity == spec_diff.BREAKING for c in changes)
    out = [
        "### Update openapi.yaml from the upstream spec",
        "",
        f"Source: `{source}` (spec section sha256 `{digest}…`)",
        "",
        f"**Spec changes: {verdict}** ({breaking} breaking, {len(changes) - breaking} "
        "non-breaking; `nox -s spec-diff`)",
    ]
    out.extend(f"- {c.severity}: {c.line()}" for c in changes)
    out += ["", "**Generated code** (`nox -s generate`):"]
    out.extend(f"- {FILE_CHANGE[f.kind]} `generated/{f.path}`" for f in files)
    if not files:
        out.append("- no file changed")
    out += ["", "**Checks**"]
    for step in steps:
        out.append(f"- [{'x' if step.ok else ' '}] {step.name}: {step.headline}")
    if verdict == "breaking":
        out += [
            "",
            "Breaking upstream changes: say in the changelog what users of the affected fields "
            "must do.",
        ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("candidate", help="path or http(s) URL: a spec, or the published page")
    parser.add_argument(
        "--skip-tests", action="store_true", help="write and check, but leave the tests to you"
    )
    args = parser.parse_args(argv)
    try:
        base = spec_diff.load_spec(str(paths.SPEC))
        candidate = spec_diff.load_spec(args.candidate)
        changes = spec_diff.compare(base, candidate)
    except spec_diff.BadInput as exc:
        print(f"update-spec: bad input, nothing written: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    base = spec_diff.Spec("openapi.yaml", base.text, base.data)
    print(spec_diff.render_text(base, candidate, changes, client=False, status=False), end="\n\n")
    if candidate.text == paths.SPEC.read_text(encoding="utf-8"):
        print("update-spec: openapi.yaml already holds this spec; nothing to do.")
        return EXIT_OK

    with tempfile.TemporaryDirectory(prefix="chat-image-update-") as tmp:
        spec_copy = Path(tmp) / "openapi.yaml"
        spec_copy.write_text(candidate.text, encoding="utf-8")
        try:
            generate(Path(tmp) / "generated", spec_copy)
        except GenerationError as exc:
            print(
                f"update-spec: the pipeline cannot generate from the candidate; nothing written.\n"
                f"{exc}",
                file=sys.stderr,
            )
            return EXIT_CANNOT_GENERATE
        files = drift.compare(Path(tmp) / "generated", paths.GENERATED, "generated")

    paths.SPEC.write_text(candidate.text, encoding="utf-8")
    try:
        generate(paths.GENERATED)
    except GenerationError as exc:  # It just worked on a copy; report rather than guess.
        print(exc, file=sys.stderr)
        return EXIT_CHECKS_FAILED
    written = file_count(len(files))
    print(f"update-spec: wrote openapi.yaml and regenerated generated/ ({written} changed)")

    steps = [
        _run("drift", ["-m", "scripts.drift"]),
        _run("overrides", ["-m", "scripts.check_overrides"]),
    ]
    if args.skip_tests:
        steps.append(Step("tests", False, "not run (--skip-tests): run `nox -s tests`", ""))
    else:
        steps.append(_test_the_new_package())
    for step in steps:
        print(f"\n== {step.name}: {'pass' if step.ok else 'FAIL'}")
        print(step.output if not step.ok else step.headline)
    print("\n----- pull request summary (paste from here) -----")
    print(summary(args.candidate, candidate, changes, files, steps))
    print("----- end of summary -----")
    return EXIT_OK if all(step.ok for step in steps) else EXIT_CHECKS_FAILED


if __name__ == "__main__":
    sys.exit(main())
