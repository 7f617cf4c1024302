"""Comparing two schemas: types, formats, nullability, enums, properties, nested schemas."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

from scripts.spec_diff._walk import MISSING, At, Walk, changed, mapping, ordered_union, same, show

# Schema keywords the walk judges itself; any other changed keyword is reported as
# "constraint-changed" (breaking, to be reviewed).
SCHEMA_KEYWORDS: Final = frozenset(
    {
        "$ref",
        "type",
        "format",
        "nullable",
        "enum",
        "properties",
        "required",
        "items",
        "additionalProperties",
        "oneOf",
        "anyOf",
        "allOf",
        "default",
    }
)


class SchemaWalk(Walk):
    """The walk, with what it does on reaching a schema in both documents."""

    def schema(self, old_raw: object, new_raw: object, at: At) -> None:
        old, old_ptr = self.resolve(self.base, old_raw, at.old)
        new, new_ptr = self.resolve(self.candidate, new_raw, at.new)
        at = replace(at, old=old_ptr, new=new_ptr)
        seen = (old_ptr, new_ptr, at.direction)
        if seen in self.visited:
            return
        self.visited.add(seen)
        if not isinstance(old, Mapping) or not isinstance(new, Mapping):
            if old != new:
                self.unclassified(at, "schema", old, new)
            return
        for key in ordered_union(old, new):
            a, b = old.get(key, MISSING), new.get(key, MISSING)
            if a == b or key in SCHEMA_KEYWORDS:
                continue
            if not self.annotation(key, a, b, at.down(key)):
                self.report(
                    "constraint-changed",
                    at,
                    f"{key} {changed(a, b)} (not classified automatically: review it)",
                )
        if old.get("default", MISSING) != new.get("default", MISSING):
            self.report(
                "default-changed",
                at,
                f"default {changed(old.get('default', MISSING), new.get('default', MISSING))}",
            )
        old_type, new_type = old.get("type"), new.get("type")
        if old_type != new_type:
            self.report(
                "type-changed",
                at,
                f"type changed from {old_type or 'unspecified'} to {new_type or 'unspecified'}",
            )
            return  # Its structure is a different thing now: nothing below compares.
        if old.get("format") != new.get("format"):
            self.report(
                "format-changed",
                at,
                f"format {changed(old.get('format', MISSING), new.get('format', MISSING))}",
            )
        if bool(old.get("nullable")) != bool(new.get("nullable")):
            if new.get("nullable"):
                self.report("now-nullable", at, "now nullable")
            else:
                self.report("no-longer-nullable", at, "no longer nullable")
        self.enum(old.get("enum"), new.get("enum"), at)
        self.properties(old, new, at)
        if "items" in old or "items" in new:
            self.schema(
                old.get("items", {}), new.get("items", {}), at.down("items", field=at.field + "[]")
            )
        self.additional_properties(
            old.get("additionalProperties", MISSING), new.get("additionalProperties", MISSING), at
        )
        for keyword in ("oneOf", "anyOf", "allOf"):
            a, b = old.get(keyword, MISSING), new.get(keyword, MISSING)
            if same(a, b):
                continue
            if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
                for index, (x, y) in enumerate(zip(a, b, strict=True)):
                    self.schema(
                        x, y, at.down(keyword, str(index), field=f"{at.field}<{keyword}[{index}]>")
                    )
            else:
                self.unclassified(at, keyword, a, b)

    def enum(self, old: object, new: object, at: At) -> None:
        if old == new:
            return
        if not isinstance(old, list) or not isinstance(new, list):
            # Introducing an enum narrows the values; dropping it widens them.
            if isinstance(new, list):
                self.report("enum-added", at, f"values now limited to {show(new)}")
            else:
                self.report("enum-removed", at, "values no longer limited")
            return
        for value in old:
            if value not in new:
                self.report("enum-value-removed", at, f"enum value {show(value)} removed")
        for value in new:
            if value not in old:
                self.report("enum-value-added", at, f"enum value {show(value)} added")

    def properties(self, old: Mapping[str, Any], new: Mapping[str, Any], at: At) -> None:
        old_props, new_props = mapping(old.get("properties")), mapping(new.get("properties"))
        old_required = set(old.get("required") or ())
        new_required = set(new.get("required") or ())
        names = ordered_union(old_props, new_props)
        names += [n for n in sorted(old_required | new_required) if n not in names]
        for name in names:
            here = at.down("properties", name, field=f"{at.field}.{name}" if at.field else name)
            if name in old_props and name not in new_props:
                self.report("property-removed", here, "property removed", removed=True)
            elif name in new_props and name not in old_props:
                if name in new_required:
                    self.report("required-property-added", here, "required property added")
                else:
                    self.report("optional-property-added", here, "optional property added")
            else:
                if name in new_required and name not in old_required:
                    self.report("property-newly-required", here, "property is now required")
                elif name in old_required and name not in new_required:
                    self.report(
                        "property-no-longer-required", here, "property is no longer required"
                    )
                if name in old_props:
                    self.schema(old_props[name], new_props[name], here)

    def additional_properties(self, old: object, new: object, at: At) -> None:
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            self.schema(old, new, at.down("additionalProperties", field=at.field + "{*}"))
            return
        if old == new:
            return
        closed_before, closed_now = old is False, new is False
        if closed_before == closed_now:
            self.unclassified(at, "additionalProperties", old, new)
        elif closed_now:
            self.report(
                "additional-properties-closed", at, "no longer accepts undeclared properties"
            )
        else:
            self.report("additional-properties-opened", at, "now accepts undeclared properties")
