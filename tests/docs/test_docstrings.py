"""The entry points' docstrings name every argument they take and what they raise.

Read by `help()`, editors and the API reference (`nox -s docs`); a new argument without a
line in its entry point's `Args:` fails here.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable

import pytest

import chat_image
from chat_image import AsyncChatImage, ChatImage, CompletionParams, RetryPolicy, Stream
from chat_image.batch import run_batch
from chat_image.testing import FakeGateway


def _sections(doc: str) -> dict[str, str]:
    """A Google-style docstring's sections (`Args`, `Returns`, `Raises`) by name."""
    found = {}
    for match in re.finditer(r"^ *(Args|Returns|Raises):\n(.*?)(?=^ *\w+:\n|\Z)", doc, re.M | re.S):
        found[match[1]] = match[2]
    return found


def _documented(section: str) -> set[str]:
    """The names an `Args:` or `Raises:` section lists, one per entry."""
    indent = min(len(line) - len(line.lstrip()) for line in section.splitlines() if line.strip())
    return {
        line.strip().split(":", 1)[0].lstrip("*")
        for line in section.splitlines()
        if line.strip() and len(line) - len(line.lstrip()) == indent
    }


def _completions(client_class: type) -> Callable[..., object]:
    client = client_class(api_key="sk-docstrings", base_url="http://127.0.0.1:9")
    return type(client.chat.completions).create  # the overloads' implementation


ENTRY_POINTS = {
    "ChatImage": (ChatImage, ChatImage.__init__),
    "AsyncChatImage": (AsyncChatImage, AsyncChatImage.__init__),
    "run_batch": (run_batch, run_batch),
    "RetryPolicy": (RetryPolicy, RetryPolicy.__init__),
    "Stream": (Stream, Stream.__init__),
    "FakeGateway": (FakeGateway, FakeGateway.__init__),
}


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_an_entry_point_documents_its_arguments_and_errors(name):
    documented, signed = ENTRY_POINTS[name]
    sections = _sections(inspect.getdoc(documented) or "")
    assert {"Args", "Raises"} <= set(sections), name
    parameters = set(inspect.signature(signed).parameters) - {"self"}
    assert _documented(sections["Args"]) == parameters, name
    for error in _documented(sections["Raises"]):
        assert (
            error in {"TypeError", "ValueError"}
            or hasattr(chat_image, error)
            or error
            in {
                "JournalBusyError",
                "UnsupportedSchemaError",
            }
        ), f"{name} raises an unknown {error}"


@pytest.mark.parametrize("client_class", [ChatImage, AsyncChatImage])
def test_create_documents_every_argument_it_takes(client_class):
    create = _completions(client_class)
    sections = _sections(inspect.getdoc(create) or "")
    assert {"Args", "Raises"} <= set(sections)
    args = _documented(sections["Args"])
    assert args >= {"model", "messages", "max_tokens", "stream", "stream_options", "params"}
    # The optional ones are named in the `**params` entry.
    rest = CompletionParams.__optional_keys__
    for option in rest:
        assert f"`{option}`" in sections["Args"], option
    raised = _documented(sections["Raises"])
    assert {"InvalidInputError", "APIStatusError", "APIConnectionError"} <= raised
