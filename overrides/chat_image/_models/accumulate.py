"""`ChatCompletionAccumulator`: the chunks of a stream joined into the completion they make."""

from __future__ import annotations

from typing import Any

from .chunk import ChatCompletionChunk, ChoiceDelta, ChoiceDeltaToolCall, ChunkChoice
from .completion import (
    ChatCompletion,
    ChatCompletionMessage,
    ChatCompletionMessageToolCall,
    Choice,
    Function,
    Usage,
)

__all__ = ["ChatCompletionAccumulator"]


class _ToolCall:
    """One tool call being assembled from its deltas."""

    __slots__ = ("arguments", "extra", "id", "name", "type")

    def __init__(self) -> None:
        self.id: str | None = None
        self.type: str | None = None
        self.name: str | None = None
        self.arguments: list[str] | None = None
        self.extra: dict[str, Any] = {}

    def add(self, delta: ChoiceDeltaToolCall) -> None:
        # Gateways differ on whether they repeat the id, type and name in later deltas:
        # the first one given stands; only the arguments come in pieces.
        self.id = self.id or delta.id
        self.type = self.type or delta.type
        self.extra.update(delta.extra)
        function = delta.function
        if function is not None:
            self.name = self.name or function.name
            if function.arguments is not None:
                if self.arguments is None:
                    self.arguments = []
                self.arguments.append(function.arguments)

    def build(self) -> ChatCompletionMessageToolCall:
        arguments = None if self.arguments is None else "".join(self.arguments)
        function = (
            None if self.name is None and arguments is None else Function(self.name, arguments)
        )
        return ChatCompletionMessageToolCall(
            self.id, self.type or "function", function, dict(self.extra)
        )


class _Choice:
    """One choice's message being assembled from its deltas."""

    __slots__ = ("content", "extra", "finish_reason", "logprobs", "refusal", "role", "tools")

    def __init__(self) -> None:
        self.role: str | None = None
        self.content: list[str] | None = None
        self.refusal: list[str] | None = None
        self.tools: dict[int, _ToolCall] = {}
        # Unknown string deltas (reasoning text) are joined; anything else, the last wins.
        self.extra: dict[str, Any] = {}
        self.finish_reason: str | None = None
        self.logprobs: Any = None

    def add(self, choice: ChunkChoice) -> None:
        delta: ChoiceDelta = choice.delta
        if delta.role is not None:
            self.role = self.role or delta.role
        if delta.content is not None:
            if self.content is None:
                self.content = []
            self.content.append(delta.content)
        if delta.refusal is not None:
            if self.refusal is None:
                self.refusal = []
            self.refusal.append(delta.refusal)
        for call in delta.tool_calls or ():
            self.tools.setdefault(call.index, _ToolCall()).add(call)
        for key, value in delta.extra.items():
            previous = self.extra.get(key)
            if isinstance(value, str) and isinstance(previous, str):
                self.extra[key] = previous + value
            elif value is not None:
                self.extra[key] = value
        if choice.finish_reason is not None:
            self.finish_reason = choice.finish_reason
        self.logprobs = _join_logprobs(self.logprobs, choice.logprobs)

    def build(self, index: int) -> Choice:
        message = ChatCompletionMessage(
            self.role or "assistant",
            None if self.content is None else "".join(self.content),
            None if self.refusal is None else "".join(self.refusal),
            dict(self.extra),
            tuple(self.tools[key].build() for key in sorted(self.tools)) or None,
        )
        return Choice(index, message, self.finish_reason, self.logprobs)


def _join_logprobs(joined: Any, new: Any) -> Any:
    """OpenAI's `{"content": [...], "refusal": [...]}`: the token lists are concatenated."""
    if new is None:
        return joined
    if not isinstance(joined, dict) or not isinstance(new, dict):
        return new
    merged = dict(joined)
    for key, value in new.items():
        previous = merged.get(key)
        merged[key] = (
            previous + value if isinstance(previous, list) and isinstance(value, list) else value
        )
    return merged


class ChatCompletionAccumulator:
    """Feed it chunks (`add`), get the `ChatCompletion` they add up to.

    What `Stream.get_final_completion()` uses; for callers who handle the chunks themselves.
    Content, refusal and unknown string deltas (reasoning text) are joined per choice
    `index`, tool-call arguments per tool `index`; the last `finish_reason` and the usage
    chunk's `usage` stand.
    """

    __slots__ = (
        "_choices",
        "_chunks",
        "_created",
        "_extra",
        "_fingerprint",
        "_id",
        "_model",
        "_usage",
    )

    def __init__(self) -> None:
        self._choices: dict[int, _Choice] = {}
        self._chunks = 0
        self._id: str | None = None
        self._created: int | None = None
        self._model: str | None = None
        self._fingerprint: str | None = None
        self._usage: Usage | None = None
        self._extra: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(chunks={self._chunks}, choices={len(self._choices)})"

    def add(self, chunk: ChatCompletionChunk) -> ChatCompletionChunk:
        """Take one chunk into the total; returns it, so that a loop can pass it on."""
        self._chunks += 1
        self._id = self._id or chunk.id
        self._created = self._created or chunk.created
        self._model = self._model or chunk.model
        self._fingerprint = chunk.system_fingerprint or self._fingerprint
        if chunk.usage is not None:
            self._usage = chunk.usage
        if chunk.extra:
            self._extra.update(chunk.extra)
        choices = self._choices
        for choice in chunk.choices:
            state = choices.get(choice.index)
            if state is None:
                state = choices[choice.index] = _Choice()
            state.add(choice)
        return chunk

    def finished(self) -> bool:
        """Whether chunks came and every choice they named has its `finish_reason`."""
        return bool(self._choices) and all(
            choice.finish_reason is not None for choice in self._choices.values()
        )

    def get_final_completion(self) -> ChatCompletion:
        """The completion the chunks so far add up to, as a non-streamed call returns it."""
        return ChatCompletion(
            self._id,
            tuple(self._choices[index].build(index) for index in sorted(self._choices)),
            self._created,
            self._model,
            "chat.completion",
            self._usage,
            self._fingerprint,
            dict(self._extra),
        )
