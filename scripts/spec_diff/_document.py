"""Comparing two documents: their fields, paths, operations, parameters, bodies, components."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

from scripts.spec_diff._model import BREAKING, Change, Spec
from scripts.spec_diff._schemas import SchemaWalk
from scripts.spec_diff._walk import MISSING, At, changed, leaf_changes, mapping, ordered_union, same

METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def compare(base: Spec, candidate: Spec) -> list[Change]:
    """Every change from `base` to `candidate`, breaking ones first, in document order."""
    changes = DocumentWalk(base.data, candidate.data).diff()
    return sorted(changes, key=lambda c: c.severity != BREAKING)


class DocumentWalk(SchemaWalk):
    """The walk from the top of both documents down to their schemas."""

    # The document ----------------------------------------------------------------------

    def diff(self) -> list[Change]:
        self.document()
        self.paths()
        self.components()
        return list(self.found.values())

    def document(self) -> None:
        at = At("document", (), ())
        for key in ordered_union(self.base, self.candidate):
            old, new = self.base.get(key, MISSING), self.candidate.get(key, MISSING)
            if key in ("paths", "components") or old == new:
                continue
            here = at.down(key, label=key)
            if key == "openapi":
                same_minor = str(old).split(".")[:2] == str(new).split(".")[:2]
                self.report(
                    "openapi-patch-version-changed" if same_minor else "openapi-version-changed",
                    here,
                    f"OpenAPI version {changed(old, new)}",
                )
            elif key in ("info", "servers", "tags", "externalDocs"):
                for sub, (a, b) in leaf_changes(old, new):
                    self.report(f"{key.lower()}-changed", here, f"{key}{sub} {changed(a, b)}")
            elif key == "security":
                self.report("security-changed", here, f"security {changed(old, new)}")
            elif not self.annotation(key, old, new, here):
                self.unclassified(here, key, old, new)

    def paths(self) -> None:
        old_paths = mapping(self.base.get("paths"))
        new_paths = mapping(self.candidate.get("paths"))
        for path in ordered_union(old_paths, new_paths):
            at = At(path, ("paths", path), ("paths", path))
            if path not in new_paths:
                self.report("path-removed", at, "path removed", removed=True)
            elif path not in old_paths:
                self.report("path-added", at, "path added")
            else:
                self.path_item(mapping(old_paths[path]), mapping(new_paths[path]), path, at)

    def path_item(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str, at: At) -> None:
        for key in ordered_union(old, new):
            a, b = old.get(key, MISSING), new.get(key, MISSING)
            here = at.down(key, label=f"{key.upper()} {path}" if key in METHODS else path)
            if key in METHODS:
                if b is MISSING:
                    self.report("operation-removed", here, "operation removed", removed=True)
                elif a is MISSING:
                    self.report("operation-added", here, "operation added")
                else:
                    self.operation(
                        mapping(a), mapping(b), here, old.get("parameters"), new.get("parameters")
                    )
            elif a == b or key == "parameters":
                continue  # Path-level parameters are compared with each operation.
            elif key == "servers":
                self.report("servers-changed", here, f"servers {changed(a, b)}")
            elif not self.annotation(key, a, b, here):
                self.unclassified(here, key, a, b)

    def operation(
        self,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        at: At,
        old_path_params: object,
        new_path_params: object,
    ) -> None:
        self.parameters(
            self.parameter_map(self.base, old_path_params, old.get("parameters"), at.old),
            self.parameter_map(self.candidate, new_path_params, new.get("parameters"), at.new),
            at,
        )
        for key in ordered_union(old, new):
            a, b = old.get(key, MISSING), new.get(key, MISSING)
            if same(a, b) or key == "parameters":
                continue
            here = at.down(key)
            if key == "requestBody":
                self.request_body(a, b, here)
            elif key == "responses":
                self.responses(mapping(a), mapping(b), here)
            elif key == "security":
                self.report("security-changed", here, f"security {changed(a, b)}")
            elif key in ("operationId", "tags", "servers"):
                self.report(f"{key.lower()}-changed", here, f"{key} {changed(a, b)}")
            elif not self.annotation(key, a, b, here):
                self.unclassified(here, key, a, b)

    # Parameters -----------------------------------------------------------------------

    def parameter_map(
        self, doc: Mapping[str, Any], path_level: object, op_level: object, op_ptr: tuple[str, ...]
    ) -> dict[tuple[str, str], tuple[Mapping[str, Any], tuple[str, ...]]]:
        """Parameters by (in, name); operation-level ones override path-level ones."""
        found: dict[tuple[str, str], tuple[Mapping[str, Any], tuple[str, ...]]] = {}
        sources = ((path_level, op_ptr[:-1]), (op_level, op_ptr))
        for params, base_ptr in sources:
            if not isinstance(params, list):
                continue
            for index, raw in enumerate(params):
                param, ptr = self.resolve(doc, raw, (*base_ptr, "parameters", str(index)))
                if isinstance(param, Mapping):
                    found[(str(param.get("in")), str(param.get("name")))] = (param, ptr)
        return found

    def parameters(
        self,
        old: dict[tuple[str, str], tuple[Mapping[str, Any], tuple[str, ...]]],
        new: dict[tuple[str, str], tuple[Mapping[str, Any], tuple[str, ...]]],
        at: At,
    ) -> None:
        for key in [*old, *(k for k in new if k not in old)]:
            place, name = key
            label = f"{at.label} {place} parameter {name}"
            if key not in new:
                here = replace(at, label=label, old=old[key][1], new=old[key][1])
                self.report("parameter-removed", here, "parameter removed", removed=True)
                continue
            here = replace(at, label=label, old=old.get(key, new[key])[1], new=new[key][1])
            param = new[key][0]
            if key not in old:
                if param.get("required") is True:
                    self.report("required-parameter-added", here, "required parameter added")
                else:
                    self.report("optional-parameter-added", here, "optional parameter added")
                continue
            before = old[key][0]
            for prop in ordered_union(before, param):
                a, b = before.get(prop, MISSING), param.get(prop, MISSING)
                if same(a, b) or prop in ("in", "name"):
                    continue
                if prop == "required":
                    if b is True:
                        self.report("parameter-newly-required", here, "parameter is now required")
                    else:
                        self.report(
                            "parameter-no-longer-required",
                            here,
                            "parameter is no longer required",
                        )
                elif prop == "schema" and isinstance(a, Mapping) and isinstance(b, Mapping):
                    self.schema(a, b, here.down("schema"))
                elif not self.annotation(prop, a, b, here.down(prop)):
                    self.unclassified(here, prop, a, b)

    # Bodies ---------------------------------------------------------------------------

    def request_body(self, old_raw: object, new_raw: object, at: At) -> None:
        at = replace(at, label=f"{at.label} request body")
        if new_raw is MISSING:
            self.report("request-body-removed", at, "request body removed", removed=True)
            return
        new, new_ptr = self.resolve(self.candidate, new_raw, at.new)
        if old_raw is MISSING:
            if mapping(new).get("required") is True:
                self.report("request-body-added-required", at, "required request body added")
            else:
                self.report("request-body-added", at, "optional request body added")
            return
        old, old_ptr = self.resolve(self.base, old_raw, at.old)
        at = replace(at, old=old_ptr, new=new_ptr)
        old_m, new_m = mapping(old), mapping(new)
        for key in ordered_union(old_m, new_m):
            a, b = old_m.get(key, MISSING), new_m.get(key, MISSING)
            if same(a, b):
                continue
            if key == "required":
                if b is True:
                    self.report(
                        "request-body-newly-required",
                        at.down(key),
                        "request body is now required",
                    )
                else:
                    self.report(
                        "request-body-no-longer-required",
                        at.down(key),
                        "request body is no longer required",
                    )
            elif key == "content":
                self.content(mapping(a), mapping(b), at.down(key))
            elif not self.annotation(key, a, b, at.down(key)):
                self.unclassified(at, key, a, b)

    def content(self, old: Mapping[str, Any], new: Mapping[str, Any], at: At) -> None:
        several = len(set(old) | set(new)) > 1
        for media in ordered_union(old, new):
            here = at.down(media, label=f"{at.label} ({media})" if several else at.label)
            if media not in new:
                self.report(
                    "media-type-removed",
                    here,
                    f"media type {media} removed",
                    removed=True,
                )
                continue
            if media not in old:
                self.report("media-type-added", here, f"media type {media} added")
                continue
            a_media, b_media = mapping(old[media]), mapping(new[media])
            for key in ordered_union(a_media, b_media):
                a, b = a_media.get(key, MISSING), b_media.get(key, MISSING)
                if same(a, b):
                    continue
                if key == "schema":
                    self.schema(a, b, here.down(key))
                elif not self.annotation(key, a, b, here.down(key)):
                    self.unclassified(here, key, a, b)

    def responses(self, old: Mapping[str, Any], new: Mapping[str, Any], at: At) -> None:
        operation = at.label
        for code in ordered_union(old, new):
            here = at.down(str(code), label=f"{operation} response {code}")
            here = replace(here, direction="response")
            if code not in new:
                self.report("response-removed", here, "response removed", removed=True)
                continue
            if code not in old:
                self.report("response-added", here, "response added")
                continue
            a_raw, a_ptr = self.resolve(self.base, old[code], here.old)
            b_raw, b_ptr = self.resolve(self.candidate, new[code], here.new)
            here = replace(here, old=a_ptr, new=b_ptr)
            a_resp, b_resp = mapping(a_raw), mapping(b_raw)
            for key in ordered_union(a_resp, b_resp):
                a, b = a_resp.get(key, MISSING), b_resp.get(key, MISSING)
                if same(a, b):
                    continue
                if key == "content":
                    body = here.down(key, label=f"{here.label} body")
                    self.content(mapping(a), mapping(b), body)
                elif key == "headers":
                    self.response_headers(mapping(a), mapping(b), here.down(key))
                elif not self.annotation(key, a, b, here.down(key)):
                    self.unclassified(here, key, a, b)

    def response_headers(self, old: Mapping[str, Any], new: Mapping[str, Any], at: At) -> None:
        for name in ordered_union(old, new):
            here = at.down(name, label=f"{at.label} header {name}")
            if name not in new:
                self.report("response-header-removed", here, "header removed", removed=True)
            elif name not in old:
                self.report("response-header-added", here, "header added")
            else:
                for sub, (a, b) in leaf_changes(old[name], new[name]):
                    key = sub.rsplit(".", 1)[-1]
                    if not self.annotation(key, a, b, here):
                        self.unclassified(here, f"header{sub}", a, b)

    # Schemas --------------------------------------------------------------------------
    # Components -----------------------------------------------------------------------

    def components(self) -> None:
        old_c = mapping(self.base.get("components"))
        new_c = mapping(self.candidate.get("components"))
        for kind in ordered_union(old_c, new_c):
            a, b = old_c.get(kind, MISSING), new_c.get(kind, MISSING)
            if a == b:
                continue
            at = At(f"components/{kind}", ("components", kind), ("components", kind))
            if kind == "securitySchemes":
                self.report("security-changed", at, f"securitySchemes {changed(a, b)}")
            elif kind == "schemas":
                self.component_schemas(mapping(a), mapping(b), at)
            elif not self.annotation(kind, a, b, at):
                # Parameters, bodies and responses count where operations use them.
                continue

    def component_schemas(self, old: Mapping[str, Any], new: Mapping[str, Any], at: At) -> None:
        # Changes already found through an operation keep that (more telling) location.
        for name in ordered_union(old, new):
            here = at.down(name, label=f"components/schemas/{name}")
            if name not in new:
                self.report("schema-removed", here, "schema removed", removed=True)
            elif name not in old:
                self.report("schema-added", here, "schema added")
            else:
                self.schema(old[name], new[name], here)
