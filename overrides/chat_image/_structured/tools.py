"""Tool definitions for `tools=`: from a dict, a function's signature, a dataclass, a
TypedDict or a pydantic model (the caller's own dependency, never ours).

`function_tool(x)` returns the dict OpenAI takes, `{"type": "function", "function": {"name",
"description", "parameters"[, "strict"]}}`. The parameters' JSON Schema is built here from
type hints, for the few types a tool's arguments use (scalars, dates, enums and `Literal`,
lists, `dict[str, X]`, unions, nested dataclasses and TypedDicts, recursion through `$defs`);
a pydantic model's comes from its own `model_json_schema()`. With `strict=True` the schema
is put in OpenAI's strict form (every property required, optional ones nullable, no extra
keys) or refused with the reason: a strict tool whose schema the server rejects is a 400 the
caller cannot fix from the call.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import inspect
import re
import types
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import (
    Annotated,
    Any,
    Final,
    Literal,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

from .._exceptions import ChatImageError

__all__ = ["ToolDefinitionError", "function_tool", "tool_definition"]

# What OpenAI takes as a function name.
_NAME: Final = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_SCALARS: Final[Mapping[object, Mapping[str, Any]]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    None: {"type": "null"},
    # Money as the exact text the model writes, never a float on the way.
    decimal.Decimal: {"type": "string", "format": "decimal"},
    datetime.datetime: {"type": "string", "format": "date-time"},
    datetime.date: {"type": "string", "format": "date"},
    datetime.time: {"type": "string", "format": "time"},
    uuid.UUID: {"type": "string", "format": "uuid"},
}
_ARRAYS: Final = frozenset({list, tuple, set, frozenset, Sequence})


class ToolDefinitionError(ChatImageError, TypeError):
    """A tool cannot be defined from what was given; the message names the part and why."""


def function_tool(
    source: object,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool | None = None,
) -> dict[str, Any]:
    """OpenAI's tool dict for a function, dataclass, TypedDict or pydantic model.

    The name defaults to the function's or class's name, the description to the first
    paragraph of its docstring. `strict=True` sends `"strict": true` with the schema in
    OpenAI's strict form; `None` (the default) and `False` send the schema as built, without
    `strict`. Raises `ToolDefinitionError` for what cannot become a tool (a `*args`
    parameter, a type with no JSON form, a name OpenAI would refuse, ...).
    """
    if isinstance(source, Mapping):
        raise ToolDefinitionError(
            "function_tool() builds a tool from a function or a class; a tool dict is "
            "given to tools= as it is"
        )
    if is_pydantic_model(source):
        parameters = _pydantic_schema(source)
        default_name = getattr(source, "__name__", "")
        doc = parameters.pop("description", None) or _docstring(source)
        parameters.pop("title", None)
    elif isinstance(source, type) and (dataclasses.is_dataclass(source) or is_typeddict(source)):
        builder = _SchemaBuilder(root=source)
        parameters = builder.object_schema(source)
        builder.attach_defs(parameters)
        default_name = source.__name__
        doc = _docstring(source)
    elif callable(source) and not isinstance(source, type):
        parameters = _signature_schema(source)
        default_name = getattr(source, "__name__", "")
        doc = _docstring(source)
    else:
        raise ToolDefinitionError(
            "function_tool() takes a function, a dataclass, a TypedDict or a pydantic model, "
            f"got {source!r}"
        )
    tool_name = default_name if name is None else name
    if not isinstance(tool_name, str) or not _NAME.match(tool_name):
        raise ToolDefinitionError(
            f"name: {tool_name!r} is not a valid tool name (1 to 64 letters, digits, _ or -); "
            "give one with name="
        )
    function: dict[str, Any] = {"name": tool_name}
    text = doc if description is None else description
    if text:
        function["description"] = text
    if strict:
        parameters = strict_schema(parameters)
    function["parameters"] = parameters
    if strict is not None:
        function["strict"] = bool(strict)
    return {"type": "function", "function": function}


def tool_definition(tool: object) -> dict[str, Any]:
    """A `tools=` item as a dict: a tool dict as it is (a copy), anything else `function_tool`."""
    if isinstance(tool, Mapping):
        return dict(tool)
    return function_tool(tool)


def is_pydantic_model(source: object) -> bool:
    """Whether `source` is a pydantic v2 model class, without importing pydantic."""
    return isinstance(source, type) and callable(getattr(source, "model_json_schema", None))


def _pydantic_schema(model: Any) -> dict[str, Any]:
    schema: dict[str, Any] = model.model_json_schema()
    return _inline_root(schema)


def _inline_root(schema: dict[str, Any]) -> dict[str, Any]:
    """A root that is only a `$ref` to one of its `$defs` (pydantic's form for a recursive
    model) as that definition itself, its self-references as `#`: tool parameters must be
    an object at the root."""
    ref = schema.get("$ref")
    prefix = "#/$defs/"
    if not isinstance(ref, str) or not ref.startswith(prefix) or "type" in schema:
        return schema
    definitions = dict(schema.get("$defs", {}))
    root = definitions.pop(ref[len(prefix) :], None)
    if not isinstance(root, dict):
        return schema
    inlined: dict[str, Any] = _replace_ref(root, ref)
    if definitions:
        inlined["$defs"] = _replace_ref(definitions, ref)
    return inlined


def _replace_ref(value: Any, ref: str) -> Any:
    if isinstance(value, dict):
        if value.get("$ref") == ref:
            return {**value, "$ref": "#"}
        return {key: _replace_ref(item, ref) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_ref(item, ref) for item in value]
    return value


def _docstring(source: object) -> str | None:
    # The class's own docstring only: inspect.getdoc would give a base class's (pydantic's
    # BaseModel documentation, for a model without one).
    own = vars(source).get("__doc__") if isinstance(source, type) else inspect.getdoc(source)
    if not own:
        return None
    doc = inspect.cleandoc(own)
    # A dataclass without a docstring gets its signature as one: not a description.
    if (
        dataclasses.is_dataclass(source)
        and isinstance(source, type)
        and doc.startswith(f"{source.__name__}(")
    ):
        return None
    first = doc.split("\n\n", 1)[0].strip()
    return " ".join(first.split()) or None


def _signature_schema(function: Callable[..., Any]) -> dict[str, Any]:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError) as exc:
        raise ToolDefinitionError(f"cannot read the signature of {function!r}: {exc}") from None
    try:
        hints = get_type_hints(function, include_extras=True)
    except Exception as exc:  # a forward reference the function's module cannot resolve
        raise ToolDefinitionError(f"cannot read the type hints of {function!r}: {exc}") from None
    builder = _SchemaBuilder(root=None)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise ToolDefinitionError(
                f"parameter {parameter.name!r}: *args and **kwargs cannot be tool arguments"
            )
        if parameter.kind is parameter.POSITIONAL_ONLY:
            raise ToolDefinitionError(
                f"parameter {parameter.name!r}: positional-only; tool arguments come by name"
            )
        hint = hints.get(parameter.name, Any)
        properties[parameter.name] = builder.schema(hint, parameter.name)
        if parameter.default is parameter.empty:
            required.append(parameter.name)
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    builder.attach_defs(schema)
    return schema


class _SchemaBuilder:
    """JSON Schema for type hints; named classes go to `$defs`, the root class is `#`."""

    def __init__(self, root: type | None) -> None:
        self.root = root
        self.defs: dict[str, Any] = {}
        self._names: dict[type, str] = {}

    def attach_defs(self, schema: dict[str, Any]) -> None:
        if self.defs:
            schema["$defs"] = self.defs

    def schema(self, hint: object, where: str) -> dict[str, Any]:
        origin = get_origin(hint)
        if origin is Annotated:
            inner, *metadata = get_args(hint)
            schema = self.schema(inner, where)
            texts = [item for item in metadata if isinstance(item, str)]
            return {**schema, "description": texts[0]} if texts else schema
        if hint is Any or hint is object:
            return {}
        if hint in _SCALARS:
            return dict(_SCALARS[hint])
        if origin is Literal:
            return _literal_schema(get_args(hint), where)
        if origin is Union or origin is types.UnionType:
            return {"anyOf": [self.schema(arg, where) for arg in get_args(hint)]}
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return _literal_schema(tuple(member.value for member in hint), where)
        if hint in _ARRAYS or origin in _ARRAYS:
            return self._array(hint, origin, where)
        if hint is dict or origin in (dict, Mapping):
            args = get_args(hint)
            if args and args[0] is not str:
                raise ToolDefinitionError(f"{where}: JSON object keys are strings, not {args[0]!r}")
            values = self.schema(args[1], where) if args else {}
            return {"type": "object", "additionalProperties": values}
        if isinstance(hint, type) and (dataclasses.is_dataclass(hint) or is_typeddict(hint)):
            return self._named(hint, where)
        if is_pydantic_model(hint):
            return self._pydantic(hint)
        raise ToolDefinitionError(f"{where}: {hint!r} has no JSON Schema form here")

    def _array(self, hint: object, origin: object, where: str) -> dict[str, Any]:
        args = get_args(hint)
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            raise ToolDefinitionError(
                f"{where}: a fixed-length tuple has no portable JSON Schema; use list[X]"
            )
        items = self.schema(args[0], f"{where}[]") if args else {}
        return {"type": "array", "items": items}

    def _named(self, cls: type, where: str) -> dict[str, Any]:
        if cls is self.root:
            return {"$ref": "#"}
        name = self._names.get(cls)
        if name is None:
            name = cls.__name__
            while name in self.defs:
                name += "_"
            self._names[cls] = name
            self.defs[name] = {}  # taken before the fields, so that recursion finds it
            self.defs[name] = self.object_schema(cls)
        return {"$ref": f"#/$defs/{name}"}

    def _pydantic(self, model: Any) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template="#/$defs/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            self.defs.setdefault(name, definition)
        self.defs.setdefault(model.__name__, schema)
        return {"$ref": f"#/$defs/{model.__name__}"}

    def object_schema(self, cls: type) -> dict[str, Any]:
        """The object schema of a dataclass's fields or a TypedDict's keys."""
        try:
            hints = get_type_hints(cls, include_extras=True)
        except Exception as exc:
            raise ToolDefinitionError(
                f"cannot read the type hints of {cls.__name__}: {exc}"
            ) from None
        properties: dict[str, Any] = {}
        required: list[str] = []
        if is_typeddict(cls):
            for key, hint in hints.items():
                properties[key] = self.schema(_without_required(hint), f"{cls.__name__}.{key}")
                if _required_key(cls, key, hint):
                    required.append(key)
        else:
            for field in dataclasses.fields(cls):
                if not field.init:
                    continue
                properties[field.name] = self.schema(
                    hints.get(field.name, Any), f"{cls.__name__}.{field.name}"
                )
                if (
                    field.default is dataclasses.MISSING
                    and field.default_factory is dataclasses.MISSING
                ):
                    required.append(field.name)
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        doc = _docstring(cls)
        if doc and cls is not self.root:
            schema["description"] = doc
        return schema


def _required_key(cls: type, key: str, hint: object) -> bool:
    # Read from the hint too: on Python 3.11, `__required_keys__` misses `NotRequired` when
    # the annotations are strings (`from __future__ import annotations`).
    from typing import NotRequired, Required

    origin = get_origin(hint)
    if origin is Required:
        return True
    if origin is NotRequired:
        return False
    return key in getattr(cls, "__required_keys__", ())


def _without_required(hint: object) -> object:
    # TypedDict's `Required[X]` / `NotRequired[X]` say which keys are required, not the type.
    from typing import NotRequired, Required

    while get_origin(hint) in (Required, NotRequired):
        hint = get_args(hint)[0]
    return hint


def _literal_schema(values: tuple[object, ...], where: str) -> dict[str, Any]:
    kinds = set()
    for value in values:
        if value is None:
            kinds.add("null")
        elif isinstance(value, bool):
            kinds.add("boolean")
        elif isinstance(value, int):
            kinds.add("integer")
        elif isinstance(value, float):
            kinds.add("number")
        elif isinstance(value, str):
            kinds.add("string")
        else:
            raise ToolDefinitionError(f"{where}: {value!r} is not a JSON value")
    schema: dict[str, Any] = {"enum": list(values)}
    if len(kinds) == 1:
        schema = {"type": kinds.pop(), **schema}
    return schema


def strict_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """`schema` in OpenAI's strict form, or `ToolDefinitionError` saying what prevents it.

    Every object gets `additionalProperties: false` and all its properties required; a
    property that was optional becomes nullable (`anyOf` with null) and loses its default.
    """
    return _strict(schema, "parameters", is_root=True)


# Keywords strict mode refuses: their presence means the tool cannot be strict.
_NOT_STRICT: Final = frozenset(
    {"allOf", "not", "if", "then", "else", "dependentRequired", "dependentSchemas"}
    | {"patternProperties", "propertyNames", "unevaluatedProperties", "unevaluatedItems"}
    | {"minProperties", "maxProperties", "contains", "uniqueItems", "minLength", "maxLength"}
)


def _strict(schema: Mapping[str, Any], where: str, *, is_root: bool = False) -> dict[str, Any]:
    if not isinstance(schema, Mapping):
        raise ToolDefinitionError(f"{where}: a schema must be an object, got {schema!r}")
    refused = sorted(_NOT_STRICT & schema.keys())
    if refused:
        raise ToolDefinitionError(
            f"{where}: strict mode does not allow {', '.join(refused)}; use strict=None"
        )
    out = {key: value for key, value in schema.items() if key not in ("default", "title")}
    if not out or out.keys() <= {"description"}:
        raise ToolDefinitionError(f"{where}: an untyped value (Any) cannot be strict")
    if "$defs" in out:
        out["$defs"] = {
            name: _strict(definition, f"{where}.$defs.{name}")
            for name, definition in out["$defs"].items()
        }
    if "oneOf" in out:  # strict mode knows anyOf only; for these schemas they mean the same
        out["anyOf"] = out.pop("oneOf")
    if "anyOf" in out:
        if is_root:
            raise ToolDefinitionError(f"{where}: the root of a strict schema must be an object")
        out["anyOf"] = [_strict(branch, f"{where}|") for branch in out["anyOf"]]
    if "items" in out:
        out["items"] = _strict(out["items"], f"{where}[]")
    if out.get("type") == "object" or "properties" in out:
        extra = out.get("additionalProperties")
        if extra not in (None, False):
            raise ToolDefinitionError(
                f"{where}: a free-form object (dict[str, X]) cannot be strict; use strict=None"
            )
        properties = out.get("properties", {})
        required = set(out.get("required", ()))
        strict_properties = {}
        for key, value in properties.items():
            converted = _strict(value, f"{where}.{key}")
            if key not in required:
                converted = _nullable(converted)
            strict_properties[key] = converted
        out["properties"] = strict_properties
        out["required"] = list(properties)
        out["additionalProperties"] = False
    return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    branches = schema.get("anyOf")
    if isinstance(branches, list):
        if any(branch.get("type") == "null" for branch in branches):
            return schema
        return {**schema, "anyOf": [*branches, {"type": "null"}]}
    if schema.get("type") == "null":
        return schema
    description = schema.get("description")
    inner = {key: value for key, value in schema.items() if key != "description"}
    nullable: dict[str, Any] = {"anyOf": [inner, {"type": "null"}]}
    if description is not None:
        nullable["description"] = description
    return nullable
