"""The rule table is the whole story: every rule the walk reports has a row in it."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline import ROOT, corpus
from scripts.spec_diff._rules import ANNOTATIONS, RULES, TABLE

WALK = sorted((ROOT / "scripts" / "spec_diff").glob("_*.py"))


def _reported_keys(path: Path) -> set[str]:
    """The rule keys a module passes as literals to report() (or to _problem() for --client)."""
    text = path.read_text(encoding="utf-8")
    calls = re.findall(r"(?:self\.report|_problem)\(\s*([^,]+),", text)
    return {key for call in calls for key in re.findall(r'"([a-z-]+)"', call)}


def test_every_rule_the_walk_reports_is_in_the_table():
    reported = set().union(*map(_reported_keys, WALK)) | set(ANNOTATIONS.values())
    assert {"path-removed", "enum-value-added", "overrides-broken"} <= reported  # found at all
    assert reported - RULES.keys() == set()


def test_the_table_has_one_row_per_key_and_names_every_rule_the_corpus_pins():
    assert len(RULES) == len(TABLE)
    names = {rule.name for rule in TABLE}
    assert {rule for case in corpus() for _, rule, _ in case.changes} <= names
