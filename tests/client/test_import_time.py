"""The import-time promise, held structurally: what `import chat_image` does not load.

Timing is for `nox -s bench`; here each check runs a fresh interpreter and looks at
`sys.modules`, so a top-level import that creeps back in fails whatever the machine's speed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import chat_image
from chat_image.testing import FakeGateway

# Never loaded by `import chat_image`, nor by a sync program's imports and calls.
HEAVY = ("asyncio", "PIL", "aiohttp", "httpx_aiohttp")


def _module_of(obj: object) -> str:
    return obj.__module__  # type: ignore[attr-defined]


# Where the public objects live, read from the objects: the promise is about what loads, not
# about module names, which are private and free to move.
CLIENT = _module_of(chat_image.ChatImage)
COMPLETION = _module_of(chat_image.ChatCompletion)
RETRY = _module_of(chat_image.RetryPolicy)
STREAMING = frozenset(
    {
        _module_of(chat_image.Stream),
        _module_of(chat_image.ChatCompletionChunk),
        _module_of(sys.modules[_module_of(chat_image.Stream)].SSEDecoder),
    }
)
# Loaded when a name from them is first used, not at `import chat_image`.
DEFERRED = (
    CLIENT,
    COMPLETION,
    RETRY,
    *STREAMING,
    _module_of(chat_image.ChatCompletionAccumulator),
    _module_of(chat_image.RetryTransport),
    _module_of(chat_image.DefaultAioHttpClient),
    "chat_image_api",
    "attrs",
    "httpx",
)


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running `code`."""
    program = textwrap.dedent(code) + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", program], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_import_chat_image_loads_nothing_heavy():
    loaded = loaded_after("import chat_image")
    assert "chat_image" in loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    assert loaded.isdisjoint(DEFERRED), sorted(loaded & set(DEFERRED))


def test_every_public_name_loads_without_asyncio_pillow_or_aiohttp():
    # `from chat_image import *` touches every name in __all__, so every module behind them.
    loaded = loaded_after("from chat_image import *")
    assert CLIENT in loaded
    assert loaded >= STREAMING
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_a_sync_call_loads_neither_asyncio_nor_the_streaming_modules():
    with FakeGateway() as gateway:
        loaded = loaded_after(
            f"""
            from chat_image import ChatImage, UserMessage
            with ChatImage(base_url={gateway.base_url!r}, api_key={gateway.api_key!r}) as c:
                answer = c.chat.completions.create(
                    model="m", messages=[UserMessage("Hi")], max_tokens=5
                )
            assert answer.choices[0].message.content
            """
        )
        assert gateway.count == 1
    assert COMPLETION in loaded
    deferred = {*HEAVY, *STREAMING}
    assert loaded.isdisjoint(deferred), sorted(loaded & deferred)


def test_a_stream_loads_its_modules_when_it_streams():
    with FakeGateway() as gateway:
        loaded = loaded_after(
            f"""
            from chat_image import ChatImage, UserMessage
            with ChatImage(base_url={gateway.base_url!r}, api_key={gateway.api_key!r}) as c:
                with c.chat.completions.create(
                    model="m", messages=[UserMessage("Hi")], max_tokens=5, stream=True
                ) as stream:
                    assert stream.get_final_completion().choices[0].message.content
            """
        )
    assert loaded >= STREAMING
    assert "asyncio" not in loaded


def test_making_an_async_client_leaves_asyncio_to_the_event_loop():
    # asyncio comes with the loop the client runs in; making the client does not import it.
    loaded = loaded_after(
        """
        from chat_image import AsyncChatImage
        AsyncChatImage(base_url="http://127.0.0.1:9", api_key="sk-unused-key")
        """
    )
    assert RETRY in loaded
    assert "asyncio" not in loaded


@pytest.mark.parametrize("name", chat_image.__all__)
def test_every_public_name_resolves_from_its_module(name):
    value = getattr(chat_image, name)
    assert value is not None
    assert name in dir(chat_image)
    module = getattr(value, "__module__", None)
    if isinstance(value, type) and module is not None and module.startswith("chat_image."):
        # The name is the defining module's own object, not a copy.
        assert getattr(sys.modules[module], name) is value


def test_the_lazy_table_is_exactly_the_public_api():
    lazy_names = {name for names in chat_image._LAZY.values() for name in names}
    assert lazy_names | {"__version__"} == set(chat_image.__all__)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        _ = chat_image.Nope  # type: ignore[attr-defined]
    with pytest.raises(ImportError):
        exec("from chat_image import Nope", {})


def test_the_typing_is_the_same_for_type_checkers(tmp_path):
    # The lazy loading is invisible to mypy: names keep their types, unknown ones are errors.
    user = tmp_path / "user.py"
    user.write_text(
        textwrap.dedent(
            """
            import chat_image
            from chat_image import AsyncStream, ChatImage, UserMessage

            client = ChatImage(api_key="sk-unused-key", base_url="http://127.0.0.1:9")
            answer = client.chat.completions.create(
                model="m", messages=[UserMessage("Hi")], max_tokens=5
            )
            reveal_type(answer)
            reveal_type(chat_image.DEFAULT_TIMEOUT)
            reveal_type(AsyncStream)
            chat_image.Nope
            """
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(tmp_path / "cache"),
            "user.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = result.stdout
    assert f'Revealed type is "{COMPLETION}.ChatCompletion"' in out
    assert 'Revealed type is "httpx._config.Timeout"' in out
    assert f"{_module_of(chat_image.AsyncStream)}.AsyncStream" in out
    assert 'Module has no attribute "Nope"' in out
    assert "Found 1 error" in out, out
