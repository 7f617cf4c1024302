"""OpenAI's strict subset: the schema sent on the wire, strict wherever the type allows it.

Strict mode wants every object closed (`additionalProperties: false`) with every property
required (optional ones as a union with null, no `default`), `anyOf` instead of `oneOf`, no
`$schema`, and an object at the root. A schema that cannot be made so (free-form dicts,
keywords strict mode rejects) goes as it is with `strict: false`: our own transform must
never be why a gateway answers 400. `portable` is the last try before leaving a mode: the
schema without the keyword a gateway named.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = ["STRICT_FORMATS", "portable", "root_object", "to_strict"]

STRICT_FORMATS: Final = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
# Keywords strict mode refuses; their presence means the schema goes non-strict, as it is.
_NOT_STRICT: Final = frozenset(
    {
        "not",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
        "patternProperties",
        "propertyNames",
        "unevaluatedProperties",
        "unevaluatedItems",
        "minProperties",
        "maxProperties",
        "contains",
        "uniqueItems",
        "minLength",
        "maxLength",
        "prefixItems",
    }
)
# Annotations that only cost tokens (pydantic puts a title on every field).
_DROPPED: Final = frozenset({"$schema", "title", "discriminator", "examples", "$id"})
_MAX_DEPTH: Final = 10


class _NotStrict(Exception):
    pass


def root_object(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The schema with its root `$ref` (pydantic's and ours for recursive types) inlined."""
    result = dict(schema)
    ref = result.get("$ref")
    defs = result.get("$defs")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and isinstance(defs, Mapping):
        target = defs.get(ref.removeprefix("#/$defs/"))
        if isinstance(target, Mapping):
            del result["$ref"]
            result = {**target, **result}
    return result


def _nullable(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    options = schema.get("anyOf")
    if isinstance(options, list):
        return any(isinstance(option, Mapping) and _nullable(option) for option in options)
    return "enum" in schema and None in schema["enum"]


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    if _nullable(schema):
        return schema
    description = schema.pop("description", None)
    result: dict[str, Any] = {"anyOf": [schema, {"type": "null"}]}
    if description is not None:
        result["description"] = description
    return result


def _strict_node(node: Any, depth: int) -> Any:
    if not isinstance(node, Mapping):
        if isinstance(node, bool):
            raise _NotStrict  # `true`/`false` schemas
        return node
    if depth > _MAX_DEPTH:
        raise _NotStrict
    if _NOT_STRICT & node.keys():
        raise _NotStrict
    fmt = node.get("format")
    if fmt is not None and fmt not in STRICT_FORMATS:
        raise _NotStrict
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED or key == "default":
            continue
        if key == "oneOf":
            key = "anyOf"
        if key in ("properties", "$defs"):
            result[key] = {name: _strict_node(sub, depth + 1) for name, sub in value.items()}
        elif key in ("anyOf", "allOf"):
            result[key] = [_strict_node(sub, depth) for sub in value]
        elif key in ("items", "additionalProperties"):
            result[key] = _strict_node(value, depth + 1) if isinstance(value, Mapping) else value
        else:
            result[key] = value
    all_of = result.pop("allOf", None)
    if all_of is not None:
        if len(all_of) != 1:
            raise _NotStrict
        result = {**all_of[0], **result}
    if "$ref" in result and len(result) > 1:
        # A $ref with siblings (a described field): strict mode wants it alone.
        ref = result.pop("$ref")
        result = {"anyOf": [{"$ref": ref}], **result}
    if result.get("type") == "object" or "properties" in result:
        extra = result.get("additionalProperties", False)
        if extra is not False or "properties" not in result:
            raise _NotStrict  # a free-form mapping
        properties = result["properties"]
        required = set(node.get("required", ()))
        result["properties"] = {
            name: sub if name in required else _or_null(dict(sub))
            for name, sub in properties.items()
        }
        result["required"] = list(properties)
        result["additionalProperties"] = False
    if result.get("type") == "array" and "items" not in result:
        raise _NotStrict
    return result


def to_strict(schema: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """The schema to send and whether it may go with `strict: true`."""
    root = root_object(schema)
    try:
        strict = _strict_node(root, 0)
    except _NotStrict:
        loose = {key: value for key, value in root.items() if key != "$schema"}
        return loose, False
    if strict.get("type") != "object":
        return {key: value for key, value in root.items() if key != "$schema"}, False
    return strict, True


def _without(node: Any, keywords: frozenset[str]) -> Any:
    if isinstance(node, Mapping):
        kept: dict[str, Any] = {}
        for key, value in node.items():
            if key in keywords:
                continue
            if key == "const":
                kept["enum"] = [value]
                continue
            if key in ("properties", "$defs"):
                kept[key] = {name: _without(sub, keywords) for name, sub in value.items()}
            else:
                kept[key] = _without(value, keywords)
        return kept
    if isinstance(node, list):
        return [_without(value, keywords) for value in node]
    return node


# What a portable schema leaves out when the gateway did not say which keyword it refused:
# what grammar engines and Gemini's schema subset trip over most.
_UNPORTABLE: Final = frozenset(
    {"$schema", "additionalProperties", "format", "pattern", "title", "default", "examples"}
    | {"propertyNames", "patternProperties", "minLength", "maxLength", "uniqueItems"}
    | {"minProperties", "maxProperties", "discriminator", "$id"}
)


def portable(schema: Mapping[str, Any], keywords: Iterable[str] = ()) -> dict[str, Any]:
    """The schema without `keywords` (or without every keyword gateways are known to refuse,
    when none was named); `const` becomes a one-value `enum`. Sent with `strict: false`."""
    named = frozenset(keywords)
    dropped = named if named else _UNPORTABLE
    if named == {"additionalProperties"} or not named:
        dropped = dropped | {"additionalProperties"}
    result = _without(copy.deepcopy(dict(schema)), dropped)
    assert isinstance(result, dict)
    return result
