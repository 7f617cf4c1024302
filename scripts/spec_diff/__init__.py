"""spec-diff: classify the changes from openapi.yaml to a candidate upstream spec.

Loading is _load.py, the rules table _rules.py, the walk that applies it _document.py and
_schemas.py, the report _report.py, --client _client.py, the command line _cli.py.
"""

from scripts.spec_diff._cli import main
from scripts.spec_diff._document import compare
from scripts.spec_diff._load import extract_spec_text, load_spec, parse_spec
from scripts.spec_diff._model import BREAKING, NON_BREAKING, BadInput, Change, Spec
from scripts.spec_diff._report import render_json, render_text, verdict

__all__ = [
    "BREAKING",
    "NON_BREAKING",
    "BadInput",
    "Change",
    "Spec",
    "compare",
    "extract_spec_text",
    "load_spec",
    "main",
    "parse_spec",
    "render_json",
    "render_text",
    "verdict",
]
