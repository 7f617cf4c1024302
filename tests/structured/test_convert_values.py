"""JSON to the caller's type: strict about types, every problem with its path (item 7)."""

from __future__ import annotations

import copy
import datetime as dt
import decimal

import pytest
from shapes import RECEIPT_JSON, AttrsPoint, Category, Invoice, LineItem, Node, Receipt

from chat_image._structured.convert import INVALID, compile_type, validate_schema
from chat_image._structured.parse import read_message
from chat_image._structured.target import prepare


def convert(tp, data):
    return prepare(tp).convert(data)


def test_a_valid_receipt_becomes_the_dataclass_with_dates_decimals_and_enums():
    value, problems = convert(Receipt, RECEIPT_JSON)
    assert problems == []
    assert value == Receipt(
        merchant="Acme",
        day=dt.date(2026, 3, 1),
        total=decimal.Decimal("12.5"),
        items=[
            LineItem("bread", 2, decimal.Decimal("2.25"), Category.FOOD),
            LineItem("hammer", 1, decimal.Decimal("8"), None),
        ],
    )


def test_every_problem_is_reported_with_its_path():
    data = copy.deepcopy(RECEIPT_JSON)
    data["items"][0]["qty"] = 2.7
    data["items"][1]["price"] = float("nan")
    data["items"][1]["category"] = "fod"
    data["total"] = True
    del data["merchant"]
    _, problems = convert(Receipt, data)
    found = {problem.path: problem.message for problem in problems}
    assert set(found) == {
        "merchant",
        "total",
        "items[0].qty",
        "items[1].price",
        "items[1].category",
    }
    assert found["merchant"] == "missing (required)"
    assert found["items[0].qty"] == "expected an integer, got a number (2.7)"
    assert "nan" in found["items[1].price"]
    assert "'food', 'tools'" in found["items[1].category"]
    assert "boolean" in found["total"]


@pytest.mark.parametrize("bad", [2.7, "2", True, None])
def test_an_int_takes_no_float_string_or_boolean(bad):
    _, problems = convert(AttrsPoint, {"x": bad, "y": 1})
    assert [p.path for p in problems] == ["x"]


def test_an_integral_float_is_an_int():
    value, problems = convert(AttrsPoint, {"x": 2.0, "y": 1})
    assert problems == []
    assert value == AttrsPoint(2, 1)
    assert type(value.x) is int


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", '"1.5"', "false"])
def test_a_float_is_a_finite_number(bad):
    reading = read_message(prepare(Invoice), f'{{"number": "A1", "amount": {bad}}}', {})
    assert not reading.ok
    assert [p.path for p in reading.problems] == ["amount"]


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_our_converter_refuses_non_finite_floats_too(bad):
    problems = []
    assert compile_type(Invoice)({"number": "A1", "amount": bad}, "", problems) is INVALID
    assert [p.path for p in problems] == ["amount"]


def test_optional_fields_answered_null_take_their_defaults_and_typeddict_keys_stay_out():
    value, problems = convert(AttrsPoint, {"x": 1, "y": 2, "label": None})
    assert problems == []
    assert value == AttrsPoint(1, 2, None)
    value, problems = convert(Invoice, {"number": "A1", "amount": 3, "note": None})
    assert problems == []
    assert value == {"number": "A1", "amount": 3.0}
    data = {**RECEIPT_JSON, "currency": None}
    value, problems = convert(Receipt, data)
    assert problems == []
    assert value.currency == "EUR"


def test_dates_models_write_that_iso_does_not_cover_are_read_with_dateutil():
    value, problems = convert(Receipt, {**RECEIPT_JSON, "day": "March 1, 2026"})
    assert problems == []
    assert value.day == dt.date(2026, 3, 1)
    _, problems = convert(Receipt, {**RECEIPT_JSON, "day": "not a day"})
    assert [p.path for p in problems] == ["day"]


def test_decimal_money_keeps_its_digits():
    value, _ = convert(Receipt, {**RECEIPT_JSON, "total": "12.10"})
    assert value.total == decimal.Decimal("12.10")
    value, _ = convert(Receipt, {**RECEIPT_JSON, "total": 0.1})
    assert value.total == decimal.Decimal("0.1")


def test_recursive_types_convert_all_the_way_down():
    value, problems = convert(Node, {"value": 1, "children": [{"value": 2, "children": []}]})
    assert problems == []
    assert value == Node(1, [Node(2, [])])
    _, problems = convert(Node, {"value": 1, "children": [{"value": "2", "children": []}]})
    assert [p.path for p in problems] == ["children[0].value"]


def test_lists_and_unions():
    value, problems = convert(list[AttrsPoint], [{"x": 1, "y": 2}, {"x": 3, "y": 4}])
    assert problems == []
    assert value == [AttrsPoint(1, 2), AttrsPoint(3, 4)]
    value, problems = convert(AttrsPoint | Invoice, {"number": "A", "amount": 1})
    assert problems == []
    assert value == {"number": "A", "amount": 1.0}
    _, problems = convert(AttrsPoint | Invoice, {"x": 1, "y": "no"})
    assert [p.path for p in problems] == ["y"]


def test_keys_that_are_not_fields_are_ignored():
    value, problems = convert(AttrsPoint, {"x": 1, "y": 2, "z": 3})
    assert problems == []
    assert value == AttrsPoint(1, 2)


def test_a_json_schema_dict_is_validated_with_every_problem():
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "integer", "minimum": 0},
            "b": {"type": "array", "items": {"enum": ["x", "y"]}},
            "c": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
        "required": ["a", "b", "c"],
        "additionalProperties": False,
    }
    value, problems = prepare(schema).convert({"a": 1, "b": ["x"], "c": None})
    assert problems == []
    assert value == {"a": 1, "b": ["x"], "c": None}
    problems = validate_schema({"a": -1.5, "b": ["z", "x"], "d": 1}, schema)
    assert {p.path for p in problems} == {"a", "b[0]", "c", "d"}


def test_pydantic_models_keep_pydantic_rules_and_report_every_problem():
    pydantic = pytest.importorskip("pydantic")

    class Model(pydantic.BaseModel):
        a: int
        b: list[int]

    value, problems = prepare(Model).convert({"a": "3", "b": [1, 2]})
    assert problems == []
    assert value == Model(a=3, b=[1, 2])
    _, problems = prepare(Model).convert({"a": "x", "b": [1, "y"]})
    assert {p.path for p in problems} == {"a", "b[1]"}
