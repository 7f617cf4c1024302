"""JSON values to the caller's type, strict about types, reporting every problem with its path.

Written here rather than taken from a library (see docs/structured-output.md, "Choices"):
msgspec stops at the first error (each further problem would cost a re-ask) and cattrs turns
2.7 into 2 by default. msgspec, when installed, is the fast path for answers that are valid
(`target`); this converter decides, and lists every problem, when it refuses one. Keys that
are not fields are ignored, as msgspec and pydantic do. A converter is compiled once per
type; pydantic models go to pydantic and keep its rules.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import math
import re
import types
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import attrs

from .fields import ABSENT, class_fields, record_kind
from .schema import UnsupportedTypeError

__all__ = [
    "INVALID",
    "Converter",
    "NonFinite",
    "Problem",
    "compile_type",
    "json_kind",
    "validate_schema",
]


@attrs.frozen
class Problem:
    """One thing wrong with an answer: where (`items[2].price`, empty for the whole) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(root)'}: {self.message}"


class _Invalid:
    def __repr__(self) -> str:
        return "<invalid>"


INVALID: Final = _Invalid()
Converter = Callable[[Any, str, list[Problem]], Any]
"""(value, path, problems) -> the converted value, or INVALID with problems appended."""


class NonFinite:
    """`NaN`, `Infinity` or `-Infinity` in an answer: JSON has no such numbers, and no field
    takes them (decoded as this, not as a float, so that no fast path lets them through)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def json_kind(value: object) -> str:
    """How JSON would call a decoded value, for messages."""
    if isinstance(value, NonFinite):
        return "a non-finite number"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _got(value: object) -> str:
    if isinstance(value, dict | list):
        return json_kind(value)
    return f"{json_kind(value)} ({_shown(value)})"


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _str(value: Any, path: str, problems: list[Problem]) -> Any:
    if isinstance(value, str):
        return value
    problems.append(Problem(path, f"expected a string, got {_got(value)}"))
    return INVALID


def _int(value: Any, path: str, problems: list[Problem]) -> Any:
    if type(value) is int:
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    problems.append(Problem(path, f"expected an integer, got {_got(value)}"))
    return INVALID


def _float(value: Any, path: str, problems: list[Problem]) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    problems.append(Problem(path, f"expected a finite number, got {_got(value)}"))
    return INVALID


_MONEY: Final = re.compile(r"-?\d+(\.\d+)?")


def _decimal(value: Any, path: str, problems: list[Problem]) -> Any:
    # A float from json.loads becomes the shortest decimal that reads back as it: 12.1, not
    # 12.0999999999999996447286321199499070644378662109375. A string of digits is taken too.
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return decimal.Decimal(repr(value)) if isinstance(value, float) else decimal.Decimal(value)
    if isinstance(value, str) and _MONEY.fullmatch(value.strip()):
        return decimal.Decimal(value.strip())
    problems.append(Problem(path, f"expected a decimal number, got {_got(value)}"))
    return INVALID


def _bool(value: Any, path: str, problems: list[Problem]) -> Any:
    if isinstance(value, bool):
        return value
    problems.append(Problem(path, f"expected a boolean, got {_got(value)}"))
    return INVALID


def _none(value: Any, path: str, problems: list[Problem]) -> Any:
    if value is None:
        return None
    problems.append(Problem(path, f"expected null, got {_got(value)}"))
    return INVALID


def _any(value: Any, path: str, problems: list[Problem]) -> Any:
    return value


def parse_date_text(text: str, kind: type) -> Any:
    """A date or datetime from what models write: ISO 8601 first (the standard library), then
    python-dateutil for the forms it leaves out. ValueError when neither reads it."""
    try:
        return kind.fromisoformat(text)  # type: ignore[attr-defined]
    except ValueError:
        pass
    try:
        from dateutil import parser
    except ImportError:  # pragma: no cover - a runtime dependency
        raise ValueError(text) from None
    try:
        parsed = parser.isoparse(text)
    except (ValueError, OverflowError):
        try:
            parsed = parser.parse(text)
        except (ValueError, OverflowError, parser.ParserError):
            raise ValueError(text) from None
    if kind is dt.date:
        return parsed.date()
    return parsed


def _date_converter(kind: type) -> Converter:
    label = {dt.datetime: "a date-time", dt.date: "a date", dt.time: "a time"}[kind]

    def convert(value: Any, path: str, problems: list[Problem]) -> Any:
        if isinstance(value, str):
            try:
                if kind is dt.time:
                    return dt.time.fromisoformat(value)
                return parse_date_text(value, kind)
            except ValueError:
                pass
        problems.append(Problem(path, f"expected {label} (ISO 8601), got {_got(value)}"))
        return INVALID

    return convert


def _uuid(value: Any, path: str, problems: list[Problem]) -> Any:
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    problems.append(Problem(path, f"expected a UUID, got {_got(value)}"))
    return INVALID


def _choices(values: Sequence[Any], make: Callable[[Any], Any]) -> Converter:
    # Literal[1] must not take True, nor Literal[True] take 1: keyed on the JSON kind too.
    table = {(type(value), value): make(value) for value in values}
    shown = ", ".join(repr(value) for value in values)

    def convert(value: Any, path: str, problems: list[Problem]) -> Any:
        try:
            return table[(type(value), value)]
        except (KeyError, TypeError):
            problems.append(Problem(path, f"expected one of {shown}, got {_got(value)}"))
            return INVALID

    return convert


def _union(options: list[Converter], names: str) -> Converter:
    def convert(value: Any, path: str, problems: list[Problem]) -> Any:
        trials: list[list[Problem]] = []
        for option in options:
            tried: list[Problem] = []
            result = option(value, path, tried)
            if result is not INVALID:
                return result
            trials.append(tried)
        # An option that got inside the value (an object of the right kind with a bad field)
        # says most, the fewer problems the better; otherwise the kinds that were expected.
        deepest = max(trials, key=lambda tried: (_depth(tried), -len(tried)))
        if any(p.path != path for p in deepest):
            problems.extend(deepest)
        else:
            problems.append(Problem(path, f"expected {names}, got {_got(value)}"))
        return INVALID

    return convert


def _depth(problems: list[Problem]) -> int:
    return max((p.path.count(".") + p.path.count("[") + 1 for p in problems), default=0)


def _list(item: Converter, make: Callable[[list[Any]], Any]) -> Converter:
    def convert(value: Any, path: str, problems: list[Problem]) -> Any:
        if not isinstance(value, list):
            problems.append(Problem(path, f"expected an array, got {_got(value)}"))
            return INVALID
        result = []
        ok = True
        for index, element in enumerate(value):
            converted = item(element, f"{path}[{index}]", problems)
            ok = ok and converted is not INVALID
            result.append(converted)
        return make(result) if ok else INVALID

    return convert


def _mapping(item: Converter) -> Converter:
    def convert(value: Any, path: str, problems: list[Problem]) -> Any:
        if not isinstance(value, dict):
            problems.append(Problem(path, f"expected an object, got {_got(value)}"))
            return INVALID
        result = {}
        ok = True
        for key, element in value.items():
            converted = item(element, _join(path, key), problems)
            ok = ok and converted is not INVALID
            result[key] = converted
        return result if ok else INVALID

    return convert


class _Compiler:
    def __init__(self) -> None:
        self.records: dict[type, Converter] = {}

    def record(self, tp: type) -> Converter:
        known = self.records.get(tp)
        if known is not None:
            return known
        slot: list[Converter] = []

        def late(value: Any, path: str, problems: list[Problem]) -> Any:
            return slot[0](value, path, problems)

        self.records[tp] = late  # a recursive type refers to itself through `late`
        fields = class_fields(tp)
        plans = [(f, self.node(f.type, f"{tp.__name__}.{f.name}")) for f in fields]
        is_typeddict = record_kind(tp) == "typeddict"
        nullable = {f.name: _accepts_none(f.type) for f in fields}

        def convert(value: Any, path: str, problems: list[Problem]) -> Any:
            if not isinstance(value, dict):
                problems.append(Problem(path, f"expected an object, got {_got(value)}"))
                return INVALID
            kwargs: dict[str, Any] = {}
            ok = True
            for field, converter in plans:
                where = _join(path, field.name)
                if field.name not in value or (
                    value[field.name] is None and not nullable[field.name] and not field.required
                ):
                    if field.required:
                        problems.append(Problem(where, "missing (required)"))
                        ok = False
                    elif field.default is not ABSENT:
                        kwargs[field.name] = field.default_value()
                    continue
                converted = converter(value[field.name], where, problems)
                if converted is INVALID:
                    ok = False
                kwargs[field.name] = converted
            if not ok:
                return INVALID
            if is_typeddict:
                return kwargs
            try:
                return tp(**kwargs)
            except (TypeError, ValueError) as exc:  # a validator of the user's class
                problems.append(Problem(path, f"{tp.__name__}() refused it: {exc}"))
                return INVALID

        slot.append(convert)
        self.records[tp] = convert
        return convert

    def node(self, tp: Any, path: str) -> Converter:
        if typing.get_origin(tp) is typing.Annotated:
            return self.node(typing.get_args(tp)[0], path)
        if tp is Any or tp is object:
            return _any
        if tp is None or tp is type(None):
            return _none
        if hasattr(typing, "TypeAliasType") and isinstance(tp, typing.TypeAliasType):
            return self.node(tp.__value__, path)
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            options = [self.node(arg, path) for arg in args]
            names = " or ".join(_kind_name(arg) for arg in args)
            return _union(options, names)
        if origin is typing.Literal:
            return _choices(args, lambda value: value)
        if origin in (list, Sequence, typing.Sequence):
            return _list(self.node(args[0] if args else Any, path), list)
        if origin in (set, frozenset):
            return _list(self.node(args[0] if args else Any, path), origin)
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return _list(self.node(args[0], path), tuple)
            return _fixed_tuple([self.node(arg, path) for arg in args])
        if origin in (dict, Mapping, typing.Mapping):
            return _mapping(self.node(args[1] if len(args) == 2 else Any, path))
        if tp in (list, tuple, set, frozenset):
            return _list(_any, tp)
        if tp is dict:
            return _mapping(_any)
        if isinstance(tp, type):
            return self.leaf(tp, path)
        raise UnsupportedTypeError(f"{path or 'response_format'}: {tp!r} is not supported")

    def leaf(self, tp: type, path: str) -> Converter:
        if issubclass(tp, bool):
            return _bool
        if issubclass(tp, enum.Enum):
            return _choices([member.value for member in tp], tp)
        if issubclass(tp, int):
            return _int
        if issubclass(tp, float):
            return _float
        if issubclass(tp, decimal.Decimal):
            return _decimal
        if issubclass(tp, str):
            return _str
        if issubclass(tp, dt.datetime):
            return _date_converter(dt.datetime)
        if issubclass(tp, dt.date):
            return _date_converter(dt.date)
        if issubclass(tp, dt.time):
            return _date_converter(dt.time)
        if issubclass(tp, uuid.UUID):
            return _uuid
        if record_kind(tp):
            return self.record(tp)
        raise UnsupportedTypeError(f"{path or 'response_format'}: {tp.__name__} is not supported")


def _fixed_tuple(items: list[Converter]) -> Converter:
    def convert(value: Any, path: str, problems: list[Problem]) -> Any:
        if not isinstance(value, list) or len(value) != len(items):
            problems.append(
                Problem(path, f"expected an array of {len(items)} items, got {_got(value)}")
            )
            return INVALID
        result = [
            item(element, f"{path}[{i}]", problems)
            for i, (item, element) in enumerate(zip(items, value, strict=True))
        ]
        return INVALID if INVALID in result else tuple(result)

    return convert


def _accepts_none(tp: Any) -> bool:
    if typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if tp is None or tp is type(None) or tp is Any:
        return True
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return any(_accepts_none(arg) for arg in typing.get_args(tp))
    if typing.get_origin(tp) is typing.Literal:
        return None in typing.get_args(tp)
    return False


def _kind_name(tp: Any) -> str:
    if tp is None or tp is type(None):
        return "null"
    simple = {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}
    if tp in simple:
        return simple[tp]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + ", ".join(repr(member.value) for member in tp)
    if typing.get_origin(tp) is typing.Literal:
        return "one of " + ", ".join(repr(value) for value in typing.get_args(tp))
    if isinstance(tp, type):
        return tp.__name__
    return repr(tp)


def compile_type(tp: Any) -> Converter:
    """The converter for `tp`; UnsupportedTypeError names what it cannot convert."""
    return _Compiler().node(tp, "")


# -- JSON Schema dicts given as response_format ------------------------------------------------

_TYPE_CHECKS: Final[Mapping[str, Callable[[Any], bool]]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (type(v) is int) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def validate_schema(value: Any, schema: Mapping[str, Any]) -> list[Problem]:
    """Every problem of `value` against a JSON Schema dict (the usual keywords; unknown ones are
    annotations). What a caller who gave a schema dict gets back is the validated dict."""
    problems: list[Problem] = []
    _check(value, schema, "", schema, problems)
    return problems


def _check(
    value: Any, schema: Any, path: str, root: Mapping[str, Any], problems: list[Problem]
) -> None:
    if schema is True or not isinstance(schema, Mapping):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target: Any = root
        if ref != "#":
            for part in ref.removeprefix("#/").split("/"):
                target = target.get(part, {}) if isinstance(target, Mapping) else {}
        _check(value, target, path, root, problems)
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_TYPE_CHECKS.get(k, lambda v: True)(value) for k in kinds):
            expected = " or ".join(str(k) for k in kinds)
            problems.append(Problem(path, f"expected {expected}, got {_got(value)}"))
            return
    if "enum" in schema and not any(
        (value == option and type(value) is type(option))
        or (
            isinstance(value, int | float)
            and isinstance(option, int | float)
            and not isinstance(value, bool)
            and not isinstance(option, bool)
            and value == option
        )
        for option in schema["enum"]
    ):
        shown = ", ".join(repr(option) for option in schema["enum"])
        problems.append(Problem(path, f"expected one of {shown}, got {_got(value)}"))
    if "const" in schema and value != schema["const"]:
        problems.append(Problem(path, f"expected {schema['const']!r}, got {_got(value)}"))
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list):
            trials = []
            for option in options:
                found: list[Problem] = []
                _check(value, option, path, root, found)
                if not found:
                    break
                trials.append(found)
            else:
                deepest = max(trials, key=lambda ps: (_depth(ps), -len(ps)), default=[])
                problems.extend(deepest)
    for option in schema.get("allOf", ()):
        _check(value, option, path, root, problems)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                problems.append(Problem(_join(path, name), "missing (required)"))
        extra = schema.get("additionalProperties", True)
        for key, element in value.items():
            if key in properties:
                _check(element, properties[key], _join(path, key), root, problems)
            elif extra is False:
                problems.append(Problem(_join(path, key), "not allowed (additionalProperties)"))
            elif isinstance(extra, Mapping):
                _check(element, extra, _join(path, key), root, problems)
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            for index, element in enumerate(value):
                _check(element, items, f"{path}[{index}]", root, problems)
        if "minItems" in schema and len(value) < schema["minItems"]:
            problems.append(Problem(path, f"expected at least {schema['minItems']} items"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(Problem(path, f"expected at most {schema['maxItems']} items"))
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(Problem(path, f"expected at least {schema['minimum']}, got {value}"))
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(Problem(path, f"expected at most {schema['maximum']}, got {value}"))
    if isinstance(value, str):
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and re.search(pattern, value) is None:
            problems.append(Problem(path, f"expected text matching {pattern!r}, got {_got(value)}"))
        if "minLength" in schema and len(value) < schema["minLength"]:
            problems.append(Problem(path, f"expected at least {schema['minLength']} characters"))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            problems.append(Problem(path, f"expected at most {schema['maxLength']} characters"))
