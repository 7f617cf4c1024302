"""The public API as a user sees it: names, their kinds and their signatures.

Recorded in public_api.json; tests/test_public_api.py compares the package with the record, so
that moving modules around cannot change what users import or call.
"""

from __future__ import annotations

import enum
import inspect
import json
import re
import sys
from importlib import import_module
from pathlib import Path
from typing import Any

RECORD = Path(__file__).with_name("public_api.json")
MODULES = ("chat_image", "chat_image.batch", "chat_image.ray", "chat_image.testing")


def _signature(obj: Any) -> str:
    try:
        # Without memory addresses: a default such as a function shows as `<function f>`.
        return re.sub(r" at 0x[0-9a-f]+", "", str(inspect.signature(obj)))
    except (TypeError, ValueError):
        return "?"


def _public(cls: type) -> bool:
    if not cls.__module__.startswith("chat_image"):
        return True
    return any(cls.__name__ in getattr(import_module(name), "__all__", ()) for name in MODULES)


def _describe(obj: Any) -> dict[str, Any]:
    if inspect.isclass(obj):
        members: dict[str, str] = {}
        for name, value in sorted(vars(obj).items()):
            if name.startswith("_") and name != "__init__":
                continue
            if isinstance(value, staticmethod | classmethod):
                members[name] = _signature(value.__func__)
            elif inspect.isfunction(value):
                members[name] = _signature(value)
            elif isinstance(value, property):
                members[name] = "property"
        kind = "enum" if issubclass(obj, enum.Enum) else "class"
        # Bases users can name: exported ones and the standard library's, not private helpers.
        bases = [base.__name__ for base in obj.__mro__[1:] if base is not object and _public(base)]
        return {"kind": kind, "signature": _signature(obj), "bases": bases, "members": members}
    if callable(obj):
        return {"kind": "function", "signature": _signature(obj)}
    return {"kind": "value", "type": type(obj).__name__}


def snapshot() -> dict[str, Any]:
    """Every module's `__all__`, each name described."""
    result: dict[str, Any] = {}
    for module_name in MODULES:
        module = import_module(module_name)
        names = sorted(module.__all__)
        result[module_name] = {name: _describe(getattr(module, name)) for name in names}
    return result


if __name__ == "__main__":
    # `python tests/public_api.py --record` rewrites the record after a deliberate API change.
    if sys.argv[1:] == ["--record"]:
        RECORD.write_text(json.dumps(snapshot(), indent=1, sort_keys=True) + "\n")
    else:
        print(json.dumps(snapshot(), indent=1, sort_keys=True))
