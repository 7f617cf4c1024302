"""Regrouping the package's private modules must not change what users import or call."""

from __future__ import annotations

import json

from public_api import RECORD, snapshot


def test_public_names_and_signatures_are_as_recorded() -> None:
    recorded = json.loads(RECORD.read_text())
    current = snapshot()
    assert current.keys() == recorded.keys()
    for module in recorded:
        assert sorted(current[module]) == sorted(recorded[module]), module
        for name, description in recorded[module].items():
            assert current[module][name] == description, f"{module}.{name}"
