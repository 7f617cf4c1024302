"""The shape of an OpenAPI 3 document, checked before it is compared.

The walk reads paths, operations, parameters, bodies, responses and schemas as mappings and
lists. A document that parses as YAML but holds, say, `required: 3` or a list where
`properties` belongs is not something to compare: it is bad input (exit 3), said with a
JSON pointer to the first part that is wrong, never a traceback from the walk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from scripts.spec_diff._model import BadInput

METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_SCHEMA_LISTS: Final = ("allOf", "anyOf", "oneOf")


def check_shape(data: Mapping[str, Any], label: str) -> None:
    """BadInput naming the first part of `data` that does not have OpenAPI 3's shape."""
    try:
        _Shape(label).document(data)
    except RecursionError:
        raise BadInput(f"{label}: nested too deeply to compare") from None


def _pointer(path: tuple[str, ...]) -> str:
    return "/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in path)


def _kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"[:80]


class _Shape:
    def __init__(self, label: str) -> None:
        self.label = label
        # A YAML anchor can make a schema contain itself: each node is checked once.
        self.seen: set[int] = set()

    def fail(self, path: tuple[str, ...], expected: str, value: object) -> BadInput:
        return BadInput(
            f"{self.label}: malformed at {_pointer(path)}: expected {expected}, got {_kind(value)}"
        )

    def mapping(self, value: object, path: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, "a mapping", value)
        return value

    def items(self, value: object, path: tuple[str, ...]) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(path, "a list", value)
        return value

    def document(self, data: Mapping[str, Any]) -> None:
        for name, item in self.mapping(data.get("paths", {}), ("paths",)).items():
            self.path_item(item, ("paths", str(name)))
        components = self.mapping(data.get("components", {}), ("components",))
        for kind, members in components.items():
            here = ("components", str(kind))
            for name, member in self.mapping(members, here).items():
                where = (*here, str(name))
                if kind == "schemas":
                    self.schema(member, where)
                elif kind == "parameters":
                    self.parameter(member, where)
                elif kind == "requestBodies":
                    self.body(member, where)
                elif kind == "responses":
                    self.response(member, where)
                else:
                    self.mapping(member, where)

    def path_item(self, value: object, path: tuple[str, ...]) -> None:
        item = self.mapping(value, path)
        self.parameters(item.get("parameters"), (*path, "parameters"))
        for method in METHODS:
            if method in item:
                self.operation(item[method], (*path, method))

    def operation(self, value: object, path: tuple[str, ...]) -> None:
        operation = self.mapping(value, path)
        self.parameters(operation.get("parameters"), (*path, "parameters"))
        if "requestBody" in operation:
            self.body(operation["requestBody"], (*path, "requestBody"))
        if "responses" in operation:
            responses = self.mapping(operation["responses"], (*path, "responses"))
            for code, response in responses.items():
                self.response(response, (*path, "responses", str(code)))

    def parameters(self, value: object, path: tuple[str, ...]) -> None:
        if value is None:
            return
        for index, parameter in enumerate(self.items(value, path)):
            self.parameter(parameter, (*path, str(index)))

    def parameter(self, value: object, path: tuple[str, ...]) -> None:
        parameter = self.mapping(value, path)
        if "schema" in parameter:
            self.schema(parameter["schema"], (*path, "schema"))

    def body(self, value: object, path: tuple[str, ...]) -> None:
        body = self.mapping(value, path)
        self.content(body.get("content"), (*path, "content"))

    def response(self, value: object, path: tuple[str, ...]) -> None:
        response = self.mapping(value, path)
        self.content(response.get("content"), (*path, "content"))
        if "headers" in response:
            for name, header in self.mapping(response["headers"], (*path, "headers")).items():
                self.parameter(header, (*path, "headers", str(name)))

    def content(self, value: object, path: tuple[str, ...]) -> None:
        if value is None:
            return
        for media, entry in self.mapping(value, path).items():
            here = (*path, str(media))
            described = self.mapping(entry, here)
            if "schema" in described:
                self.schema(described["schema"], (*here, "schema"))

    def schema(self, value: object, path: tuple[str, ...]) -> None:
        if isinstance(value, bool):  # OpenAPI 3.1's `true` / `false` schemas
            return
        schema = self.mapping(value, path)
        if id(schema) in self.seen:
            return
        self.seen.add(id(schema))
        if "required" in schema:
            required = self.items(schema["required"], (*path, "required"))
            for index, name in enumerate(required):
                if not isinstance(name, str):
                    raise self.fail((*path, "required", str(index)), "a property name", name)
        if "enum" in schema:
            self.items(schema["enum"], (*path, "enum"))
        if "type" in schema and not isinstance(schema["type"], str | list):
            raise self.fail((*path, "type"), "a type name", schema["type"])
        if "properties" in schema:
            properties = self.mapping(schema["properties"], (*path, "properties"))
            for name, member in properties.items():
                self.schema(member, (*path, "properties", str(name)))
        for keyword in ("items", "not"):
            if keyword in schema:
                self.schema(schema[keyword], (*path, keyword))
        extra = schema.get("additionalProperties")
        if extra is not None:
            self.schema(extra, (*path, "additionalProperties"))
        for keyword in _SCHEMA_LISTS:
            if keyword in schema:
                for index, member in enumerate(self.items(schema[keyword], (*path, keyword))):
                    self.schema(member, (*path, keyword, str(index)))
