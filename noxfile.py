"""Sessions: `generate` writes generated/; `drift`, `tests`, `tests-images`, `lint`, `typecheck`
check the rest; `docs` builds the documentation site and `build` the sdist and wheel (both
checked); `spec-diff` and `update-spec` take a new upstream spec; `bench` measures (it is not a
check, and CI does not run it).

Every tool version comes from pyproject.toml's dependency groups, so the pins live in one place.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
PYTHON = "3.11"
# Our own code: what lint and typecheck cover. generated/ is the generator's business.
OWN_CODE = ["overrides", "scripts", "tests", "examples", "docs", "noxfile.py"]

nox.options.default_venv_backend = "venv"
nox.options.sessions = [
    "drift", "tests", "tests-images", "tests-extras", "tests-browser", "tests-ray", "example",
    "docs", "build", "lint",
    "typecheck",
]  # fmt: skip
nox.options.error_on_missing_interpreters = True


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


def _runtime() -> list[str]:
    """The package's own dependencies, for code that imports overrides/ from the source tree."""
    return list(PYPROJECT["project"]["dependencies"])


def _exit_with_status(session: nox.Session, *args: str) -> None:
    """Run a pipeline module in the session and leave nox with its exit status, whatever it is.

    spec-diff and update-spec document their statuses (CONTRIBUTING.md); `session.run` would turn
    every non-zero one into nox's 1.
    """
    session.log(" ".join(("python", *args)))
    bin_dir = session.bin
    env = {**os.environ, **{k: v for k, v in session.env.items() if v is not None}}
    env["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(Path(bin_dir).parent)
    command = [str(Path(bin_dir) / "python"), *args]
    status = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode  # noqa: S603
    if status:
        raise SystemExit(status)


@nox.session(python=PYTHON)
def generate(session: nox.Session) -> None:
    """Regenerate generated/ from openapi.yaml, overrides/ and generator-config.yml."""
    session.install(*_group("generate"))
    session.run("python", "-m", "scripts.generate", *session.posargs)


@nox.session(python=PYTHON)
def drift(session: nox.Session) -> None:
    """generated/ is what the pipeline makes now, and overrides/ still fit it. Writes nothing."""
    session.install(*_runtime(), *_group("drift"))
    session.env["PYTHONDONTWRITEBYTECODE"] = "1"
    failed = []
    for check in ("scripts.drift", "scripts.check_overrides"):
        try:
            session.run("python", "-m", check, *session.posargs)
        except nox.command.CommandFailed:
            failed.append(check)
    if failed:
        session.error(f"drift: {' and '.join(failed)} failed; the messages above say what drifted")


@nox.session(python=PYTHON, name="spec-diff")
def spec_diff(session: nox.Session) -> None:
    """Classify openapi.yaml -> NEW_SPEC (path, URL or published page): exit 0/1/2, 3 bad input."""
    if not session.posargs:
        session.error("usage: nox -s spec-diff -- NEW_SPEC [--json] [--client]")
    session.install(*_runtime(), *_group("drift"))
    session.env["PYTHONDONTWRITEBYTECODE"] = "1"
    _exit_with_status(session, "-m", "scripts.spec_diff", *session.posargs)


@nox.session(python=PYTHON, name="update-spec")
def update_spec(session: nox.Session) -> None:
    """Write NEW_SPEC to openapi.yaml, regenerate, run the checks and tests, print a summary."""
    if not session.posargs:
        session.error("usage: nox -s update-spec -- NEW_SPEC")
    # The package with the tests session's extras: the script reinstalls it once written.
    session.install(".[cli,aiohttp]", *_group("drift"), *_group("test"))
    session.env["PYTHONDONTWRITEBYTECODE"] = "1"
    _exit_with_status(session, "-m", "scripts.update_spec", *session.posargs)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite against the package as `pip install .` ships it: without Pillow.

    The drift tests regenerate and type-check, so the pipeline's pinned tools come too; the
    command-line tests run `chat-image batch`, which wants the cli extra; the async suites run
    on the aiohttp backend too, which wants that extra; tests/tracing wants the otel extra
    (without it is tested in subprocesses that block its imports).
    """
    session.install(".[cli,aiohttp,otel]", *_group("test"), *_group("drift"))
    session.run("pytest", "-m", "not pillow and not browser and not ray", *session.posargs)


@nox.session(python=PYTHON, name="tests-images")
def tests_images(session: nox.Session) -> None:
    """Run the tests that need the `images` extra (Pillow), with it installed.

    The aiohttp extra comes too: pytest imports every test module to select the marked tests,
    and test_aiohttp_backend.py imports aiohttp.
    """
    session.install(".[images,aiohttp]", *_group("test"))
    session.run("pytest", "-m", "pillow and not browser and not extras", *session.posargs)


@nox.session(python=PYTHON, name="tests-browser")
def tests_browser(session: nox.Session) -> None:
    """Open report pages in a real browser: Debian's Chromium (`apt-get install chromium`,
    as .ci/run does), driven by Playwright's Python package, over real batch runs.

    `CHAT_IMAGE_REPORT_SCREENSHOTS=docs/images` keeps the screenshots the docs show.
    """
    session.install(".[images,cli,aiohttp]", *_group("test"), *_group("browser"))
    session.run("pytest", "-m", "browser", *(session.posargs or ["tests/report"]))


@nox.session(python=PYTHON, name="tests-ray")
def tests_ray(session: nox.Session) -> None:
    """Run the Ray Data tests (a local Ray cluster of 2 CPUs) with the `ray` extra installed.

    Ray comes with pyarrow and pandas, about 600 MB: only this session installs it. The
    aiohttp extra comes too: pytest imports every test module to select the marked tests.
    """
    session.install(".[ray,aiohttp]", *_group("test"))
    session.run("pytest", "-m", "ray", *session.posargs)


@nox.session(python=PYTHON, name="tests-extras")
def tests_extras(session: nox.Session) -> None:
    """Run the tests of the `heif` and `pdf` extras (pillow-heif, pypdfium2), installed.

    `images` and `aiohttp` come too, for the same reason as in tests-images.
    """
    session.install(".[images,heif,pdf,aiohttp]", *_group("test"))
    session.run("pytest", "-m", "extras", *session.posargs)


@nox.session(python=PYTHON)
def example(session: nox.Session) -> None:
    """Run examples/test_with_fake_gateway.py as a user would: `pip install .` and pytest only,
    in a directory with no conftest or pyproject of ours."""
    session.install(".", "pytest")
    tmp = Path(session.create_tmp()) / "user-project"
    tmp.mkdir(exist_ok=True)
    target = tmp / "test_with_fake_gateway.py"
    target.write_bytes((ROOT / "examples" / "test_with_fake_gateway.py").read_bytes())
    session.chdir(tmp)
    session.run("pytest", "-p", "no:cacheprovider", "-W", "error", "-v", target.name)


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation site (docs/, Sphinx) into build/docs/; any warning fails it.

    The package is installed as users get it: the API reference imports it to read its
    docstrings.
    """
    session.install(".", *_group("docs"))
    out = ROOT / "build" / "docs"
    shutil.rmtree(out, ignore_errors=True)
    session.run(
        "sphinx-build", "--fail-on-warning", "--keep-going", "--nitpicky", "--builder", "html",
        "--doctree-dir", str(out / "doctrees"), "docs", str(out / "html"),
    )  # fmt: skip
    # The reference names public modules only: a private path (`chat_image._client`) in a
    # page would send users to a name that may move.
    private = sorted(
        page.relative_to(out).as_posix()
        for page in (out / "html").rglob("*.html")
        if "chat_image._" in page.read_text(encoding="utf-8")
    )
    if private:
        session.error(f"docs: a private module path (chat_image._...) appears in {private}")
    session.log(f"open {(out / 'html' / 'index.html').as_uri()}")


