"""Flattening parsed records into CSV columns, nested paths dotted (item 12, export)."""

from __future__ import annotations

import csv
import io

from chat_image._structured.flatten import flatten, rows_to_csv


def test_nested_fields_become_dotted_columns():
    parsed = {"merchant": "Acme", "total": 12.5, "items": [{"name": "x", "qty": 2}], "meta": {}}
    assert flatten(parsed) == {
        "merchant": "Acme",
        "total": 12.5,
        "items.0.name": "x",
        "items.0.qty": 2,
        "meta": "{}",
    }


def test_rows_share_one_header_and_cells_are_plain_text():
    text = rows_to_csv(
        [
            {"id": "a", "merchant": "Acme, Inc", "paid": True, "note": None},
            {"id": "b", "merchant": 'The "Shop"', "items.0.qty": 3},
        ],
        leading=["id"],
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["id", "merchant", "paid", "note", "items.0.qty"],
        ["a", "Acme, Inc", "true", "", ""],
        ["b", 'The "Shop"', "", "", "3"],
    ]
