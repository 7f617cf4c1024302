"""Tool definitions built from functions, dataclasses, TypedDicts and pydantic models."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
from typing import Annotated, Any, Literal, NotRequired, TypedDict

import pydantic
import pytest

from chat_image._structured.tools import ToolDefinitionError, function_tool, strict_schema


class Unit(enum.Enum):
    CELSIUS = "c"
    FAHRENHEIT = "f"


@dataclasses.dataclass
class Line:
    """A line of a receipt."""

    name: str
    price: decimal.Decimal
    quantity: int = 1
    tags: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Tree:
    value: int
    children: list[Tree]


class Address(TypedDict):
    street: str
    zip_code: NotRequired[str]


def get_weather(
    city: Annotated[str, "The city, e.g. Paris"],
    unit: Unit = Unit.CELSIUS,
    day: datetime.date | None = None,
) -> str:
    """Get the weather for a city.

    This second paragraph is for people, not for the model.
    """
    return f"{city} {unit} {day}"


def test_a_function_becomes_the_openai_tool_dict() -> None:
    assert function_tool(get_weather) == {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "The city, e.g. Paris"},
                    "unit": {"type": "string", "enum": ["c", "f"]},
                    "day": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
                },
                "required": ["city"],
            },
        },
    }


def test_name_and_description_can_be_given() -> None:
    tool = function_tool(get_weather, name="weather-now", description="Now.")
    assert tool["function"]["name"] == "weather-now"
    assert tool["function"]["description"] == "Now."


def test_a_dataclass_with_nested_and_recursive_types() -> None:
    @dataclasses.dataclass
    class Receipt:
        lines: list[Line]
        tree: Tree | None = None
        meta: dict[str, int] = dataclasses.field(default_factory=dict)

    parameters = function_tool(Receipt)["function"]["parameters"]
    assert parameters["required"] == ["lines"]
    assert parameters["properties"]["lines"] == {"type": "array", "items": {"$ref": "#/$defs/Line"}}
    assert parameters["properties"]["meta"] == {
        "type": "object",
        "additionalProperties": {"type": "integer"},
    }
    line = parameters["$defs"]["Line"]
    assert line["description"] == "A line of a receipt."
    assert line["properties"]["price"] == {"type": "string", "format": "decimal"}
    assert line["required"] == ["name", "price"]
    # Recursion goes through $defs, never an endless schema.
    tree = parameters["$defs"]["Tree"]
    assert tree["properties"]["children"]["items"] == {"$ref": "#/$defs/Tree"}
    # A dataclass with no docstring has no description (not its generated signature).
    assert "description" not in function_tool(Receipt)["function"]


def test_a_recursive_root_refers_to_itself() -> None:
    parameters = function_tool(Tree)["function"]["parameters"]
    assert parameters["properties"]["children"]["items"] == {"$ref": "#"}
    assert "$defs" not in parameters


def test_a_typeddict_keeps_its_required_keys() -> None:
    parameters = function_tool(Address)["function"]["parameters"]
    assert parameters == {
        "type": "object",
        "properties": {"street": {"type": "string"}, "zip_code": {"type": "string"}},
        "required": ["street"],
    }


def test_a_pydantic_model_uses_its_own_schema() -> None:
    class Invoice(pydantic.BaseModel):
        """An invoice."""

        number: str
        total: float = pydantic.Field(description="with tax")
        note: str | None = None

    tool = function_tool(Invoice)
    assert tool["function"]["name"] == "Invoice"
    assert tool["function"]["description"] == "An invoice."
    parameters = tool["function"]["parameters"]
    assert parameters == {
        key: value
        for key, value in Invoice.model_json_schema().items()
        if key not in ("title", "description")
    }


class Point(pydantic.BaseModel):
    x: int
    y: int


def test_a_pydantic_model_as_a_parameter_type() -> None:
    def move(to: Point) -> None:
        """Move."""

    parameters = function_tool(move)["function"]["parameters"]
    assert parameters["properties"]["to"] == {"$ref": "#/$defs/Point"}
    assert parameters["$defs"]["Point"]["properties"]["x"]["type"] == "integer"


def test_strict_puts_the_schema_in_openai_strict_form() -> None:
    tool = function_tool(get_weather, strict=True)
    function = tool["function"]
    assert function["strict"] is True
    parameters = function["parameters"]
    assert parameters["additionalProperties"] is False
    assert parameters["required"] == ["city", "unit", "day"]
    # What was optional is now nullable: the model says null instead of leaving it out.
    assert parameters["properties"]["unit"] == {
        "anyOf": [{"type": "string", "enum": ["c", "f"]}, {"type": "null"}]
    }
    assert parameters["properties"]["day"] == {
        "anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]
    }


def test_strict_applies_to_definitions_and_pydantic_defaults() -> None:
    class Order(pydantic.BaseModel):
        lines: list[Line]
        note: str | None = None

    parameters = function_tool(Order, strict=True)["function"]["parameters"]
    assert parameters["required"] == ["lines", "note"]
    assert "default" not in parameters["properties"]["note"]
    line = parameters["$defs"]["Line"]
    assert line["additionalProperties"] is False
    assert line["required"] == ["name", "price", "quantity", "tags"]


def test_strict_false_is_sent_and_none_is_not() -> None:
    assert function_tool(get_weather, strict=False)["function"]["strict"] is False
    assert "strict" not in function_tool(get_weather)["function"]


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        (
            {"type": "object", "properties": {"m": {"type": "object", "additionalProperties": {}}}},
            "parameters.m: a free-form object",
        ),
        ({"type": "object", "properties": {"a": {}}}, "parameters.a: an untyped value"),
        (
            {"type": "object", "properties": {"s": {"type": "string", "maxLength": 3}}},
            "parameters.s: strict mode does not allow maxLength",
        ),
        ({"anyOf": [{"type": "object"}, {"type": "string"}]}, "root of a strict schema"),
    ],
)
def test_what_cannot_be_strict_is_refused_with_the_reason(
    schema: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ToolDefinitionError, match=problem):
        strict_schema(schema)


def test_strict_schema_leaves_the_given_schema_alone() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer", "default": 1}}}
    strict_schema(schema)
    assert schema == {"type": "object", "properties": {"a": {"type": "integer", "default": 1}}}


def _star(*values: int) -> None: ...
def _keywords(**values: int) -> None: ...
def _positional(value: int, /) -> None: ...
def _tuple(pair: tuple[int, str]) -> None: ...
def _keys(table: dict[int, str]) -> None: ...
def _unknown(value: complex) -> None: ...


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        (_star, "parameter 'values': \\*args and \\*\\*kwargs"),
        (_keywords, "parameter 'values': \\*args and \\*\\*kwargs"),
        (_positional, "parameter 'value': positional-only"),
        (_tuple, "pair: a fixed-length tuple"),
        (_keys, "table: JSON object keys are strings"),
        (_unknown, "value: <class 'complex'> has no JSON Schema form"),
        (42, "takes a function, a dataclass"),
        ({"type": "function"}, "a tool dict is given to tools= as it is"),
        (lambda x: x, "'<lambda>' is not a valid tool name"),
    ],
)
def test_what_cannot_be_a_tool_is_refused(source: object, problem: str) -> None:
    with pytest.raises(ToolDefinitionError, match=problem):
        function_tool(source)


def test_a_bad_name_is_refused() -> None:
    with pytest.raises(ToolDefinitionError, match="name: 'get weather'"):
        function_tool(get_weather, name="get weather")


def test_literal_of_mixed_types_has_no_single_type() -> None:
    def pick(choice: Literal[1, "one"], flag: Literal[True]) -> None:
        """Pick."""

    properties = function_tool(pick)["function"]["parameters"]["properties"]
    assert properties["choice"] == {"enum": [1, "one"]}
    assert properties["flag"] == {"type": "boolean", "enum": [True]}


def test_the_error_is_a_chat_image_error_and_pickles() -> None:
    import pickle

    import chat_image

    with pytest.raises(chat_image.ToolDefinitionError) as caught:
        chat_image.function_tool(_star)
    assert isinstance(caught.value, chat_image.ChatImageError)
    assert isinstance(caught.value, TypeError)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert type(copy) is chat_image.ToolDefinitionError
    assert str(copy) == str(caught.value)


class Branch(pydantic.BaseModel):
    value: int
    children: list[Branch] = []


def test_a_recursive_pydantic_model_is_an_object_at_the_root() -> None:
    function = function_tool(Branch)["function"]
    # No description: pydantic's own BaseModel docstring is not the model's.
    assert "description" not in function
    parameters = function["parameters"]
    assert parameters["type"] == "object"
    assert parameters["properties"]["children"]["items"] == {"$ref": "#"}
    assert "$defs" not in parameters
    strict = function_tool(Branch, strict=True)["function"]["parameters"]
    assert strict["required"] == ["value", "children"]
    assert strict["additionalProperties"] is False


def test_an_undocumented_subclass_does_not_borrow_its_base_docstring() -> None:
    @dataclasses.dataclass
    class Base:
        """The base."""

        a: int

    @dataclasses.dataclass
    class Child(Base):
        b: int = 0

    assert "description" not in function_tool(Child)["function"]
    assert function_tool(Base)["function"]["description"] == "The base."
