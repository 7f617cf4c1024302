"""The fake gateway's contract: the shipped spec, and the validator for the subset it uses."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest

from chat_image.testing import UnsupportedSchemaError
from chat_image.testing._contract import Contract, load_contract, validate
from scripts.generate import patched_spec


def test_the_shipped_spec_is_the_pipelines_patched_spec():
    shipped = json.loads(files("chat_image_api").joinpath("openapi.json").read_text("utf-8"))
    assert shipped == patched_spec()


def test_the_shipped_request_schema_is_checked_in_full():
    # Loading checks every keyword; this pins that the request is covered at all.
    operation = load_contract().operations["POST", "/v1/chat/completions"]
    assert operation.bearer
    assert operation.body_required
    assert operation.body_schema is not None
    assert operation.body_schema["required"] == ["model", "messages", "max_tokens"]


def _spec(schema: dict[str, object], **components: object) -> dict[str, object]:
    operation = {"requestBody": {"content": {"application/json": {"schema": schema}}}}
    return {"paths": {"/x": {"post": operation}}, "components": {"schemas": components}}


def test_a_keyword_the_validator_cannot_check_fails_at_load():
    spec = _spec({"type": "object", "properties": {"name": {"type": "string", "maxLength": 3}}})
    with pytest.raises(UnsupportedSchemaError, match="maxLength"):
        Contract.from_spec(spec)


def test_annotations_and_extensions_are_not_keywords_to_check():
    schema = {"type": "string", "description": "d", "example": "e", "x-apifox-orders": []}
    Contract.from_spec(_spec(schema))


def test_refs_nullable_and_closed_objects():
    spec = _spec(
        {"$ref": "#/components/schemas/Body"},
        Body={
            "type": "object",
            "additionalProperties": False,
            "properties": {"n": {"type": "integer", "nullable": True}},
        },
    )
    contract = Contract.from_spec(spec)
    schema = contract.operations["POST", "/x"].body_schema
    assert schema is not None
    assert validate({"n": None}, schema, spec) is None
    assert validate({"n": 1}, schema, spec) is None
    refusal = validate({"n": 1, "m": 2}, schema, spec)
    assert refusal is not None
    assert (refusal.param, refusal.code) == ("m", "unknown_parameter")
    refusal = validate({"n": True}, schema, spec)
    assert refusal is not None
    assert "expected an integer, but got a boolean" in refusal.message


def test_one_of_that_fits_twice_is_refused():
    spec = _spec({"oneOf": [{"type": "number"}, {"type": "integer"}]})
    schema = Contract.from_spec(spec).operations["POST", "/x"].body_schema
    assert schema is not None
    assert validate(1.5, schema, spec) is None
    refusal = validate(2, schema, spec)
    assert refusal is not None
    assert "more than one" in refusal.message
