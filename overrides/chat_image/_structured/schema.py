"""JSON Schema for a Python type: dataclasses, attrs classes, TypedDicts and what they hold.

The schema is the natural one (required fields required, defaults kept); `strict` turns it
into OpenAI's strict form for the wire. Pydantic models are left to pydantic (`target`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import re
import types
import typing
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

from .fields import class_fields, record_kind

__all__ = ["UnsupportedTypeError", "build_schema", "clean_name", "type_name"]

_NAME_PATTERN: Final = re.compile(r"[^a-zA-Z0-9_-]+")
_MAX_NAME: Final = 64
_DATE_FORMATS: Final[Mapping[type, str]] = {
    dt.datetime: "date-time",
    dt.date: "date",
    dt.time: "time",
    uuid.UUID: "uuid",
}


class UnsupportedTypeError(TypeError):
    """A type with no JSON Schema here; the message names where it sits in `response_format`."""


def clean_name(name: str) -> str:
    """A schema name OpenAI accepts (`^[a-zA-Z0-9_-]{1,64}$`): `Page[Item]` -> `Page_Item`."""
    cleaned = _NAME_PATTERN.sub("_", name).strip("_") or "Response"
    return cleaned[:_MAX_NAME]


def type_name(tp: object) -> str:
    """A readable name for a type, generic arguments included (`list[Receipt]`)."""
    origin = typing.get_origin(tp)
    if origin is not None:
        args = ", ".join(type_name(arg) for arg in typing.get_args(tp))
        base = "Union" if origin in (typing.Union, types.UnionType) else type_name(origin)
        return f"{base}[{args}]"
    if isinstance(tp, type):
        return tp.__name__
    return repr(tp)


def _unwrap_annotated(tp: Any) -> tuple[Any, str | None]:
    """`Annotated[X, "a description"]` -> X and its description (the first string given)."""
    if typing.get_origin(tp) is typing.Annotated:
        base, *extras = typing.get_args(tp)
        description = next((extra for extra in extras if isinstance(extra, str)), None)
        return base, description
    return tp, None


class _Builder:
    def __init__(self) -> None:
        self.defs: dict[str, dict[str, Any]] = {}
        self.names: dict[Any, str] = {}

    def ref(self, tp: type, path: str) -> dict[str, Any]:
        name = self.names.get(tp)
        if name is None:
            name = clean_name(tp.__qualname__.replace(".", "_"))
            while name in self.defs:
                name = f"{name}_"
            self.names[tp] = name
            self.defs[name] = {}  # claimed first: a recursive type refers to itself
            self.defs[name] = self.record(tp, path) if record_kind(tp) else self.enum(tp)
        return {"$ref": f"#/$defs/{name}"}

    def record(self, tp: type, path: str) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        for field in class_fields(tp):
            hint, description = _unwrap_annotated(field.type)
            schema = self.node(hint, f"{path}.{field.name}")
            description = field.description or description
            if description:
                schema = (
                    {**schema, "description": description}
                    if "$ref" not in schema
                    else {"anyOf": [schema], "description": description}
                )
            properties[field.name] = schema
            if field.required:
                required.append(field.name)
        result: dict[str, Any] = {
            "type": "object",
            "title": tp.__name__,
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }
        doc = _own_doc(tp)
        if doc:
            result["description"] = doc
        return result

    def enum(self, tp: type[enum.Enum]) -> dict[str, Any]:
        values = [member.value for member in tp]
        result: dict[str, Any] = {"enum": values, "title": tp.__name__}
        kinds = {_json_type(value) for value in values}
        if len(kinds) == 1:
            result["type"] = kinds.pop()
        return result

    def node(self, tp: Any, path: str) -> dict[str, Any]:
        tp, description = _unwrap_annotated(tp)
        if description:
            return {**self.node(tp, path), "description": description}
        if tp is Any or tp is object:
            return {}
        if tp is None or tp is type(None):
            return {"type": "null"}
        if isinstance(tp, typing.TypeAliasType if hasattr(typing, "TypeAliasType") else ()):
            return self.node(tp.__value__, path)
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            return {"anyOf": [self.node(arg, path) for arg in args]}
        if origin is typing.Literal:
            kinds = {_json_type(value) for value in args}
            literal: dict[str, Any] = {"enum": list(args)}
            if len(kinds) == 1:
                literal["type"] = kinds.pop()
            return literal
        if origin in (list, set, frozenset, Sequence, typing.Sequence) or (
            origin is tuple and len(args) == 2 and args[1] is Ellipsis
        ):
            return {"type": "array", "items": self.node(args[0] if args else Any, f"{path}[]")}
        if origin is tuple:
            return {
                "type": "array",
                "prefixItems": [self.node(arg, f"{path}[]") for arg in args],
                "minItems": len(args),
                "maxItems": len(args),
            }
        if origin in (dict, Mapping, typing.Mapping):
            value = args[1] if len(args) == 2 else Any
            return {"type": "object", "additionalProperties": self.node(value, f"{path}{{}}")}
        if tp in (list, tuple, set, frozenset):
            return {"type": "array", "items": {}}
        if tp is dict:
            return {"type": "object", "additionalProperties": True}
        if isinstance(tp, type):
            return self.leaf(tp, path)
        raise UnsupportedTypeError(f"{path or 'response_format'}: {tp!r} has no JSON Schema here")

    def leaf(self, tp: type, path: str) -> dict[str, Any]:
        if issubclass(tp, bool):
            return {"type": "boolean"}
        if issubclass(tp, enum.Enum):
            return self.ref(tp, path)
        if issubclass(tp, int):
            return {"type": "integer"}
        if issubclass(tp, float | decimal.Decimal):
            return {"type": "number"}
        if issubclass(tp, str):
            return {"type": "string"}
        for kind, fmt in _DATE_FORMATS.items():
            if issubclass(tp, kind):
                return {"type": "string", "format": fmt}
        if record_kind(tp):
            return self.ref(tp, path)
        where = path or "response_format"
        raise UnsupportedTypeError(
            f"{where}: {tp.__name__} has no JSON Schema here; use a dataclass, attrs class, "
            "TypedDict, pydantic model, or a JSON Schema dict"
        )


def _own_doc(tp: type) -> str | None:
    doc = tp.__doc__
    if not doc or doc.startswith(f"{tp.__name__}("):  # dataclasses' generated signature
        return None
    if any(doc is base.__doc__ for base in tp.__mro__[1:]):
        return None
    return " ".join(doc.split())


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if value is None:
        return "null"
    return "string"


def build_schema(tp: Any) -> dict[str, Any]:
    """The JSON Schema of `tp`, records in `$defs` unless used once and not recursive."""
    builder = _Builder()
    root = builder.node(tp, "")
    return _inline(root, builder.defs)


def _refs(node: Any, found: list[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            found.append(ref.removeprefix("#/$defs/"))
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _recursive(defs: Mapping[str, Any]) -> set[str]:
    edges = {}
    for name, schema in defs.items():
        found: list[str] = []
        _refs(schema, found)
        edges[name] = set(found)
    recursive = set()
    for start in defs:
        seen: set[str] = set()
        todo = list(edges[start])
        while todo:
            name = todo.pop()
            if name == start:
                recursive.add(start)
                break
            if name not in seen:
                seen.add(name)
                todo.extend(edges.get(name, ()))
    return recursive


def _inline(root: dict[str, Any], defs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    found: list[str] = []
    _refs(root, found)
    for schema in defs.values():
        _refs(schema, found)
    counts = {name: found.count(name) for name in defs}
    keep = _recursive(defs) | {name for name, count in counts.items() if count > 1}

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref.removeprefix("#/$defs/")
                if name not in keep:
                    return walk(defs[name])
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return node

    result: dict[str, Any] = walk(root)
    if keep:
        kept = {name: walk(defs[name]) for name in defs if name in keep}
        result = {**result, "$defs": kept}
    return result
