"""The command line of spec-diff: compare a candidate upstream spec with openapi.yaml.

    python -m scripts.spec_diff NEW_SPEC [--base PATH] [--json] [--client]

NEW_SPEC is a path or an http(s) URL holding an OpenAPI 3 document, or the gateway's whole
published (Apifox) page: prose, a line "OpenAPI specification", then the YAML from
`openapi: 3.0.1` to the end; the spec section is taken from it.

Each change is breaking or non-breaking for a client of the API:
- breaking: a path, operation, parameter, response or property removed; a property,
  parameter or the request body newly required; a type or format changed; a request enum
  value removed; anything this tool does not know how to judge (it says so: review it);
- non-breaking: a path, operation or optional property added; a request enum value added;
  a description, summary, title or example changed; `x-*` (e.g. `x-apifox-*`) metadata.
In responses the direction flips where it matters: a property that stops being required or
a new enum value breaks clients (generated literal enums reject values they do not know).
A renamed property shows as removed + added, so it is breaking. The rules, and which
direction flips which, are one table: scripts/spec_diff/_rules.py.

`--client` also regenerates the client from the candidate in a temporary directory and
checks that overrides/ still fit it (scripts.check_overrides); a failure there is
reported as a breaking change. Nothing in the work tree is written.

Exit status (documented in CONTRIBUTING.md):
  0  no changes
  1  non-breaking changes only
  2  at least one breaking change
  3  bad input: unreadable, not YAML, or not an OpenAPI 3 document
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from scripts import paths
from scripts.spec_diff._document import compare
from scripts.spec_diff._load import load_spec
from scripts.spec_diff._model import BREAKING, EXIT_BAD_INPUT, BadInput
from scripts.spec_diff._report import render_json, render_text, verdict


def main(argv: Sequence[str] | None = None) -> int:
    """Run spec-diff; the exit status is the verdict's (CONTRIBUTING.md)."""
    parser = argparse.ArgumentParser(
        description="Classify the changes from openapi.yaml to a candidate upstream spec.",
        epilog="Exit status: 0 no changes, 1 non-breaking only, 2 breaking, 3 bad input.",
    )
    parser.add_argument("candidate", help="path or http(s) URL: a spec, or the published page")
    parser.add_argument(
        "--base", default=str(paths.SPEC), help="the spec to compare with (openapi.yaml)"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--client", action="store_true", help="also regenerate and check overrides/ against it"
    )
    args = parser.parse_args(argv)
    base_label = paths.shown(Path(args.base))
    try:
        base = replace(load_spec(args.base), label=base_label)
        candidate = load_spec(args.candidate)
        changes = compare(base, candidate)
    except BadInput as exc:
        if args.json:
            print(
                json.dumps(
                    {"verdict": "bad-input", "exit_status": EXIT_BAD_INPUT, "error": str(exc)}
                )
            )
        print(f"spec-diff: bad input: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.client:
        from scripts.spec_diff._client import client_problems  # The pipeline, only for --client.

        changes = [*changes, *client_problems(candidate)]
        changes.sort(key=lambda c: c.severity != BREAKING)
    print(
        render_json(base, candidate, changes)
        if args.json
        else render_text(base, candidate, changes, args.client)
    )
    return verdict(changes)[1]
