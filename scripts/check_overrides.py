"""Check that the hand-written layer (overrides/chat_image) still fits a generated tree.

    python -m scripts.check_overrides [--generated DIR]

DIR holds the generated `chat_image_api` package: generated/ by default, or any regeneration
(`nox -s spec-diff -- NEW --client` and `nox -s update-spec` point it at one made from a
candidate spec). Two parts, both against DIR and never writing to the work tree:

1. mypy --strict over overrides/chat_image with DIR first on the search path: a generated
   model, field or function that is gone, renamed or retyped is an error at the line of the
   override that uses it.
2. The contract typing cannot see, checked by importing the layer against DIR in a separate
   interpreter: the generated fields the overrides set (and the position of those passed
   positionally), the JSON keys the generated `to_dict()` must produce for them (the
   overrides build the request through the generated models and send their JSON as is),
   and the private `create_chat_completion._get_kwargs(body=...)` whose result
   chat_image._request reads by key. One request covering every key is built
   through the overrides and its JSON compared with what the gateway expects.

Exit status: 0 the overrides fit, 1 they do not (each problem names the override and field).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from scripts import paths
from scripts.paths import OVERRIDES, PACKAGE


@dataclass(frozen=True)
class Use:
    """A generated model field that an override relies on, and the JSON key it must produce."""

    model: str
    field: str
    key: str
    override: str  # where the override uses it, as `module:qualname`
    position: int | None = None  # Set when the override passes the field positionally.


CONTRACT: Final = (
    Use("ChatCompletionRequest", "model", "model", "chat_image._request:build_body"),
    Use("ChatCompletionRequest", "messages", "messages", "chat_image._request:build_body"),
    Use(
        "ChatCompletionRequest",
        "max_tokens",
        "max_tokens",
        "chat_image._request:build_body",
    ),
    Use("ChatMessage", "role", "role", "chat_image._models.messages:_message_to_api"),
    Use("ChatMessage", "content", "content", "chat_image._models.messages:_message_to_api"),
    Use("ContentPart", "type_", "type", "chat_image._models.content:TextPart.to_api"),
    Use("ContentPart", "text", "text", "chat_image._models.content:TextPart.to_api"),
    Use(
        "ContentPart",
        "image_url",
        "image_url",
        "chat_image._models.content:ImagePart.to_api",
    ),
    Use("ImageUrl", "url", "url", "chat_image._models.content:_image_url_model", 0),
    Use("ImageUrl", "detail", "detail", "chat_image._models.content:_image_url_model", 1),
    Use("ChatCompletionRequest", "stream", "stream", "chat_image._request:build_body"),
    Use(
        "ChatCompletionRequest",
        "stream_options",
        "stream_options",
        "chat_image._request:build_body",
    ),
    Use(
        "StreamOptions",
        "include_usage",
        "include_usage",
        "chat_image._request:_stream_options",
    ),
    *(
        Use("ChatCompletionRequest", name, name, "chat_image._request:build_body")
        for name in (
            "response_format",
            "tools",
            "tool_choice",
            "parallel_tool_calls",
            "logprobs",
            "top_logprobs",
            "max_completion_tokens",
            "reasoning_effort",
            "logit_bias",
        )
    ),
    *(
        Use("ChatMessage", name, name, "chat_image._models.messages:_message_to_api")
        for name in ("name", "tool_call_id", "tool_calls")
    ),
    *(
        Use(model, field, key, "chat_image._models.messages:_tool_call_to_api", position)
        for model, field, key, position in (
            ("MessageToolCall", "id", "id", 0),
            ("MessageToolCall", "type_", "type", 1),
            ("MessageToolCall", "function", "function", 2),
            ("MessageToolCallFunction", "name", "name", 0),
            ("MessageToolCallFunction", "arguments", "arguments", 1),
        )
    ),
)
# The typed request fields of the request below (each is built from this JSON through the
# generated model's own `from_dict`, so their keys are checked by the comparison too).
_TOOL: Final = {
    "type": "function",
    "function": {
        "name": "describe",
        "description": "Describe an image.",
        "parameters": {"type": "object", "properties": {"detail": {"type": "string"}}},
        "strict": False,
    },
}
_FIELDS: Final = {
    "response_format": {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": True},
    },
    "tools": [_TOOL],
    "tool_choice": {"type": "function", "function": {"name": "describe"}},
    "parallel_tool_calls": False,
    "logprobs": True,
    "top_logprobs": 2,
    "max_completion_tokens": 400,
    "reasoning_effort": "low",
    "logit_bias": {"50256": -100},
}
# A tool call in the conversation, and its answer.
_CALL: Final = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "describe", "arguments": '{"detail": "low"}'},
}
ENDPOINT_USER: Final = "chat_image._request:build_request"
ENDPOINT_KEYS: Final = {"method": "post", "url": "/v1/chat/completions"}
# One request through the overrides that exercises every key above, and its JSON.
EXPECTED_JSON: Final = {
    "model": "gpt-4o",
    "messages": [
        {"role": "system", "content": "Answer in one sentence."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this image?"},
                {
                    "type": "image_url",
                    "image_url": {"url": "https://example.com/a.png", "detail": "low"},
                },
            ],
            "name": "reader",
        },
        {"role": "assistant", "content": None, "tool_calls": [_CALL]},
        {"role": "tool", "content": "A meadow.", "tool_call_id": "call_1"},
    ],
    "max_tokens": 300,
    "stream": True,
    "stream_options": {"include_usage": True},
    **_FIELDS,
}


@dataclass
class Result:
    tree: Path
    mypy: list[str] = field(default_factory=list)
    contract: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [*(f"mypy: {line}" for line in self.mypy), *self.contract]

    def report(self) -> str:
        where = f"{PACKAGE} in {paths.shown(self.tree)}"
        if not self.problems:
            return f"overrides/chat_image fits {where}: mypy --strict and the wire contract pass."
        lines = [f"overrides/chat_image no longer fits {where}:"]
        if self.mypy:
            lines.append("  mypy --strict over overrides/chat_image against that tree:")
            lines.extend(f"    {line}" for line in self.mypy)
        if self.contract:
            lines.append("  what typing cannot see (field names, JSON keys, _get_kwargs):")
            lines.extend(f"    - {problem}" for problem in self.contract)
        lines.append(
            "Fix the override named above (or, for a model the generator now names differently,"
            " generator-config.yml), then run the check again."
        )
        return "\n".join(lines)


def _env(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    # The tree under test and the overrides come before anything installed.
    env["PYTHONPATH"] = os.pathsep.join([str(tree), str(OVERRIDES)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_mypy(tree: Path, cache_dir: Path | None = None) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="chat-image-mypy-") as tmp:
        env = _env(tree)
        env["MYPYPATH"] = os.pathsep.join([str(tree), "overrides"])
        done = subprocess.run(
            [
                *(sys.executable, "-m", "mypy", "--config-file", "pyproject.toml"),
                *("--cache-dir", str(cache_dir or tmp), "--no-error-summary", "-p", "chat_image"),
            ],
            cwd=paths.ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode not in (0, 1):
        return [f"mypy itself failed (exit {done.returncode}): {done.stderr.strip()}"]
    return [line for line in done.stdout.splitlines() if line.strip()]


def run_contract(tree: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-B", "-m", "scripts.check_overrides", "--probe", str(tree)],
        cwd=paths.ROOT,
        env=_env(tree),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return [f"the contract probe crashed: {done.stderr.strip()[-2000:]}"]
    problems: list[str] = json.loads(done.stdout)
    return problems


def check(tree: Path, mypy_cache: Path | None = None) -> Result:
    tree = tree.resolve()
    if not (tree / PACKAGE / "__init__.py").is_file():
        return Result(tree, contract=[f"{tree} holds no {PACKAGE} package"])
    return Result(tree, run_mypy(tree, mypy_cache), run_contract(tree))


def _resolves(reference: str) -> bool:
    """Whether `module:qualname` names something importable. A module that exists but fails to
    import against the tree under test counts as found: the other checks report that failure."""
    module_name, _, qualname = reference.partition(":")
    try:
        target: object = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return False
    except Exception:
        return True
    for part in qualname.split("."):
        if not hasattr(target, part):
            return False
        target = getattr(target, part)
    return True


# --- the probe: runs in its own interpreter with the tree first on sys.path ---------------


def _origin(exc: BaseException) -> str:
    """Where in overrides/ an exception came from (or its innermost frame)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if Path(f.filename).resolve().is_relative_to(OVERRIDES)]
    frame = (ours or frames)[-1] if frames else None
    where = ""
    if frame is not None:
        path = Path(frame.filename).resolve()
        where = f"{paths.shown(path)}:{frame.lineno} in {frame.name}: "
    return f"{where}{type(exc).__name__}: {exc}"


