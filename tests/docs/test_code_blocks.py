"""Every code block in README.md, CONTRIBUTING.md and docs/ runs as written, against the fake
gateway on 127.0.0.1, or says why not.

What runs: each ```python block is executed in a fresh folder holding the files the examples
name (`cat.png`, `dog.webp`, `photo.jpg`, `photos/`), with the environment pointing the client
at the gateway. In a ```console block each `$ ` line is run when it is a `chat-image` command
(and its output compared with the lines shown under it), and checked when it is a `pip
install` (the extras and the wheel exist), a `nox -s` (the sessions exist) or an `export` (a
variable the package reads). The placeholders `https://your-gateway.example` and `sk-...` are
pointed at the gateway.

The line before a block may say how it is tested, as an HTML comment no reader sees:
`<!-- docs-test: skip: WHY -->` (not run; WHY is required, and the skips are counted below),
`<!-- docs-test: pillow -->` (run in the tests-images session), `<!-- docs-test: pytest -->`
(a test file: pytest runs it), `<!-- docs-test: same-as PATH -->` (the text of PATH, a file
run elsewhere). The tests after the generic ones check what particular blocks print and send.
"""

from __future__ import annotations

import inspect
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

import chat_image
from chat_image.testing import FakeGateway, Reply
from cli_kit import image_folder, lines, png
from cli_kit import run as run_cli
from completions import completion
from conftest import API_KEY
from samples import image_bytes
from streams import USAGE, WORDS, answer_events

