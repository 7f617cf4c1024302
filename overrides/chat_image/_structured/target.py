"""A `response_format` prepared once: its wire schema, its name, and how answers become it.

`T` may be a pydantic v2 model (pydantic's schema and validation, its own rules), a
dataclass, an attrs class, a TypedDict, `list[X]` or a union of those (wrapped in an object
on the wire, unwrapped in `.parsed`), or a JSON Schema dict (`.parsed` is the validated
dict). Preparing a type costs a schema build; it is done once per type and kept.
"""

from __future__ import annotations

import functools
import json
import threading
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from .convert import INVALID, Problem, compile_type, validate_schema
from .fields import is_pydantic_model
from .schema import UnsupportedTypeError, build_schema, clean_name, type_name
from .strict import root_object, to_strict

__all__ = ["Target", "prepare"]

_LIST_KEY: Final = "items"
_VALUE_KEY: Final = "value"


@attrs.frozen(eq=False)
class Target:
    """What `parse()` needs to know about a `response_format`."""

    name: str
    schema: Mapping[str, Any]
    """The schema as it is (the wrapper included): shown to the model in prompts."""
    wire: Mapping[str, Any]
    """The schema sent in `response_format.json_schema.schema`."""
    strict: bool
    wrapper_key: str | None
    """Set when `T` is not an object (a list, a union): its key in the wrapper object."""
    convert: Callable[[Any], tuple[Any, list[Problem]]]
    """Answer JSON (unwrapped) -> (the value, []) or (anything, problems)."""
    convert_item: Callable[[Any], tuple[Any, list[Problem]]] | None = None
    """For `list[X]`: one item's JSON -> (an X, problems)."""
    decode: Callable[[str], Any] | None = None
    """The fast path: an answer that is exactly a valid instance's JSON text -> the value
    (raises on anything else, which then takes the tolerant path)."""

    @property
    def properties(self) -> frozenset[str]:
        props = root_object(self.schema).get("properties")
        return frozenset(props) if isinstance(props, Mapping) else frozenset()

    def response_format(self) -> dict[str, Any]:
        """The `json_schema` response_format to send (a new dict each time: it is the
        caller's to change)."""
        return {
            "type": "json_schema",
            "json_schema": {"name": self.name, "schema": self.wire, "strict": self.strict},
        }


def _msgspec(tp: Any) -> tuple[Callable[[Any], Any], Callable[[str], Any]] | None:
    """msgspec's converter and decoder for `tp`, when it is installed and takes the type."""
    try:
        import msgspec
    except ImportError:  # pragma: no cover - a runtime dependency
        return None
    try:
        decoder = msgspec.json.Decoder(tp)
    except (TypeError, ValueError):
        return None  # a type msgspec cannot express (a union of classes, say): ours only

    def convert(data: Any) -> Any:
        return msgspec.convert(data, tp)

    return convert, decoder.decode


Convert = Callable[[Any], tuple[Any, list[Problem]]]
Decode = Callable[[str], Any]


def _ours(tp: Any) -> tuple[Convert, Decode | None]:
    converter = compile_type(tp)
    fast = _msgspec(tp)
    fast_convert, decode = fast if fast is not None else (None, None)

    def convert(data: Any) -> tuple[Any, list[Problem]]:
        if fast_convert is not None:
            try:
                return fast_convert(data), []
            except Exception:  # noqa: S110 - msgspec refused: ours decides and says why
                pass
        problems: list[Problem] = []
        value = converter(data, "", problems)
        if value is INVALID and not problems:  # pragma: no cover - converters always say why
            problems.append(Problem("", "not valid"))
        return value, problems

    return convert, decode


def _pydantic(tp: Any) -> tuple[dict[str, Any], Convert, Decode]:
    from pydantic import TypeAdapter, ValidationError

    adapter: Any = TypeAdapter(tp)

    def convert(data: Any) -> tuple[Any, list[Problem]]:
        try:
            return adapter.validate_python(data), []
        except ValidationError as exc:
            return None, [
                Problem(_loc_path(error.get("loc", ())), str(error.get("msg", "")))
                for error in exc.errors(include_url=False)
            ]

    return adapter.json_schema(), convert, adapter.validate_json


def _loc_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        path = f"{path}[{part}]" if isinstance(part, int) else (f"{path}.{part}" if path else part)
    return path


def _mentions_pydantic(tp: Any) -> bool:
    if is_pydantic_model(tp):
        return True
    return any(_mentions_pydantic(arg) for arg in typing.get_args(tp))


