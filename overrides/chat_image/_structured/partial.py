"""JSON still arriving: the complete part of a streamed answer, as a value, at every delta.

A partial object never shows an unfinished key, shows a number (or `true`, `null`) only once
a delimiter says it is whole, never loses a key it showed, and shows a string value as far as
it has come (as the `openai` package does). Written here rather than taken from a library
(see docs/structured-output.md, "Choices"): jiter's partial mode returns a number at the end
of the buffer that may still grow (`{"total": 15` -> 15, later 150), and partial-json-parser
completes `tr` to `true` and `12.` to `12`.

Each delta's new characters are scanned once (a small state machine); the value is decoded
by `json.loads` from the text up to the last complete point, closed with the brackets still
open, only when that point moved.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

__all__ = ["PartialJSON", "PartialView"]

_WHITESPACE: Final = frozenset(" \t\r\n")
_CLOSERS: Final = {"{": "}", "[": "]"}
_THINK_OPEN: Final = re.compile(r"\s*<(think|thinking|reasoning)>", re.IGNORECASE)

# What a frame (an open object or array) waits for next.
_KEY: Final = 0  # a key or the end of the object
_COLON: Final = 1
_VALUE: Final = 2  # a value (or, in an array just opened, its end)
_NEXT: Final = 3  # a comma or the end


class PartialJSON:
    """Feed text deltas; `value` is the complete part so far (None before any bracket)."""

    def __init__(self, *, trailing_strings: bool = True) -> None:
        self.text = ""
        self.done = False
        self.items_done: list[Any] = []
        """The complete elements of the list answered (at the root, or in a one-key
        wrapper object), decoded, in order: what `list[X]` streams item by item."""
        self._trailing = trailing_strings
        self._start = -1  # where the JSON begins in `text`
        self._scanned = 0
        self._stack: list[str] = []
        self._states: list[int] = []
        self._in_string = False
        self._string_is_key = False
        self._escape = False
        self._token_start = -1  # a number or literal being read
        self._safe_end = -1
        self._safe_closers = ""
        self._view_key: tuple[int, str] = (-1, "")
        self._view = _NOTHING
        self._items_depth = 0
        self._item_start = -1
        self._think_end = 0

    @property
    def started(self) -> bool:
        return self._start >= 0

    def feed(self, delta: str) -> None:
        """Add the next piece of the answer."""
        if not delta or self.done:
            self.text += delta
            return
        self.text += delta
        if self._start < 0 and not self._find_start():
            return
        self._scan()

    def _find_start(self) -> bool:
        text = self.text
        if self._think_end == 0:
            match = _THINK_OPEN.match(text)
            if match:
                close = text.find(f"</{match.group(1)}", match.end())
                if close < 0:
                    return False
                end = text.find(">", close)
                if end < 0:
                    return False
                self._think_end = end + 1
            elif not text.strip() or _could_open_think(text):
                return False
            else:
                self._think_end = -1
        begin = max(self._think_end, 0)
        starts = [i for i in (text.find("{", begin), text.find("[", begin)) if i >= 0]
        if not starts:
            return False
        self._start = min(starts)
        self._scanned = self._start
        self._items_depth = 1 if text[self._start] == "[" else 2
        return True

    def _safe(self, end: int) -> None:
        self._safe_end = end
        self._safe_closers = "".join(_CLOSERS[frame] for frame in reversed(self._stack))

    def _value_done(self, end: int) -> None:
        """A value ended just before `end`: a complete point for its container."""
        if self._stack:
            self._states[-1] = _NEXT
            if len(self._stack) == self._items_depth and self._stack[-1] == "[":
                if self._item_start >= 0:
                    self.items_done.append(json.loads(self.text[self._item_start : end]))
                self._item_start = -1
        self._safe(end)

    def _value_begins(self, at: int) -> None:
        if len(self._stack) == self._items_depth and self._stack[-1] == "[":
            self._item_start = at

    def _end_token(self, end: int) -> None:
        self._token_start = -1
        self._value_done(end)

    def _scan(self) -> None:
        text = self.text
        i = self._scanned
        n = len(text)
        stack, states = self._stack, self._states
        while i < n and not self.done:
            ch = text[i]
            if self._in_string:
                if self._escape:
                    self._escape = False
                elif ch == "\\":
                    self._escape = True
                elif ch == '"':
                    self._in_string = False
                    if self._string_is_key:
                        states[-1] = _COLON
                    else:
                        self._value_done(i + 1)
                i += 1
                continue
            if self._token_start >= 0:
                if ch in _WHITESPACE or ch in ",]}":
                    self._end_token(i)
                    # the delimiter is handled below
                else:
                    i += 1
                    continue
            if ch in _WHITESPACE:
                i += 1
                continue
            state = states[-1] if states else _VALUE
            if state == _KEY:
                if ch == '"':
                    self._in_string, self._string_is_key = True, True
                elif ch == "}":
                    self._close(i)
            elif state == _COLON:
                if ch == ":":
                    states[-1] = _VALUE
            elif state == _VALUE:
                if ch == "]" and stack and stack[-1] == "[":
                    self._close(i)
                else:
                    self._value_begins(i)
                    if ch in "{[":
                        stack.append(ch)
                        states.append(_KEY if ch == "{" else _VALUE)
                        self._safe(i + 1)
                    elif ch == '"':
                        self._in_string, self._string_is_key = True, False
                    else:
                        self._token_start = i
            elif ch == ",":
                states[-1] = _KEY if stack[-1] == "{" else _VALUE
            elif ch in "]}":
                self._close(i)
            i += 1
        self._scanned = i

    def _close(self, at: int) -> None:
        self._stack.pop()
        self._states.pop()
        if not self._stack:
            self.done = True
            self._safe(at + 1)
            return
        self._value_done(at + 1)

    def view(self) -> PartialView:
        """The complete part as it is now, decoded only if asked (`PartialView.value`)."""
        if self._safe_end < 0:
            return _NOTHING
        end, closers = self._safe_end, self._safe_closers
        if self._trailing and self._in_string and not self._string_is_key:
            end = len(self.text)
            if self._escape:
                end -= 1
            # A \uXXXX escape not yet whole would not decode: leave it for the next delta.
            tail = self.text[max(end - 6, 0) : end]
            cut = tail.rfind("\\u")
            if cut >= 0 and len(tail) - cut < 6:
                end -= len(tail) - cut
            closers = '"' + "".join(_CLOSERS[frame] for frame in reversed(self._stack))
        key = (end, closers)
        if key != self._view_key:
            self._view_key = key
            self._view = PartialView(self.text, self._start, end, closers)
        return self._view

    @property
    def value(self) -> Any:
        """The complete part so far, decoded; None before the JSON starts."""
        return self.view().value


class PartialView:
    """The complete part of the JSON at one moment; decoded once, when first asked."""

    __slots__ = ("_closers", "_decoded", "_end", "_start", "_text", "_value")

    def __init__(self, text: str, start: int, end: int, closers: str) -> None:
        self._text, self._start, self._end, self._closers = text, start, end, closers
        self._decoded = False
        self._value: Any = None

    @property
    def value(self) -> Any:
        if not self._decoded:
            if self._end >= 0:
                try:
                    self._value = json.loads(self._text[self._start : self._end] + self._closers)
                except ValueError:
                    self._value = None  # not JSON after all (prose with a brace, say)
            self._decoded = True
        return self._value


_NOTHING: Final = PartialView("", 0, -1, "")


def _could_open_think(text: str) -> bool:
    """Whether `text` may still become the start of a `<think>` tag."""
    stripped = text.lstrip().lower()
    return any(tag.startswith(stripped) for tag in ("<think>", "<thinking>", "<reasoning>"))