def _json_diff(expected: object, actual: object, at: str = "$") -> list[tuple[str, str, str]]:
    """(location, key, what) for each difference between the expected and the actual JSON."""
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        found: list[tuple[str, str, str]] = []
        extra = [k for k in actual if k not in expected]
        for key, value in expected.items():
            if key not in actual:
                instead = f"; it has {', '.join(map(repr, extra))} instead" if extra else ""
                found.append((at, key, f"key {key!r} missing{instead}"))
            else:
                found.extend(_json_diff(value, actual[key], f"{at}.{key}"))
        found.extend((at, key, f"unexpected key {key!r}") for key in extra if not found)
        return found
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [
            d
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for d in _json_diff(e, a, f"{at}[{i}]")
        ]
    if expected != actual:
        return [(at, at.rsplit(".", 1)[-1], f"expected {expected!r}, got {actual!r}")]
    return []


def _users_of(key: str) -> str:
    users = sorted({u.override for u in CONTRACT if u.key == key})
    return "; ".join(users) if users else "overrides/chat_image"


def probe(tree: Path) -> list[str]:
    """The contract checks, in this interpreter: call only with the tree on sys.path."""
    import importlib

    import attrs

    problems: list[str] = []
    try:
        api = importlib.import_module(f"{PACKAGE}.models")
        layer = importlib.import_module("chat_image")
    except Exception as exc:  # reported, with where it happened
        return [f"importing chat_image against the tree fails: {_origin(exc)}"]
    for module, where in ((api, tree), (layer, OVERRIDES)):
        if not Path(str(module.__file__)).resolve().is_relative_to(where.resolve()):
            problems.append(f"{module.__name__} was imported from {module.__file__}, not {where}")
    if problems:
        return problems

    missing = list(dict.fromkeys(u.model for u in CONTRACT if not hasattr(api, u.model)))
    if missing:
        users = {
            name: sorted({u.override for u in CONTRACT if u.model == name}) for name in missing
        }
        used = [f"{name} (used by {'; '.join(users[name])})" for name in missing]
        present = sorted(getattr(api, "__all__", ()))
        problems.append(
            f"{PACKAGE}.models has no {', '.join(used)}; it has {', '.join(present)}. If the "
            "generator now names them differently, map them in generator-config.yml"
        )
    for reference in sorted({use.override for use in CONTRACT} | {ENDPOINT_USER}):
        if not _resolves(reference):
            problems.append(
                f"{reference}: the contract names an override that does not exist; update "
                "CONTRACT in scripts/check_overrides.py to where the code now is"
            )
    for use in CONTRACT:
        model = getattr(api, use.model, None)
        if model is None:
            continue
        fields = [f.name for f in attrs.fields(model) if f.init]
        if use.field not in fields:
            problems.append(
                f"{use.model}.{use.field}: the generated model has no such field (it has "
                f"{', '.join(fields)}); {use.override} sets it for the JSON key {use.key!r}"
            )
        elif use.position is not None and fields.index(use.field) != use.position:
            problems.append(
                f"{use.model}.{use.field}: now positional argument {fields.index(use.field) + 1}, "
                f"not {use.position + 1}; {use.override} passes it by position"
            )

    wire = importlib.import_module("chat_image._request")
    try:
        endpoint = importlib.import_module(f"{PACKAGE}.api.chat.create_chat_completion")
        get_kwargs = endpoint._get_kwargs
    except (ImportError, AttributeError) as exc:
        problems.append(
            f"{PACKAGE}.api.chat.create_chat_completion._get_kwargs is gone ({exc}); "
            f"{ENDPOINT_USER} calls it to build the request"
        )
        return problems

    try:
        body = wire.build_body(
            model="gpt-4o",
            messages=[
                layer.SystemMessage("Answer in one sentence."),
                layer.UserMessage(
                    [
                        layer.TextPart("What is in this image?"),
                        layer.ImagePart.from_url("https://example.com/a.png", detail="low"),
                    ],
                    "reader",
                ),
                layer.AssistantMessage(tool_calls=[_CALL]),
                layer.ToolMessage("call_1", "A meadow."),
            ],
            max_tokens=300,
            params=_FIELDS,
            stream=True,
            stream_options={"include_usage": True},
        )
    except Exception as exc:  # reported, with where it happened
        problems.append(f"building a request through the overrides fails: {_origin(exc)}")
        return problems

    try:
        kwargs: Any = get_kwargs(body=body.request)
    except Exception as exc:  # reported, with where it happened
        problems.append(
            f"create_chat_completion._get_kwargs(body=...) fails: {_origin(exc)}; "
            f"{ENDPOINT_USER} calls it that way"
        )
        return problems
    if not isinstance(kwargs, Mapping):
        problems.append(
            f"_get_kwargs returned {type(kwargs).__name__}, not a dict; {ENDPOINT_USER}"
        )
        return problems
    for key, value in ENDPOINT_KEYS.items():
        if str(kwargs.get(key, "")).lower() != value:
            problems.append(
                f"_get_kwargs(...)[{key!r}] is {kwargs.get(key)!r}, not {value!r}; "
                f"{ENDPOINT_USER} sends it"
            )
    if not isinstance(kwargs.get("headers"), Mapping):
        problems.append(f"_get_kwargs(...)['headers'] is not a mapping; {ENDPOINT_USER} merges it")
    if "json" not in kwargs:
        problems.append(f"_get_kwargs(...) has no 'json'; {ENDPOINT_USER} sends it as the body")
        return problems
    for at, key, what in _json_diff(EXPECTED_JSON, kwargs["json"]):
        problems.append(f"request JSON at {at}: {what}; relied on by {_users_of(key)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generated", type=Path, default=paths.GENERATED)
    parser.add_argument("--mypy-cache-dir", type=Path, default=None)
    parser.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe is not None:
        print(json.dumps(probe(args.probe)))
        return 0
    result = check(args.generated, args.mypy_cache_dir)
    print(result.report())
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