def _wrap(schema: Mapping[str, Any], key: str) -> dict[str, Any]:
    inner = {k: v for k, v in schema.items() if k != "$defs"}
    wrapper: dict[str, Any] = {
        "type": "object",
        "properties": {key: inner},
        "required": [key],
        "additionalProperties": False,
    }
    if "$defs" in schema:
        wrapper["$defs"] = schema["$defs"]
    return wrapper


def _is_object(schema: Mapping[str, Any]) -> bool:
    root = root_object(schema)
    return root.get("type") == "object" and "anyOf" not in root and "oneOf" not in root


def _from_type(tp: Any) -> Target:
    decode: Decode | None
    if _mentions_pydantic(tp):
        schema, convert, decode = _pydantic(tp)
    else:
        schema = build_schema(tp)
        convert, decode = _ours(tp)
    origin = typing.get_origin(tp)
    convert_item = None
    if origin is list:
        (item,) = typing.get_args(tp) or (Any,)
        convert_item = _pydantic(item)[1] if _mentions_pydantic(item) else _ours(item)[0]
    name = clean_name(type_name(tp))
    if isinstance(tp, type) and hasattr(tp, "__name__") and not typing.get_args(tp):
        name = clean_name(tp.__name__)
    return _finish(name, schema, convert, convert_item, origin is list, decode)


def _finish(
    name: str,
    schema: Mapping[str, Any],
    convert: Callable[[Any], tuple[Any, list[Problem]]],
    convert_item: Callable[[Any], tuple[Any, list[Problem]]] | None,
    is_list: bool,
    decode: Decode | None = None,
) -> Target:
    wrapper_key = None
    if not _is_object(schema):
        wrapper_key = _LIST_KEY if is_list or schema.get("type") == "array" else _VALUE_KEY
        schema = _wrap(schema, wrapper_key)
    wire, strict = to_strict(schema)
    if wrapper_key is not None:
        decode = None  # the answer is the wrapper, not the type: decoded the long way
    return Target(name, schema, wire, strict, wrapper_key, convert, convert_item, decode)


def _from_dict(given: Mapping[str, Any]) -> Target:
    schema: Mapping[str, Any] = given
    name = None
    # The `openai` package's own form: {"type": "json_schema", "json_schema": {...}}.
    if given.get("type") == "json_schema" and isinstance(given.get("json_schema"), Mapping):
        envelope = given["json_schema"]
        schema = envelope.get("schema", {})
        name = envelope.get("name")
    if not isinstance(schema, Mapping):
        raise TypeError("response_format: the JSON Schema must be an object")
    if name is None:
        title = schema.get("title")
        name = title if isinstance(title, str) else "Response"
    root = dict(schema)

    def convert(data: Any) -> tuple[Any, list[Problem]]:
        return data, validate_schema(data, root)

    items = root.get("items") if root.get("type") == "array" else None
    convert_item = None
    if isinstance(items, Mapping):

        def convert_item(data: Any) -> tuple[Any, list[Problem]]:
            return data, validate_schema(data, {**items, "$defs": root.get("$defs", {})})

    return _finish(clean_name(name), root, convert, convert_item, root.get("type") == "array")


_lock = threading.Lock()
_by_schema: dict[str, Target] = {}


@functools.lru_cache(maxsize=256)
def _prepare_type(tp: Any) -> Target:
    return _from_type(tp)


def prepare(response_format: object) -> Target:
    """The prepared target for `response_format` (kept: a type's schema is built once).

    TypeError names what cannot be a response_format.
    """
    if type(response_format) is type and response_format is not object:
        try:
            return _prepare_type(response_format)  # the common case, and the fast one
        except TypeError as exc:
            if isinstance(exc, UnsupportedTypeError):
                raise
            raise UnsupportedTypeError(f"response_format: {exc}") from exc
    if isinstance(response_format, Mapping):
        key = json.dumps(response_format, sort_keys=True, default=str)
        with _lock:
            known = _by_schema.get(key)
        if known is None:
            known = _from_dict(response_format)
            with _lock:
                if len(_by_schema) > 256:
                    _by_schema.clear()
                _by_schema[key] = known
        return known
    if (
        response_format is object
        or response_format is Any
        or not (
            isinstance(response_format, type | types.GenericAlias | types.UnionType)
            or typing.get_origin(response_format) is not None
        )
    ):
        raise TypeError(
            "response_format: expected a class (pydantic model, dataclass, attrs class, "
            f"TypedDict), list[X], a union, or a JSON Schema dict; got {response_format!r}"
        )
    try:
        return _prepare_type(response_format)
    except TypeError as exc:
        if isinstance(exc, UnsupportedTypeError):
            raise
        raise UnsupportedTypeError(f"response_format: {exc}") from exc
