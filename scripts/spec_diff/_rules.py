"""The rule table: every kind of change spec-diff reports, and whether it breaks clients.

A change matters in one of two directions. In a request (and anywhere outside a response),
what the server stops accepting breaks clients; in a response, what the server may now send
that clients do not expect breaks them (generated code rejects enum values it does not know,
and reads required fields without checking). A rule whose severity depends on the direction
says so in its two columns. To add a rule: add its row here, then report it by its key where
the walk finds it (_document.py for the document, paths, operations, parameters and bodies;
_schemas.py for schemas).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from scripts.spec_diff._model import BREAKING, NON_BREAKING, Severity

B: Final = BREAKING
N: Final = NON_BREAKING


@dataclass(frozen=True)
class Rule:
    """A kind of change: its severity in a request and in a response, and the name it shows."""

    key: str
    request: Severity
    response: Severity
    shown_as: str = ""  # When several keys share a rule name in reports; else the key.

    @property
    def name(self) -> str:
        return self.shown_as or self.key


# fmt: off
TABLE: Final = (
    #    key                                 request  response
    # The document's own fields.
    Rule("openapi-patch-version-changed",       N, N, "openapi-version-changed"),
    Rule("openapi-version-changed",             B, B),
    Rule("info-changed",                        N, N),
    Rule("servers-changed",                     N, N),
    Rule("tags-changed",                        N, N),
    Rule("externaldocs-changed",                N, N),
    Rule("security-changed",                    B, B),
    # Paths and operations.
    Rule("path-removed",                        B, B),
    Rule("path-added",                          N, N),
    Rule("operation-removed",                   B, B),
    Rule("operation-added",                     N, N),
    Rule("operationid-changed",                 N, N),
    # Parameters.
    Rule("parameter-removed",                   B, B),
    Rule("required-parameter-added",            B, B),
    Rule("optional-parameter-added",            N, N),
    Rule("parameter-newly-required",            B, B),
    Rule("parameter-no-longer-required",        N, N),
    # Request bodies, responses, media types.
    Rule("request-body-removed",                B, B),
    Rule("request-body-added-required",         B, B),
    Rule("request-body-added",                  N, N),
    Rule("request-body-newly-required",         B, B),
    Rule("request-body-no-longer-required",     N, N),
    Rule("media-type-removed",                  B, B),
    Rule("media-type-added",                    N, N),
    Rule("response-removed",                    B, B),
    Rule("response-added",                      N, N),
    Rule("response-header-removed",             B, B),
    Rule("response-header-added",               N, N),
    # Schemas: where the direction flips the verdict.
    Rule("type-changed",                        B, B),
    Rule("format-changed",                      B, B),
    Rule("default-changed",                     N, N),
    Rule("now-nullable",                        N, B, "nullable-changed"),
    Rule("no-longer-nullable",                  B, N, "nullable-changed"),
    Rule("enum-added",                          B, N),  # values now limited
    Rule("enum-removed",                        N, B),  # values no longer limited
    Rule("enum-value-removed",                  B, N),
    Rule("enum-value-added",                    N, B),
    Rule("property-removed",                    B, B),
    Rule("required-property-added",             B, N),
    Rule("optional-property-added",             N, N),
    Rule("property-newly-required",             B, N),
    Rule("property-no-longer-required",         N, B),
    Rule("additional-properties-closed",        B, N, "additional-properties-changed"),
    Rule("additional-properties-opened",        N, B, "additional-properties-changed"),
    Rule("schema-removed",                      B, B),
    Rule("schema-added",                        N, N),
    # Documentation and metadata: never what goes over the wire.
    Rule("description-changed",                 N, N),
    Rule("summary-changed",                     N, N),
    Rule("title-changed",                       N, N),
    Rule("example-changed",                     N, N),
    Rule("external-docs-changed",               N, N),
    Rule("deprecated-changed",                  N, N),
    Rule("apifox-metadata-changed",             N, N),
    Rule("extension-changed",                   N, N),
    # What the tool cannot judge: breaking until a person has looked ("review it").
    Rule("constraint-changed",                  B, B),
    Rule("unclassified-change",                 B, B),
    # --client: the client regenerated from the candidate.
    Rule("client-not-generated",                B, B),
    Rule("overrides-broken",                    B, B),
)
# fmt: on
RULES: Final = {rule.key: rule for rule in TABLE}

# Documentation keywords, and the rule a change of each is.
ANNOTATIONS: Final = {
    "description": "description-changed",
    "summary": "summary-changed",
    "title": "title-changed",
    "example": "example-changed",
    "examples": "example-changed",
    "externalDocs": "external-docs-changed",
    "deprecated": "deprecated-changed",
}
