"""The gateway's contract: routes, bearer auth and the request schema, from the shipped spec.

The spec is `chat_image_api/openapi.json`, openapi.yaml with our corrections, written by the
pipeline. Its request schema uses a small part of JSON Schema (type, properties, required,
items, oneOf, enum, and possibly nullable, additionalProperties and local $ref), so a small
validator here checks it instead of a dependency: the base install stays httpx and attrs. A
keyword outside that part fails loudly when the spec is loaded, never silently passes.
"""

from __future__ import annotations

import functools
import hmac
import importlib.resources
import json
import math
from collections.abc import Mapping
from typing import Any, Final

import attrs

__all__ = ["Contract", "Refusal", "UnsupportedSchemaError", "load_contract", "validate"]

_SPEC_PACKAGE: Final = "chat_image_api"
_SPEC_FILE: Final = "openapi.json"
_METHODS: Final = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
# What the validator checks; everything else it knows is documentation.
_CHECKED: Final = frozenset(
    {"type", "properties", "required", "items", "oneOf", "enum", "additionalProperties"}
    | {"nullable", "$ref"}
)
_ANNOTATIONS: Final = frozenset(
    {"description", "title", "example", "examples", "default", "deprecated", "format"}
    | {"readOnly", "writeOnly", "externalDocs"}
)
_JSON_NAMES: Final = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


class UnsupportedSchemaError(Exception):
    """The spec uses a JSON Schema keyword the validator does not check."""


@attrs.frozen
class Refusal:
    """Why the gateway refuses a request: an HTTP status and an OpenAI-style error."""

    status: int
    message: str
    type: str = "invalid_request_error"
    param: str | None = None
    code: str | None = None

    def body(self) -> dict[str, Any]:
        """The OpenAI error body: `{"error": {"message", "type", "param", "code"}}`."""
        error = {"message": self.message, "type": self.type, "param": self.param}
        return {"error": {**error, "code": self.code}}


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _is_type(value: object, name: str) -> bool:
    actual = _json_type(value)
    if name == "number":
        return actual in ("integer", "number")
    if name == "integer" and actual == "number":
        # JSON Schema counts 1.0 as an integer; JSON itself does not tell them apart.
        return isinstance(value, float) and math.isfinite(value) and value.is_integer()
    return actual == name


def _join(path: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name


def _quoted_list(values: list[Any]) -> str:
    shown = [f"'{value}'" if isinstance(value, str) else json.dumps(value) for value in values]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])}, and {shown[-1]}"


