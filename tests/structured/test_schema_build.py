"""Types to JSON Schema, and OpenAI's strict form on the wire (issue 17 items 4 and 5)."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
from shapes import AttrsPoint, Event, Invoice, LineItem, Node, Receipt

from chat_image._structured.schema import UnsupportedTypeError, build_schema, clean_name
from chat_image._structured.strict import portable, to_strict
from chat_image._structured.target import prepare

NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def objects(schema: Any) -> list[dict[str, Any]]:
    """Every object schema inside `schema`."""
    found = []
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            found.append(schema)
        for value in schema.values():
            found.extend(objects(value))
    elif isinstance(schema, list):
        for value in schema:
            found.extend(objects(value))
    return found


def keys(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        return set(schema) | {k for value in schema.values() for k in keys(value)}
    if isinstance(schema, list):
        return {k for value in schema for k in keys(value)}
    return set()


@pytest.mark.parametrize("tp", [Receipt, AttrsPoint, Invoice, Node, Event])
def test_records_go_strict_every_object_closed_and_every_property_required(tp):
    target = prepare(tp)
    assert target.strict
    wire = target.wire
    assert wire["type"] == "object"
    assert "$schema" not in keys(wire)
    assert "oneOf" not in keys(wire)
    assert "default" not in keys(wire)
    for schema in objects(wire):
        assert schema["additionalProperties"] is False
        assert schema["required"] == list(schema["properties"])
    assert NAME.match(target.response_format()["json_schema"]["name"])


def test_optional_fields_become_a_union_with_null_and_keep_no_default():
    wire = prepare(Receipt).wire
    currency = wire["properties"]["currency"]
    assert currency == {"anyOf": [{"enum": ["EUR", "USD"], "type": "string"}, {"type": "null"}]}
    item = wire["properties"]["items"]["items"]
    assert item["properties"]["category"]["anyOf"][-1] == {"type": "null"}
    invoice = prepare(Invoice).wire
    assert invoice["properties"]["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}


def test_dates_decimals_and_descriptions_on_the_wire():
    schema = prepare(Receipt).wire
    assert schema["properties"]["day"] == {"type": "string", "format": "date"}
    assert schema["properties"]["total"] == {"type": "number"}
    assert schema["description"] == "A shop receipt, as printed."
    assert prepare(Event).wire["properties"]["starts"]["format"] == "date-time"


def test_a_recursive_type_refers_to_itself_through_defs():
    wire = prepare(Node).wire
    assert wire["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert wire["$defs"]["Node"]["additionalProperties"] is False


def test_a_class_used_twice_is_defined_once():
    @dataclasses.dataclass
    class Pair:
        first: LineItem
        second: LineItem

    schema = build_schema(Pair)
    assert schema["properties"]["first"] == {"$ref": "#/$defs/LineItem"}
    assert set(schema["$defs"]) == {"LineItem"}
    assert prepare(Pair).strict


def test_lists_and_unions_at_the_top_are_wrapped_in_an_object():
    target = prepare(list[LineItem])
    assert target.wrapper_key == "items"
    assert target.wire["required"] == ["items"]
    assert target.wire["properties"]["items"]["type"] == "array"
    assert target.strict
    assert NAME.match(target.name)
    union = prepare(AttrsPoint | Invoice)
    assert union.wrapper_key == "value"
    assert "anyOf" in union.wire["properties"]["value"]


def test_free_form_dicts_go_non_strict_and_as_they_are():
    @dataclasses.dataclass
    class Tagged:
        name: str
        tags: dict[str, int]

    target = prepare(Tagged)
    assert target.strict is False
    assert target.wire["properties"]["tags"] == {
        "type": "object",
        "additionalProperties": {"type": "integer"},
    }
    assert target.response_format()["json_schema"]["strict"] is False


@pytest.mark.parametrize(
    "keyword", [{"minLength": 1}, {"uniqueItems": True}, {"format": "uri"}, {"not": {}}]
)
def test_constraints_strict_mode_rejects_make_the_schema_non_strict(keyword):
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string", **keyword}},
        "required": ["a"],
    }
    wire, strict = to_strict(schema)
    assert strict is False
    assert wire["properties"]["a"] == {"type": "string", **keyword}


def test_one_of_becomes_any_of_and_schema_keys_go():
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Thing",
        "type": "object",
        "properties": {"v": {"oneOf": [{"type": "string"}, {"type": "integer"}], "default": 1}},
        "required": ["v"],
    }
    wire, strict = to_strict(schema)
    assert strict
    assert wire == {
        "type": "object",
        "properties": {"v": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "required": ["v"],
        "additionalProperties": False,
    }


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [("Page[Item]", "Page_Item"), ("a b.c", "a_b_c"), ("x" * 80, "x" * 64), ("[]", "Response")],
)
def test_names_are_cleaned_and_cut(name, cleaned):
    assert clean_name(name) == cleaned
    assert NAME.match(clean_name(name))


def test_portable_drops_the_named_keyword_and_turns_const_into_enum():
    schema = {
        "type": "object",
        "properties": {"a": {"const": "x"}, "b": {"type": "string", "format": "email"}},
        "additionalProperties": False,
    }
    assert portable(schema, ["format"]) == {
        "type": "object",
        "properties": {"a": {"enum": ["x"]}, "b": {"type": "string"}},
        "additionalProperties": False,
    }
    assert "additionalProperties" not in portable(schema)


def test_a_json_schema_dict_and_the_openai_envelope_are_taken():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    assert prepare(schema).strict
    envelope = {"type": "json_schema", "json_schema": {"name": "thing v2", "schema": schema}}
    assert prepare(envelope).name == "thing_v2"


def test_a_type_is_prepared_once():
    assert prepare(Receipt) is prepare(Receipt)


def test_what_cannot_be_a_response_format_is_named():
    class Plain:
        pass

    with pytest.raises(UnsupportedTypeError, match="Plain"):
        prepare(Plain)
    with pytest.raises(TypeError, match="response_format"):
        prepare("Receipt")


def test_pydantic_models_keep_pydantic_schema_and_go_strict_when_they_can():
    pydantic = pytest.importorskip("pydantic")
    from typing import Generic, TypeVar

    T = TypeVar("T")

    class Page(pydantic.BaseModel, Generic[T]):
        items: list[T]
        next: str | None = None

    class Loose(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="allow")
        a: int

    page = prepare(Page[LineItem])
    assert NAME.match(page.name), page.name
    assert page.strict
    assert "next" in page.wire["required"]
    assert json.dumps(page.wire).count('"additionalProperties": false') >= 2
    loose = prepare(Loose)
    assert loose.strict is False  # extra="allow": strict would 400; sent as it is
