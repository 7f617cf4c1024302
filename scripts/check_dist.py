"""`nox -s build`'s contents check: the sdist and wheel hold what users need and nothing else.

twine checks the metadata's form; this checks what only this project knows: both import
packages, the pytest plugin module, `py.typed`, the shipped spec, the console script and the
plugin's entry point in the wheel, and no tests, caches or build leftovers in either file.
Usage: `python -m scripts.check_dist DIST_FILE...`; exit 1 with every problem listed.
"""

from __future__ import annotations

import sys
import tarfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Final

# Files the wheel must hold, by path inside it.
WHEEL_REQUIRED: Final = (
    "chat_image/__init__.py",
    "chat_image/py.typed",
    "chat_image/batch/__init__.py",
    "chat_image/testing/__init__.py",
    "chat_image_api/__init__.py",
    "chat_image_api/client.py",
    "chat_image_api/openapi.json",
    "_chat_image_pytestplugin.py",
)
# Files the sdist must hold, by path below its top folder (`chat_image-X.Y.Z/`): what the
# wheel is built from, and the documents its metadata points to.
SDIST_REQUIRED: Final = (
    "pyproject.toml",
    "README.md",
    "overrides/chat_image/__init__.py",
    "overrides/chat_image/py.typed",
    "overrides/_chat_image_pytestplugin.py",
    "generated/chat_image_api/__init__.py",
    "generated/chat_image_api/openapi.json",
)
# Lines the wheel's entry_points.txt must carry: the console script and the pytest plugin.
ENTRY_POINTS: Final = (
    "chat-image = chat_image._cli:main",
    "chat_image = _chat_image_pytestplugin",
)
# No path component may be one of these, and no file may end with these suffixes.
FORBIDDEN_PARTS: Final = frozenset(
    {
        "tests",
        "__pycache__",
        ".nox",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        ".git",
        ".github",
        "build",
        "dist",
        "docs",
        "scripts",
    }
)
FORBIDDEN_SUFFIXES: Final = (".pyc", ".pyo", ".orig", ".rej", "~")


def _misplaced(names: Iterable[str]) -> list[str]:
    """Paths that should not ship: tests, caches, build output, the maintainers' tools."""
    problems = []
    for name in names:
        parts = PurePosixPath(name).parts
        bad = FORBIDDEN_PARTS.intersection(parts)
        if bad:
            problems.append(f"{name}: should not ship ({', '.join(sorted(bad))})")
        elif name.endswith(FORBIDDEN_SUFFIXES):
            problems.append(f"{name}: should not ship (a compiled or leftover file)")
    return problems


def check_wheel(path: Path) -> list[str]:
    """Every problem with the wheel at `path`, each naming the file and what is wrong."""
    with zipfile.ZipFile(path) as wheel:
        names = wheel.namelist()
        entry_points = next((n for n in names if n.endswith(".dist-info/entry_points.txt")), None)
        entry_text = wheel.read(entry_points).decode() if entry_points else ""
    problems = [f"{name}: missing" for name in WHEEL_REQUIRED if name not in names]
    lines = {line.strip() for line in entry_text.splitlines()}
    problems += [f"entry_points.txt: no `{line}`" for line in ENTRY_POINTS if line not in lines]
    return problems + _misplaced(names)


def check_sdist(path: Path) -> list[str]:
    """Every problem with the sdist at `path`, each naming the file and what is wrong."""
    with tarfile.open(path) as sdist:
        members = [member.name for member in sdist.getmembers() if member.isfile()]
    top = f"{path.name.removesuffix('.tar.gz')}/"
    outside = [name for name in members if not name.startswith(top)]
    inside = [name.removeprefix(top) for name in members if name.startswith(top)]
    problems = [f"{name}: outside the sdist's folder {top}" for name in outside]
    problems += [f"{name}: missing" for name in SDIST_REQUIRED if name not in inside]
    return problems + _misplaced(inside)


def check(paths: Sequence[Path]) -> list[str]:
    """Every problem with the given distribution files; there must be one sdist and one wheel."""
    wheels = [path for path in paths if path.name.endswith(".whl")]
    sdists = [path for path in paths if path.name.endswith(".tar.gz")]
    problems = []
    if len(wheels) != 1 or len(sdists) != 1:
        problems.append(f"expected one wheel and one sdist, got {[p.name for p in paths]}")
    for wheel in wheels:
        problems += [f"{wheel.name}: {problem}" for problem in check_wheel(wheel)]
    for sdist in sdists:
        problems += [f"{sdist.name}: {problem}" for problem in check_sdist(sdist)]
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    paths = [Path(arg) for arg in (sys.argv[1:] if argv is None else argv)]
    problems = check(paths)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"contents: pass ({', '.join(path.name for path in paths)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
