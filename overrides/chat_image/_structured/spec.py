"""`--schema SCHEMA` on the command line: a JSON Schema file, or `module:Class`."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from .._exceptions import InvalidInputError
from .target import prepare

__all__ = ["load_response_format", "to_jsonable"]


def load_response_format(spec: str, *, option: str = "--schema") -> Any:
    """The `response_format` a `--schema` value names, checked (InvalidInputError says why).

    A path to an existing file is read as a JSON Schema; `module:Class` is imported (from the
    current directory too, as `python -m` would).
    """
    path = Path(spec)
    if path.is_file():
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise InvalidInputError(option, f"{spec}: not a JSON Schema file ({exc})") from None
        if not isinstance(schema, dict):
            raise InvalidInputError(option, f"{spec}: a JSON Schema is an object")
        found: Any = schema
    elif ":" in spec:
        module_name, _, attribute = spec.partition(":")
        if "" not in sys.path and "." not in sys.path:
            sys.path.insert(0, "")
        try:
            found = importlib.import_module(module_name)
            for part in attribute.split("."):
                found = getattr(found, part)
        except (ImportError, AttributeError) as exc:
            raise InvalidInputError(option, f"cannot load {spec!r}: {exc}") from None
    else:
        raise InvalidInputError(option, f"{spec!r} is neither a JSON Schema file nor module:Class")
    try:
        prepare(found)
    except TypeError as exc:
        raise InvalidInputError(option, str(exc)) from None
    return found


def to_jsonable(value: Any) -> Any:
    """A parsed value as plain JSON data: records as objects, dates as ISO text, decimals as
    numbers (exact text kept through `json.dumps(..., default=str)` is not wanted here)."""
    import dataclasses
    import datetime as dt
    import decimal
    import enum
    import uuid

    import attrs

    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, decimal.Decimal):
        return (
            int(value)
            if value == value.to_integral_value() and "." not in str(value)
            else float(value)
        )
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if attrs.has(type(value)):
        return {a.name: to_jsonable(getattr(value, a.name)) for a in attrs.fields(type(value))}
    dump = getattr(value, "model_dump", None)
    if callable(dump):  # a pydantic model
        return to_jsonable(dump(mode="json"))
    return str(value)
