"""Sessions: `generate` writes generated/; `tests`, `tests-images`, `lint`, `typecheck` check
the rest; `bench` measures (it is not a check, and CI does not run it).

Every tool version comes from pyproject.toml's dependency groups, so the pins live in one place.
"""

from __future__ import annotations

from pathlib import Path

import nox

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
PYTHON = "3.11"
# Our own code: what lint and typecheck cover. generated/ is the generator's business.
OWN_CODE = ["overrides", "scripts", "tests", "noxfile.py"]

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests", "tests-images", "lint", "typecheck"]
nox.options.error_on_missing_interpreters = True


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


@nox.session(python=PYTHON)
def generate(session: nox.Session) -> None:
    """Regenerate generated/ from openapi.yaml, overrides/ and generator-config.yml."""
    session.install(*_group("generate"))
    session.run("python", "scripts/generate.py", *session.posargs)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite against the package as `pip install .` ships it: without Pillow."""
    session.install(".", *_group("test"))
    session.run("pytest", "-m", "not pillow", *session.posargs)


@nox.session(python=PYTHON, name="tests-images")
def tests_images(session: nox.Session) -> None:
    """Run the test suite with the `images` extra (Pillow) installed."""
    session.install(".[images]", *_group("test"))
    session.run("pytest", "-m", "not no_pillow", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff over our own code."""
    session.install(*_group("lint"))
    session.run("ruff", "check", *OWN_CODE)
    session.run("ruff", "format", "--check", *OWN_CODE)


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the overrides layer (against generated/), scripts and this file."""
    session.install(".[images]", *_group("typecheck"))
    session.run("mypy", "--strict", "-p", "chat_image")
    session.run("mypy", "--strict", "scripts", "noxfile.py")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Time and weigh the client against plain httpx and the `openai` package; prints a table.

    `nox -s bench -- --quick` for a smoke run, `-- --only latency,memory` for some cases,
    `-- --json PATH` to write the results elsewhere than bench-results.json.
    """
    session.install(".", *_group("bench"))
    session.run("python", "scripts/bench.py", *session.posargs)