ROOT = Path(__file__).resolve().parents[2]
PAGES = (
    ROOT / "README.md",
    ROOT / "CONTRIBUTING.md",
    *sorted((ROOT / "docs").rglob("*.md")),
)
# Blocks that do not run. Raising this is a decision a reviewer should see in the diff.
MAX_SKIPPED = 0
RUN_LANGUAGES = ("python", "console")
KINDS = ("skip", "pillow", "pytest", "same-as")
ENV_VARS = frozenset(
    {
        "CHAT_IMAGE_BASE_URL",
        "OPENAI_BASE_URL",
        "CHAT_IMAGE_API_KEY",
        "OPENAI_API_KEY",
        "CHAT_IMAGE_MODEL",
    }
)
# Other projects' packages the docs tell people to install beside this one.
TOOLS = frozenset({"nox", "pytest"})
PLACEHOLDERS = {"https://your-gateway.example": "{url}", "sk-...": API_KEY}
_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+)(?P<info>[^`]*)$")
_MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<kind>[\w-]+)\s*:?\s*(?P<arg>.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    kind: str | None  # from the marker on the line before, if any
    argument: str

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _blocks_of(page: Path) -> list[Block]:
    """The fenced blocks of a Markdown page, with the marker before each, if any."""
    found = []
    text = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(text):
        opening = _FENCE.match(text[index])
        if not opening:
            index += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        body = []
        end = index + 1
        while end < len(text) and text[end].strip() != fence:
            body.append(text[end][indent:])
            end += 1
        before = next((line for line in reversed(text[:index]) if line.strip()), "")
        marker = _MARKER.match(before)
        found.append(
            Block(
                page=page,
                line=index + 1,
                language=opening["info"].strip().split(" ")[0],
                code="\n".join(body) + "\n",
                kind=marker["kind"] if marker else None,
                argument=marker["arg"] if marker else "",
            )
        )
        index = end + 1
    return found


BLOCKS = [block for page in PAGES if page.exists() for block in _blocks_of(page)]
RUNNABLE = [block for block in BLOCKS if block.language in RUN_LANGUAGES]


def _params(language: str) -> list[object]:
    params: list[object] = []
    for block in RUNNABLE:
        if block.language != language:
            continue
        marks = [pytest.mark.pillow] if block.kind == "pillow" else []
        params.append(pytest.param(block, id=block.name, marks=marks))
    return params


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: FakeGateway) -> Path:
    """A folder with the files the examples name, the current directory, and the client's
    environment pointing at the gateway."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cat.png").write_bytes(png(20, 20))
    (tmp_path / "dog.webp").write_bytes(image_bytes("WEBP"))
    (tmp_path / "photo.jpg").write_bytes(image_bytes("JPEG", (3000, 2000)))
    image_folder(tmp_path / "photos", 3)
    monkeypatch.setenv("CHAT_IMAGE_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("CHAT_IMAGE_API_KEY", API_KEY)
    monkeypatch.setenv("CHAT_IMAGE_MODEL", "gpt-4o")
    return tmp_path


def _code(block: Block, server: FakeGateway) -> str:
    code = block.code
    for placeholder, value in PLACEHOLDERS.items():
        code = code.replace(placeholder, value.format(url=server.url))
    return code


def _exec(block: Block, server: FakeGateway) -> dict[str, object]:
    namespace: dict[str, object] = {"__name__": "__docs__"}
    exec(compile(_code(block, server), block.name, "exec"), namespace)
    return namespace


# -- the rules every block follows -------------------------------------------------------


def test_the_pages_have_blocks_to_run():
    assert len(RUNNABLE) >= 30, [block.name for block in RUNNABLE]
    assert {block.page.name for block in RUNNABLE} >= {"README.md", "client.md", "cli.md"}


def test_every_marker_is_known_and_says_why_it_skips():
    for page in PAGES:
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("<!--") and "docs-test" in line:
                marker = _MARKER.match(line)
                assert marker, f"{page.name}:{number}: malformed marker {line!r}"
                assert marker["kind"] in KINDS, f"{page.name}:{number}: unknown {marker['kind']}"
    marked = [block for block in BLOCKS if block.kind]
    assert all(block.language in RUN_LANGUAGES for block in marked), "a marker on a text block"
    skipped = [block for block in BLOCKS if block.kind == "skip"]
    for block in skipped:
        assert len(block.argument) >= 10, f"{block.name}: say why it cannot run"
    assert len(skipped) <= MAX_SKIPPED, [f"{b.name}: {b.argument}" for b in skipped]


@pytest.mark.parametrize("block", _params("python"))
def test_python_block_runs(block: Block, folder: Path, server: FakeGateway, capsys):
    if block.kind == "skip":
        pytest.skip(block.argument)  # counted by the test above
    if block.kind == "same-as":
        assert block.code == (ROOT / block.argument).read_text(encoding="utf-8")
        return
    if block.kind == "pytest":
        (folder / "test_from_docs.py").write_text(_code(block, server), encoding="utf-8")
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W", "error", "-q"]
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return
    _exec(block, server)
    capsys.readouterr()


def _commands(block: Block) -> list[tuple[str, str]]:
    """Each `$ ` line of a console block, with the output shown under it."""
    found: list[tuple[str, list[str]]] = []
    for line in block.code.splitlines():
        if line.startswith("$ "):
            found.append((line[2:], []))
        elif found:
            found[-1][1].append(line)
        else:
            raise AssertionError(f"{block.name}: text before the first `$ ` command: {line!r}")
    return [(command, "\n".join(shown).strip()) for command, shown in found]


def _without_comment(command: str) -> list[str]:
    return shlex.split(command, comments=True)


PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
EXTRAS = frozenset(PYPROJECT["project"]["optional-dependencies"])
VERSION = PYPROJECT["project"]["version"]
WHEEL = f"dist/chat_image-{VERSION}-py3-none-any.whl"
NOXFILE = (ROOT / "noxfile.py").read_text(encoding="utf-8")
NOX_SESSIONS = frozenset(re.findall(r'name="([\w-]+)"', NOXFILE)) | frozenset(
    re.findall(r"@nox\.session\([^)]*\)\ndef (\w+)\(", NOXFILE)
)


def _check_install(words: list[str], where: str) -> None:
    """`pip install TARGET...` installs something that exists today: this clone, or the wheel
    `nox -s build` writes, with extras the project defines."""
    assert words[:2] == ["pip", "install"], where
    for target in words[2:]:
        if target in TOOLS:
            continue
        match = re.fullmatch(r"(?P<base>[^\[]+)(\[(?P<extras>[\w,-]+)\])?", target)
        assert match, f"{where}: cannot read {target!r}"
        assert match["base"] in (".", WHEEL), f"{where}: {target!r} is not this clone or wheel"
        extras = set((match["extras"] or "").split(",")) - {""}
        assert extras <= EXTRAS, f"{where}: no extra {sorted(extras - EXTRAS)}"


def _exported_in(block: Block) -> dict[str, str]:
    exported = {}
    for command, _ in _commands(block):
        words = _without_comment(command)
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            if not value.startswith(("https://your-gateway", "sk-")):
                exported[name] = value
    return exported


def _exported_before(block: Block) -> dict[str, str]:
    """What the `export` lines of the page's console blocks before `block` set, placeholders
    apart: a reader's shell keeps them from one block to the next."""
    exported: dict[str, str] = {}
    for earlier in BLOCKS:
        if earlier.page == block.page and earlier.language == "console":
            if earlier.line >= block.line:
                break
            exported |= _exported_in(earlier)
    return exported


@pytest.mark.parametrize("block", _params("console"))
def test_console_block_runs(block: Block, folder: Path, server: FakeGateway):
    if block.kind == "skip":
        pytest.skip(block.argument)  # counted above
    exported = _exported_before(block)
    for command, shown in _commands(block):
        where = f"{block.name}: $ {command}"
        words = _without_comment(command)
        if words[0] == "pip":
            _check_install(words, where)
        elif words[0] == "nox":
            assert words[1] == "-s", where
            sessions = words[2 : words.index("--")] if "--" in words else words[2:]
            assert sessions, where
            assert set(sessions) <= NOX_SESSIONS, f"{where}: {set(sessions) - NOX_SESSIONS}"
        elif words[0] == "export":
            name, _, value = words[1].partition("=")
            assert name in ENV_VARS, where
            if not value.startswith(("https://your-gateway", "sk-")):
                exported[name] = value
        elif words[0] == "chat-image":
            done = run_cli(*words[1:], url=server.url, cwd=folder, **exported)
            assert done.returncode == 0, f"{where}\n{done.stderr}"
            if shown:
                assert done.stdout.strip() == shown, where
        else:
            raise AssertionError(f"{where}: not a command this test runs; mark the block")


# -- what particular blocks print and send -------------------------------------------------


def _block(page: str, containing: str, language: str = "python") -> Block:
    matches = [
        block
        for block in BLOCKS
        if block.page.relative_to(ROOT).as_posix() == page
        and block.language == language
        and containing in block.code
    ]
    assert len(matches) == 1, f"{page}: {len(matches)} {language} blocks with {containing!r}"
    return matches[0]


@pytest.mark.parametrize(
    ("page", "containing"),
    [
        ("README.md", "UserMessage(["),
        ("README.md", '"role": "system"'),
        ("docs/index.md", "ImagePart.from_path"),
    ],
)
def test_a_quickstart_sends_the_local_image(page, containing, folder, server, capsys):
    _exec(_block(page, containing), server)
    assert "A wooden boardwalk" in capsys.readouterr().out
    assert server.last.path == "/v1/chat/completions"
    parts = server.last.json["messages"][-1]["content"]
    assert server.last.json["messages"][-1]["role"] == "user"
    assert [part["type"] for part in parts] == ["text", "image_url"]
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert server.last.images[0].data == (folder / "cat.png").read_bytes()


@pytest.mark.parametrize(("page", "attempts"), [("README.md", 5), ("docs/errors.md", 2)])
def test_the_errors_example_catches_a_rate_limit(page, attempts, folder, server, capsys):
    server.default = Reply(
        status=429, message="Slow down", headers={"x-request-id": "req_9", "retry-after-ms": "1"}
    )
    _exec(_block(page, "except chat_image.RateLimitError"), server)
    assert capsys.readouterr().out == "rate limited (request req_9): Slow down\n"
    assert server.count == attempts  # the client's max_retries, or the call's


def test_the_error_tree_lists_every_exported_error():
    tree = _block("docs/errors.md", "ChatImageError", language="text").code
    for name in chat_image.__all__:
        obj = getattr(chat_image, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert name in tree, name


def test_the_generated_client_example_retries(folder, server):
    from chat_image_api.api.chat import create_chat_completion
    from chat_image_api.models import ChatCompletionRequest, ChatMessage

    namespace = _exec(_block("docs/client.md", "RetryTransport"), server)
    server.queue(Reply(fault="close"), Reply(body=completion()))
    body = ChatCompletionRequest(
        model="m", messages=[ChatMessage(role="user", content="x")], max_tokens=1
    )
    with namespace["api"] as api:  # one real backoff, of at most 0.5 s
        assert create_chat_completion.sync_detailed(client=api, body=body).status_code == 200
    assert server.count == 2


def test_the_images_example_sends_three_kinds(folder, server, capsys):
    _exec(_block("docs/images.md", "from_bytes"), server)
    assert "A wooden boardwalk" in capsys.readouterr().out
    content = server.last.json["messages"][0]["content"]
    assert [part["type"] for part in content] == ["text", "image_url", "image_url", "image_url"]
    assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert content[2]["image_url"]["url"].startswith("data:image/webp;base64,")
    assert content[3]["image_url"]["url"] == "https://example.com/bird.jpg"


def test_the_refusal_quoted_in_the_images_guide_is_the_real_one(folder):
    (folder / "notes.png").write_bytes(b"%PDF-1.7\n")
    with pytest.raises(chat_image.InvalidImageError) as caught:
        chat_image.ImagePart.from_path("notes.png")
    page = (ROOT / "docs" / "images.md").read_text(encoding="utf-8")
    assert f"`{caught.value}`" in " ".join(page.split())


def test_the_token_arithmetic_example_prints_what_it_says(folder, server, capsys):
    _exec(_block("docs/images.md", "estimate_image_tokens("), server)
    assert capsys.readouterr().out == "765\n"


@pytest.mark.pillow
def test_the_resize_example_prints_size_and_tokens(folder, server, capsys):
    _exec(_block("docs/images.md", "resize=True"), server)
    # 3000 x 2000 -> within 2048 x 2048 -> short side 768: 1152 x 768, 3 x 2 tiles.
    assert capsys.readouterr().out.split() == ["(1152,", "768)", "1105"]


def _stream_from(server: FakeGateway) -> None:
    server.default = Reply(
        stream_body=answer_events(usage=True), headers={"x-request-id": "req_stream"}
    )


def test_the_streaming_example_prints_as_it_streams(folder, server, capsys):
    _stream_from(server)
    _exec(_block("docs/streaming.md", "stream_options"), server)
    assert capsys.readouterr().out.splitlines() == [
        "".join(WORDS),
        f"stop {USAGE['total_tokens']}",
        "req_stream",
    ]
    assert server.last.json["stream_options"] == {"include_usage": True}


def test_the_readme_streaming_example_streams(folder, server, capsys):
    _stream_from(server)
    _exec(_block("README.md", "stream=True"), server)
    assert capsys.readouterr().out == "".join(WORDS) + "\n"


def test_the_async_streaming_example_accumulates(folder, server, capsys):
    _stream_from(server)
    _exec(_block("docs/streaming.md", "ChatCompletionAccumulator()"), server)
    assert capsys.readouterr().out == "".join(WORDS) + "\n"
    assert server.last.json["stream"] is True


def test_the_stream_failure_table_names_real_errors():
    page = (ROOT / "docs" / "streaming.md").read_text(encoding="utf-8")
    table = page.split("## How a stream fails", 1)[1]
    named = set(re.findall(r"`(API\w+Error)`", table))
    assert named >= {"APIStatusError", "APIResponseValidationError", "APIConnectionError"}
    for name in named:
        assert issubclass(getattr(chat_image, name), chat_image.APIError)


def test_the_command_line_examples_answer_and_write(folder, server):
    for page in ("docs/cli.md", "README.md"):
        blocks = [b for b in RUNNABLE if b.name.startswith(page) and "$ chat-image " in b.code]
        ran = []
        for block in blocks:
            for line, shown in _commands(block):
                words = _without_comment(line)
                if words[0] != "chat-image":
                    continue
                exported = _exported_before(block) | _exported_in(block)
                done = run_cli(*words[1:], url=server.url, cwd=folder, **exported)
                assert done.returncode == 0, done.stderr
                assert done.stdout.strip() == shown
                ran.append(words[1])
        assert ran == ["ask", "batch"], page
        assert len(lines(folder / "answers.jsonl")) == 3  # one line per image in photos/
        (folder / "answers.jsonl").unlink()
    assert server.count == 2 * (1 + 3)


def test_every_install_command_in_prose_works_today_or_says_when_it_will():
    """Inline `pip install ...` too: this clone or the wheel, with real extras; the PyPI form
    only in a paragraph that says it applies once the package is published."""
    seen = 0
    for page in PAGES:
        if not page.exists():
            continue
        for paragraph in re.split(r"\n\s*\n", page.read_text(encoding="utf-8")):
            for command in re.findall(r"`(pip install [^`]+)`", paragraph):
                seen += 1
                words = shlex.split(command)
                if any(word.startswith("chat-image") for word in words[2:]):
                    assert "published" in paragraph, f"{page.name}: {command}"
                    continue
                _check_install(words, f"{page.name}: {command}")
    assert seen >= 5


def test_the_run_batch_example_answers_the_folder(folder, server, capsys):
    _exec(_block("docs/cli.md", "run_batch("), server)
    assert capsys.readouterr().out.split() == ["3", "0", "0"]
    assert {line["status"] for line in lines(folder / "answers.jsonl")} == {"ok"}


def test_the_testing_guide_shows_the_example_file_as_it_is():
    block = _block("docs/testing.md", "def describe(")
    assert (block.kind, block.argument) == ("same-as", "examples/test_with_fake_gateway.py")
    assert block.code == (ROOT / block.argument).read_text(encoding="utf-8")


def test_the_install_lines_are_checked_against_the_real_project():
    with pytest.raises(AssertionError, match="no extra"):
        _check_install(["pip", "install", ".[pillow]"], "example")
    with pytest.raises(AssertionError, match="not this clone or wheel"):
        _check_install(["pip", "install", "chat-image[images]"], "example")
    _check_install(["pip", "install", f"{WHEEL}[images,cli]"], "example")
    assert {"tests", "docs", "build", "generate"} <= NOX_SESSIONS


def _table_names(page: str, heading: str) -> set[str]:
    """The backticked names in the first column of the table under `heading`."""
    section = (ROOT / page).read_text(encoding="utf-8").split(heading, 1)[1].split("\n## ")[0]
    names: set[str] = set()
    for row in re.findall(r"^\| ([^|]+) \|", section, flags=re.MULTILINE):
        names |= set(re.findall(r"`(\w+)`", row))
    return names


def test_the_client_guide_lists_every_option_of_the_clients_and_of_create():
    listed = _table_names("docs/client.md", "## Client options")
    for client_class in (chat_image.ChatImage, chat_image.AsyncChatImage):
        assert set(inspect.signature(client_class).parameters) <= listed, client_class
    params = chat_image.CompletionParams
    expected = params.__required_keys__ | params.__optional_keys__ | {"stream", "stream_options"}
    assert expected <= _table_names("docs/client.md", "## `create()` options")
