"""What a class given as `response_format` is made of: its fields, whatever kind of class."""

from __future__ import annotations

import dataclasses
import sys
import typing
from collections.abc import Callable
from typing import Any, Final, is_typeddict

import attrs

__all__ = ["MISSING", "Field", "class_fields", "is_pydantic_model", "record_kind"]

MISSING: Final[Any] = dataclasses.MISSING


@attrs.frozen
class Field:
    """One field: its name on the wire, its type, and its default (`MISSING` if required)."""

    name: str
    type: Any
    default: Any = MISSING
    factory: Callable[[], Any] | None = None
    description: str | None = None

    @property
    def required(self) -> bool:
        return self.default is MISSING and self.factory is None

    def default_value(self) -> Any:
        return self.factory() if self.factory is not None else self.default


def is_pydantic_model(tp: object) -> bool:
    """A pydantic v2 model class, found without importing pydantic (it is the user's)."""
    if "pydantic" not in sys.modules or not isinstance(tp, type):
        return False
    from pydantic import BaseModel

    return issubclass(tp, BaseModel)


def record_kind(tp: object) -> str | None:
    """`dataclass`, `attrs` or `typeddict` for the classes read field by field; else None."""
    if not isinstance(tp, type):
        return None
    if dataclasses.is_dataclass(tp):
        return "dataclass"
    if attrs.has(tp):
        return "attrs"
    if is_typeddict(tp):
        return "typeddict"
    return None


def _hints(tp: type) -> dict[str, Any]:
    return typing.get_type_hints(tp, include_extras=True)


def _description(metadata: object) -> str | None:
    if isinstance(metadata, typing.Mapping):
        value = metadata.get("description")
        return value if isinstance(value, str) else None
    return None


def _strip_qualifiers(hint: Any) -> Any:
    """`Required[X]`, `NotRequired[X]` (and `ReadOnly[X]`) of a TypedDict key -> X."""
    qualifiers = {typing.Required, typing.NotRequired, getattr(typing, "ReadOnly", typing.Required)}
    while typing.get_origin(hint) in qualifiers:
        hint = typing.get_args(hint)[0]
    return hint


def _is_required(hint: Any, declared: bool) -> bool:
    # Under `from __future__ import annotations` the class cannot see `NotRequired[...]`
    # in its string annotations: the resolved hint says it.
    origin = typing.get_origin(hint)
    if origin is typing.NotRequired:
        return False
    if origin is typing.Required:
        return True
    return declared


def class_fields(tp: type) -> list[Field]:
    """The fields of a dataclass, attrs class or TypedDict, in declaration order."""
    kind = record_kind(tp)
    hints = _hints(tp)
    if kind == "dataclass":
        return [
            Field(
                f.name,
                hints.get(f.name, f.type),
                f.default,
                None if f.default_factory is MISSING else f.default_factory,  # type: ignore[arg-type]
                _description(f.metadata),
            )
            for f in dataclasses.fields(tp)
            if f.init
        ]
    if kind == "attrs":
        result = []
        for a in attrs.fields(tp):
            if not a.init:
                continue
            default, factory = a.default, None
            if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                default, factory = MISSING, default.factory
            elif default is attrs.NOTHING:
                default = MISSING
            name = a.alias or a.name
            result.append(
                Field(name, hints.get(a.name, a.type), default, factory, _description(a.metadata))
            )
        return result
    if kind == "typeddict":
        required = tp.__required_keys__  # type: ignore[attr-defined]
        return [
            Field(
                name,
                _strip_qualifiers(hint),
                MISSING if _is_required(hint, name in required) else _ABSENT,
            )
            for name, hint in hints.items()
        ]
    raise TypeError(f"{tp!r} is not a dataclass, attrs class or TypedDict")


class _Absent:
    """A TypedDict key that may be left out: converted by leaving it out."""

    def __repr__(self) -> str:
        return "<absent>"


_ABSENT: Final = _Absent()
ABSENT: Final = _ABSENT
