"""`--schema SCHEMA` on the command line: a JSON Schema file, or `module:Class`."""

from __future__ import annotations

from typing import Any

from .._validation import check_schema_option

__all__ = ["load_response_format", "to_jsonable"]


def load_response_format(spec: str, *, option: str = "--schema") -> Any:
    """The `response_format` a `--schema` value names, checked (InvalidInputError says why).

    A path to an existing file is read as a JSON Schema; `module:Class` is imported (from the
    current directory too, as `python -m` would).
    """
    return check_schema_option(option, spec)


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