def _wrong_type(path: str, expected: str, value: object) -> Refusal:
    got = _JSON_NAMES[_json_type(value)]
    where = f"'{path}'" if path else "the request body"
    return Refusal(
        400,
        f"Invalid type for {where}: expected {expected}, but got {got} instead.",
        param=path or None,
        code="invalid_type",
    )


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise UnsupportedSchemaError(f"only local $refs are supported, not {ref!r}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        schema = target
    return schema


def validate(
    value: object, schema: Mapping[str, Any], root: Mapping[str, Any], path: str = ""
) -> Refusal | None:
    """The first way `value` breaks `schema`, as the gateway would answer it; None if it fits."""
    schema = _resolve(schema, root)
    if value is None and schema.get("nullable") is True:
        return None
    if "oneOf" in schema:
        refusal = _one_of(value, schema["oneOf"], root, path)
        if refusal is not None:
            return refusal
    expected = schema.get("type")
    if expected is not None and not _is_type(value, expected):
        return _wrong_type(path, _JSON_NAMES[expected], value)
    if "enum" in schema and value not in schema["enum"]:
        return Refusal(
            400,
            f"Invalid value: {_quoted_list([value])}. Supported values are: "
            f"{_quoted_list(schema['enum'])}.",
            param=path or None,
            code="invalid_value",
        )
    if isinstance(value, dict):
        return _check_object(value, schema, root, path)
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            refusal = validate(item, schema["items"], root, _join(path, index))
            if refusal is not None:
                return refusal
    return None


def _check_object(
    value: dict[str, Any], schema: Mapping[str, Any], root: Mapping[str, Any], path: str
) -> Refusal | None:
    for name in schema.get("required", ()):
        if name not in value:
            where = _join(path, name)
            return Refusal(
                400,
                f"Missing required parameter: '{where}'.",
                param=where,
                code="missing_required_parameter",
            )
    properties: Mapping[str, Any] = schema.get("properties", {})
    additional = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            refusal = validate(item, properties[name], root, _join(path, name))
        elif additional is False:
            where = _join(path, name)
            refusal = Refusal(
                400,
                f"Unrecognized request argument supplied: {where}",
                param=where,
                code="unknown_parameter",
            )
        elif isinstance(additional, Mapping):
            refusal = validate(item, additional, root, _join(path, name))
        else:
            refusal = None
        if refusal is not None:
            return refusal
    return None


def _one_of(
    value: object, branches: list[Mapping[str, Any]], root: Mapping[str, Any], path: str
) -> Refusal | None:
    refusals = [validate(value, branch, root, path) for branch in branches]
    fits = sum(refusal is None for refusal in refusals)
    if fits == 1:
        return None
    if fits > 1:
        return Refusal(400, f"'{path}' matches more than one allowed form.", param=path or None)
    # Report the inner problem of the branch the value's type meant, as a server would.
    for branch, refusal in zip(branches, refusals, strict=True):
        expected = _resolve(branch, root).get("type")
        if expected is not None and _is_type(value, expected):
            return refusal
    types = [_JSON_NAMES.get(_resolve(branch, root).get("type", ""), "?") for branch in branches]
    return _wrong_type(path, "one of " + " or ".join(types), value)


def check_schema(schema: Any, root: Mapping[str, Any], where: str = "#") -> None:
    """Raise UnsupportedSchemaError if `schema` uses a keyword `validate` does not check."""
    if not isinstance(schema, Mapping):
        raise UnsupportedSchemaError(f"{where}: a schema must be an object")
    for keyword, sub in schema.items():
        if keyword in _ANNOTATIONS or keyword.startswith("x-"):
            continue
        if keyword not in _CHECKED:
            raise UnsupportedSchemaError(
                f"{where}: the fake gateway cannot check the keyword {keyword!r}"
            )
        if keyword == "properties":
            for name, item in sub.items():
                check_schema(item, root, f"{where}/properties/{name}")
        elif keyword == "items" or (keyword == "additionalProperties" and isinstance(sub, dict)):
            check_schema(sub, root, f"{where}/{keyword}")
        elif keyword == "oneOf":
            for index, item in enumerate(sub):
                check_schema(item, root, f"{where}/oneOf/{index}")
        elif keyword == "type" and sub not in _JSON_NAMES:
            raise UnsupportedSchemaError(f"{where}: unknown type {sub!r}")
    if "$ref" in schema:
        check_schema(_resolve(schema, root), root, str(schema["$ref"]))


@attrs.frozen
class _Operation:
    body_schema: Mapping[str, Any] | None
    body_required: bool
    bearer: bool


@attrs.frozen
class Contract:
    """What the gateway accepts: its operations by (METHOD, path), each with its body schema."""

    spec: Mapping[str, Any] = attrs.field(repr=False)
    operations: Mapping[tuple[str, str], _Operation] = attrs.field(repr=False)

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Contract:
        """Read the operations out of an OpenAPI 3.0 document; check their schemas are usable."""
        schemes = spec.get("components", {}).get("securitySchemes", {})
        bearer_names = {
            name
            for name, scheme in schemes.items()
            if scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer"
        }
        operations = {}
        for path, item in spec.get("paths", {}).items():
            for method, operation in item.items():
                if method not in _METHODS:
                    continue
                body = operation.get("requestBody", {})
                schema = body.get("content", {}).get("application/json", {}).get("schema")
                if schema is not None:
                    check_schema(schema, spec)
                security = operation.get("security", spec.get("security", []))
                operations[method.upper(), path] = _Operation(
                    body_schema=schema,
                    body_required=bool(body.get("required")),
                    bearer=any(bearer_names & set(need) for need in security),
                )
        return cls(spec, operations)

    def check(
        self,
        method: str,
        path: str,
        authorization: str | None,
        body: bytes | None,
        api_key: str | None,
    ) -> Refusal | None:
        """Why the gateway would refuse this request, or None if it would take it.

        `api_key` None accepts any bearer token; `body` None (not kept) is not checked.
        """
        route = path.split("?", 1)[0]
        operation = self.operations.get((method, route))
        if operation is None:
            return Refusal(404, f"Invalid URL ({method} {route})")
        if operation.bearer:
            refusal = _check_bearer(authorization, api_key)
            if refusal is not None:
                return refusal
        if operation.body_schema is None or body is None:
            return None
        if not body:
            if not operation.body_required:
                return None
            return Refusal(400, "The request body is missing; send a JSON object.")
        try:
            data = json.loads(body)
        except ValueError:
            return Refusal(
                400,
                "We could not parse the JSON body of your request. The body must be valid JSON.",
            )
        refusal = validate(data, operation.body_schema, self.spec)
        if refusal is None and isinstance(data, dict):
            # What OpenAI checks beyond the schema: the order of a tool round trip's turns.
            from ._tools import check_tool_messages, check_tool_options

            refusal = check_tool_options(data) or check_tool_messages(data.get("messages"))
        return refusal


def _check_bearer(authorization: str | None, api_key: str | None) -> Refusal | None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return Refusal(
            401,
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        )
    if api_key is not None and not hmac.compare_digest(token.strip().encode(), api_key.encode()):
        # Never echo the key: OpenAI shows part of it, which would put it in test logs.
        return Refusal(401, "Incorrect API key provided.", code="invalid_api_key")
    return None


@functools.cache
def load_contract() -> Contract:
    """The contract from the spec shipped in the generated package (read once)."""
    text = importlib.resources.files(_SPEC_PACKAGE).joinpath(_SPEC_FILE).read_text("utf-8")
    return Contract.from_spec(json.loads(text))