@nox.session(python=PYTHON)
def build(session: nox.Session) -> None:
    """Build the sdist and wheel into dist/ (emptied first) and check them: twine's metadata
    check, then scripts/check_dist.py's contents check. The release workflow publishes these."""
    session.install(*_group("build"))
    out = ROOT / "dist"
    shutil.rmtree(out, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(out), str(ROOT))
    built = sorted(str(path) for path in out.iterdir())
    session.run("twine", "check", "--strict", *built)
    session.run("python", "-m", "scripts.check_dist", *built)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff over our own code; the GitHub workflows against their schema and zizmor's audits."""
    session.install(*_group("lint"))
    session.run("ruff", "check", *OWN_CODE)
    session.run("ruff", "format", "--check", *OWN_CODE)
    workflows = sorted(str(path) for path in (ROOT / ".github" / "workflows").glob("*.yml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
    # Offline: the online audits ask GitHub's API, which CI here cannot reach. Pedantic, so
    # code smells fail too.
    session.run("zizmor", "--offline", "--persona", "pedantic", *workflows)


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the overrides layer (against generated/), scripts and this file."""
    session.install(".[images,cli,aiohttp,otel]", *_group("typecheck"))
    session.run("mypy", "--strict", "-p", "chat_image", "-m", "_chat_image_pytestplugin")
    session.run("mypy", "--strict", "scripts", "noxfile.py")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Time and weigh the client against plain httpx and the `openai` package; prints a table.

    `nox -s bench -- --quick` for a smoke run, `-- --only latency,memory` for some cases,
    `-- --json PATH` to write the results elsewhere than bench-results.json.
    """
    # The report case opens its page in Debian's Chromium (the browser group) with thumbnails.
    session.install(".[cli,aiohttp,images,otel]", *_group("bench"), *_group("browser"))
    session.run("python", "-m", "scripts.bench", *session.posargs)
