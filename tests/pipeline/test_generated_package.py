"""The generated package has the shape the pipeline's corrections promise."""

from __future__ import annotations

import ast
import importlib.resources
import inspect
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "generated" / "chat_image_api"


def _generated_files() -> list[Path]:
    return sorted(p for p in GENERATED.rglob("*") if "__pycache__" not in p.parts)


def test_every_generated_path_is_ascii_and_no_post_v1_names():
    for path in _generated_files():
        relative = path.relative_to(GENERATED).as_posix()
        assert relative.isascii(), relative
        assert "post_v1" not in relative, relative
        if path.suffix == ".py":
            assert "post_v1" not in path.read_text(encoding="utf-8"), relative


def test_endpoint_is_importable_by_a_meaningful_name():
    from chat_image_api.api.chat import create_chat_completion

    for name in ("sync", "sync_detailed", "asyncio", "asyncio_detailed"):
        assert callable(getattr(create_chat_completion, name))


@pytest.mark.parametrize("name", ["sync", "sync_detailed", "asyncio", "asyncio_detailed"])
def test_endpoint_functions_take_no_header_arguments_and_require_a_body(name):
    from chat_image_api.api.chat import create_chat_completion

    parameters = inspect.signature(getattr(create_chat_completion, name)).parameters
    assert set(parameters) == {"client", "body"}
    assert parameters["body"].default is inspect.Parameter.empty


def test_models_have_readable_names():
    from chat_image_api import models

    assert set(models.__all__) == {
        "ChatCompletionRequest",
        "ChatCompletionResponse",
        "ChatMessage",
        "ContentPart",
        "ImageDetail",
        "ImageUrl",
        "StreamOptions",
        # The request and message fields overrides/openapi-patch.yaml declares.
        "ChatCompletionTool",
        "ChatCompletionToolType",
        "FunctionDefinition",
        "FunctionDefinitionParameters",
        "JsonSchemaFormat",
        "JsonSchemaFormatSchema",
        "LogitBias",
        "MessageToolCall",
        "MessageToolCallFunction",
        "MessageToolCallType",
        "NamedToolChoice",
        "NamedToolChoiceFunction",
        "NamedToolChoiceType",
        "ReasoningEffort",
        "ResponseFormatJsonObject",
        "ResponseFormatJsonObjectType",
        "ResponseFormatJsonSchema",
        "ResponseFormatJsonSchemaType",
        "ResponseFormatText",
        "ResponseFormatTextType",
        "ToolChoiceMode",
    }


@pytest.mark.parametrize("package", ["chat_image", "chat_image_api"])
def test_both_packages_ship_py_typed(package):
    assert importlib.resources.files(package).joinpath("py.typed").is_file()


def _third_party_imports(root: Path, own: str) -> set[str]:
    found: set[str] = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name != own}


def test_runtime_imports_are_declared_dependencies():
    """A spec change that makes the generator import, say, dateutil must add it to pyproject."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = [dep for deps in project.get("optional-dependencies", {}).values() for dep in deps]
    declared = {
        # Where the import name is not the distribution's (PEP 503 names use dashes).
        {"Pillow": "PIL", "python-dateutil": "dateutil"}.get(name, name.replace("-", "_"))
        for name in (
            re.split(r"[<>=!~\[ ;]", dep, maxsplit=1)[0]
            for dep in [*project["dependencies"], *extras]
        )
    }
    imported = _third_party_imports(GENERATED, "chat_image_api") | _third_party_imports(
        ROOT / "overrides" / "chat_image", "chat_image"
    )
    assert imported - {"chat_image_api"} <= declared
