"""Where the pipeline's inputs and outputs live in the repository: defined here, and only here."""

from __future__ import annotations

from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
SPEC: Final = ROOT / "openapi.yaml"
PATCH: Final = ROOT / "overrides" / "openapi-patch.yaml"
CONFIG: Final = ROOT / "generator-config.yml"
# Our versions of generator templates (--custom-template-path): they decide the output too.
TEMPLATES: Final = ROOT / "overrides" / "templates"
OVERRIDES: Final = ROOT / "overrides"
GENERATED: Final = ROOT / "generated"
PYPROJECT: Final = ROOT / "pyproject.toml"
# The generated import package, and the file beside it recording what it was made from.
PACKAGE: Final = "chat_image_api"
STAMP: Final = "GENERATED_FROM"
# The corrected spec, shipped in the package: chat_image.testing's FakeGateway checks requests
# against it, and users have no openapi.yaml.
SPEC_RESOURCE: Final = "openapi.json"


def shown(path: Path) -> str:
    """`path` as messages show it: relative to the repository when inside it, else as given."""
    resolved = path.resolve()
    return resolved.relative_to(ROOT).as_posix() if resolved.is_relative_to(ROOT) else str(path)
