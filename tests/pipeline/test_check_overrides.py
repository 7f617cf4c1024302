"""Check 2: overrides/ against a generated tree, whichever spec it was made from."""

from __future__ import annotations

import importlib
import inspect
import shutil
import textwrap
from pathlib import Path

import pytest

from pipeline import ROOT, Case, corpus, run_script
from scripts import check_overrides

OVERRIDE_CASES = [case for case in corpus() if case.overrides is not None]


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for every tree checked here: httpx and attrs are analysed once."""
    return tmp_path_factory.mktemp("mypy-cache")


@pytest.fixture(scope="session")
def regenerate(tmp_path_factory: pytest.TempPathFactory):
    made: dict[Path, Path] = {}

    def from_spec(spec: Path) -> Path:
        if spec not in made:
            output = tmp_path_factory.mktemp(spec.stem)
            done = run_script("generate", "--spec", spec, "--output", output)
            assert done.returncode == 0, done.stderr
            made[spec] = output
        return made[spec]

    return from_spec


def test_the_committed_tree_fits(mypy_cache):
    done = run_script("check_overrides", "--mypy-cache-dir", mypy_cache)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "mypy --strict and the wire contract pass" in done.stdout


@pytest.mark.parametrize("case", OVERRIDE_CASES, ids=lambda case: case.name)
def test_corpus_spec_regenerated_and_checked(case: Case, regenerate, mypy_cache):
    tree = regenerate(case.path)
    done = run_script("check_overrides", "--generated", tree, "--mypy-cache-dir", mypy_cache)
    assert case.overrides is not None
    outcome, *tokens = case.overrides
    assert done.returncode == {"pass": 0, "fail": 1}[outcome], done.stdout + done.stderr
    for token in tokens:
        assert token in done.stdout, f"{token!r} not named in:\n{done.stdout}"


def test_a_rename_typing_cannot_see_is_caught_by_the_wire_contract(regenerate, mypy_cache):
    """maxTokens upstream: the attribute stays `max_tokens`, so mypy passes; the JSON does not."""
    tree = regenerate(ROOT / "tests" / "pipeline" / "spec_corpus" / "renamed_property.yaml")
    done = run_script("check_overrides", "--generated", tree, "--mypy-cache-dir", mypy_cache)
    assert done.returncode == 1
    assert "mypy --strict over" not in done.stdout
    assert (
        "request JSON at $: key 'max_tokens' missing; it has 'maxTokens' instead; "
        "relied on by chat_image._request:build_body"
    ) in done.stdout


def test_the_private_request_builder_is_part_of_the_contract(tmp_path, mypy_cache):
    tree = tmp_path / "generated"
    shutil.copytree(ROOT / "generated", tree, ignore=shutil.ignore_patterns("__pycache__"))
    endpoint = tree / "chat_image_api" / "api" / "chat" / "create_chat_completion.py"
    source = endpoint.read_text(encoding="utf-8")
    assert "def _get_kwargs(" in source
    endpoint.write_text(source.replace("_get_kwargs", "_request_kwargs"), encoding="utf-8")
    done = run_script("check_overrides", "--generated", tree, "--mypy-cache-dir", mypy_cache)
    assert done.returncode == 1
    assert "create_chat_completion._get_kwargs is gone" in done.stdout
    assert "chat_image._request:build_request" in done.stdout


def test_a_changed_request_builder_result_is_caught(tmp_path, mypy_cache):
    tree = tmp_path / "generated"
    shutil.copytree(ROOT / "generated", tree, ignore=shutil.ignore_patterns("__pycache__"))
    endpoint = tree / "chat_image_api" / "api" / "chat" / "create_chat_completion.py"
    source = endpoint.read_text(encoding="utf-8")
    assert source.count('"url": "/v1/chat/completions"') == 1
    endpoint.write_text(source.replace('"url": "/v1', '"path": "/v1'), encoding="utf-8")
    done = run_script("check_overrides", "--generated", tree, "--mypy-cache-dir", mypy_cache)
    assert done.returncode == 1
    assert "_get_kwargs(...)['url'] is None, not '/v1/chat/completions'" in done.stdout


def _function_source(use_override: str) -> str:
    """The source of what `module:Class.method` (or `module:function`) names, found by import:
    a reference that no longer resolves fails here, loudly."""
    module_name, _, qualname = use_override.partition(":")
    target: object = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    return textwrap.dedent(inspect.getsource(target))  # type: ignore[arg-type]


def test_contract_references_are_checked_by_import():
    """The contract names code as `module:qualname`; the check imports each, so a reference
    left behind by a refactoring is reported instead of silently passing."""
    for use in check_overrides.CONTRACT:
        assert check_overrides._resolves(use.override), use.override
    assert check_overrides._resolves(check_overrides.ENDPOINT_USER)
    assert not check_overrides._resolves("chat_image._wire:build_body")
    assert not check_overrides._resolves("chat_image._request:build_everything")


@pytest.mark.parametrize("use", check_overrides.CONTRACT, ids=str)
def test_the_contract_names_overrides_that_really_use_the_field(use):
    """Keeps the contract honest when overrides/ is refactored: a stale entry fails here."""
    source = _function_source(use.override)
    assert f"api.{use.model}(" in source
    if use.position is None:
        assert f"{use.field}=" in source
