"""Every refusal of a caller's input before sending comes from `_validation` (issue 16).

The package's source is read with `ast`: a module other than `_validation` that builds an
`InvalidInputError` itself, or an attrs field whose validator is not one of `_validation`'s
checks, fails here. A new argument gets its check from `_validation`, as the others did.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import chat_image

PACKAGE = Path(chat_image.__file__).parent

# Modules that build InvalidInputError by design: the checks, and the class with `.under()`.
HOME = {"_validation.py", "_exceptions.py"}

# Not argument checks: what is found at run time, in a file or on disk, after the arguments
# passed. Each is (module, function) and why it stays where it is.
RUNTIME_REFUSALS = {
    # The PDF itself: encrypted, corrupt, or unreadable when PDFium opens it.
    ("_images/pdf.py", "render_pdf"): "the file's content or state, found when opened",
    # The output file as the journal finds it when it opens it: not a batch output, a
    # folder, in a folder that is gone, not writable, or a FIFO that no process reads.
    ("batch/_journal.py", "_refused"): "the output file's state, found when opened",
}

# attrs validators that are not argument checks: ImageData's decodes the image's bytes.
RUNTIME_VALIDATORS = {("_models/content.py", "_validate_data")}

# The testing kit's Reply checks a test author's fake answer, not a client's input.
NOT_THE_CLIENT = ("testing/",)


def _sources() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        yield name, ast.parse(path.read_text(encoding="utf-8"), filename=name)


def _names_of_the_class(tree: ast.Module) -> set[str]:
    """InvalidInputError and whatever a module imports it as."""
    names = {"InvalidInputError"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names |= {
                alias.asname
                for alias in node.names
                if alias.name == "InvalidInputError" and alias.asname
            }
    return names


def _calls_by_function(tree: ast.Module) -> Iterator[tuple[str, ast.Call]]:
    """Every call in `tree` with the name of the function (or "<module>") it is in."""

    def visit(node: ast.AST, where: str) -> Iterator[tuple[str, ast.Call]]:
        for child in ast.iter_child_nodes(node):
            inner = where
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = child.name
            if isinstance(child, ast.Call):
                yield where, child
            yield from visit(child, inner)

    yield from visit(tree, "<module>")


def _constructions(name: str, tree: ast.Module) -> list[tuple[str, int]]:
    called = _names_of_the_class(tree)
    found = []
    for function, call in _calls_by_function(tree):
        func = call.func
        if (isinstance(func, ast.Name) and func.id in called) or (
            isinstance(func, ast.Attribute) and func.attr == "InvalidInputError"
        ):
            found.append((function, call.lineno))
    return found


def test_only_validation_builds_invalid_input_errors():
    stray = []
    allowed_seen = set()
    for name, tree in _sources():
        if name in HOME:
            continue
        for function, line in _constructions(name, tree):
            if (name, function) in RUNTIME_REFUSALS:
                allowed_seen.add((name, function))
                continue
            stray.append(f"{name}:{line} in {function}()")
    assert not stray, (
        "InvalidInputError built outside _validation (give the check a function there, "
        "or, for content found at run time, an entry in RUNTIME_REFUSALS): " + ", ".join(stray)
    )
    # An entry whose raise has gone is removed, so the list says what is really left.
    assert allowed_seen == set(RUNTIME_REFUSALS), set(RUNTIME_REFUSALS) - allowed_seen


def _validator_problems(name: str, tree: ast.Module) -> Iterator[str]:
    # Module-level names bound to `validator(...)`, e.g. `_LIMIT = validator(check_int, ...)`.
    adapted = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "validator"
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                # `@field.validator` methods: the check is written in the class, not here.
                if isinstance(decorator, ast.Attribute) and decorator.attr == "validator":
                    yield f"{name}:{node.lineno} @{ast.unparse(decorator)}"
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg != "validator":
                continue
            value = keyword.value
            if isinstance(value, ast.Call) and ast.unparse(value.func) == "validator":
                continue
            if isinstance(value, ast.Name) and (
                value.id in adapted or (name, value.id) in RUNTIME_VALIDATORS
            ):
                continue
            yield f"{name}:{node.lineno} validator={ast.unparse(value)}"


def test_attrs_fields_take_their_checks_from_validation():
    problems = [
        problem
        for name, tree in _sources()
        if name not in HOME and not name.startswith(NOT_THE_CLIENT)
        for problem in _validator_problems(name, tree)
    ]
    assert not problems, (
        "attrs validators not made by _validation.validator(check_...): " + ", ".join(problems)
    )


def test_the_guard_sees_a_stray_refusal():
    """The walk finds a construction however it is spelt, and in which function."""
    tree = ast.parse(
        "from ._exceptions import InvalidInputError as Refused\n"
        "from . import _exceptions\n"
        "def check(value):\n"
        "    raise Refused('x', 'bad')\n"
        "def other():\n"
        "    raise _exceptions.InvalidInputError('y', 'bad')\n"
    )
    assert _constructions("m.py", tree) == [("check", 4), ("other", 6)]
