"""Parsed records as table rows: nested fields flattened into dotted column names."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["flatten", "rows_to_csv"]


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """`{"a": {"b": 1}, "c": [{"d": 2}]}` -> `{"a.b": 1, "c.0.d": 2}`; scalars stay as they are."""
    if isinstance(value, Mapping):
        if not value and prefix:
            return {prefix: "{}"}
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(value, list):
        if not value and prefix:
            return {prefix: "[]"}
        flat = {}
        for index, item in enumerate(value):
            flat.update(flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "value": value}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    return str(value)


def rows_to_csv(rows: Iterable[Mapping[str, Any]], leading: Iterable[str] = ()) -> str:
    """CSV text with a header: `leading` columns first, then every other column in the order
    it first appears."""
    materialized = list(rows)
    columns = list(dict.fromkeys(leading))
    seen = set(columns)
    for row in materialized:
        for name in row:
            if name not in seen:
                seen.add(name)
                columns.append(name)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in materialized:
        writer.writerow([_cell(row.get(name)) for name in columns])
    return buffer.getvalue()
