"""The report: the verdict and exit status, as text for a person or JSON for a program."""

from __future__ import annotations

import json
from collections.abc import Sequence

from scripts.spec_diff._model import (
    BREAKING,
    EXIT_BREAKING,
    EXIT_NON_BREAKING,
    EXIT_NONE,
    NON_BREAKING,
    Change,
    Spec,
)


def verdict(changes: Sequence[Change]) -> tuple[str, int]:
    """The verdict's name and the exit status that goes with it."""
    if any(c.severity == BREAKING for c in changes):
        return "breaking", EXIT_BREAKING
    if changes:
        return "non-breaking", EXIT_NON_BREAKING
    return "none", EXIT_NONE


def render_text(
    base: Spec, candidate: Spec, changes: Sequence[Change], client: bool, status: bool = True
) -> str:
    """The report for a person; `client` adds the --client section, `status` the exit status."""
    name, code = verdict(changes)
    spec_changes = [c for c in changes if not c.rule.startswith(("client-", "overrides-"))]
    client_changes = [c for c in changes if c not in spec_changes]
    out = [f"Comparing {base.label} (ours) with {candidate.label} (candidate)", ""]
    for severity, title in ((BREAKING, "Breaking"), (NON_BREAKING, "Non-breaking")):
        chosen = [c for c in spec_changes if c.severity == severity]
        out.append(f"{title} changes ({len(chosen)}){':' if chosen else ''}")
        out.extend(f"  - {c.line()}" for c in chosen)
        out.append("")
    if client:
        out.append(
            f"Client regenerated from the candidate: "
            f"{'overrides/ still fit it' if not client_changes else 'PROBLEMS'}"
        )
        out.extend(f"  - {c.message}" for c in client_changes)
        out.append("")
    out.append(f"Verdict: {name} (exit status {code})" if status else f"Verdict: {name}")
    return "\n".join(out)


def render_json(base: Spec, candidate: Spec, changes: Sequence[Change]) -> str:
    """The report for a program, with a JSON pointer to each change."""
    name, code = verdict(changes)
    return json.dumps(
        {
            "base": base.label,
            "candidate": candidate.label,
            "verdict": name,
            "exit_status": code,
            "counts": {
                BREAKING: sum(c.severity == BREAKING for c in changes),
                NON_BREAKING: sum(c.severity == NON_BREAKING for c in changes),
            },
            "changes": [
                {
                    "severity": c.severity,
                    "rule": c.rule,
                    "location": c.location,
                    "message": c.message,
                    "pointer": c.pointer,
                }
                for c in changes
            ],
        },
        ensure_ascii=False,
        indent=2,
    )
