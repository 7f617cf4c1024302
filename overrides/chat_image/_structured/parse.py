"""`parse()`: the conversation a structured answer takes, over the public `create()`.

`plan` decides every request and reads every answer, with no I/O: it yields the keyword
arguments of the next `create()` and is sent back the completion (or the status error the
gateway answered). `parse_sync` and `parse_async` only do the sending, so the re-asks and
the fallback ladder are written once. Transport retries (429, 5xx, connection) happen inside
`create()` as for any call and spend no re-ask.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import Any, Final

import attrs

from .._exceptions import APIStatusError
from .._models.completion import ChatCompletion, ChatCompletionMessageToolCall, Usage
from .._tracing import tracing_of
from .._validation import check_parse_options
from .convert import Problem
from .extract import candidates, looks_like_schema, unwrap
from .ladder import (
    MODES,
    Learned,
    classify_refusal,
    instruction,
    learned_for,
    next_mode,
    reask_text,
)
from .outcomes import (
    ContentFilterFinishReasonError,
    LengthFinishReasonError,
    Mode,
    ParsedChatCompletion,
    ParsedChatCompletionMessage,
    ParsedChoice,
    ParsedFunction,
    ParsedFunctionToolCall,
    ResponseFormatUnsupportedError,
    StructuredOutputError,
    add_usage,
)
from .partial import PartialJSON
from .strict import portable
from .target import Target, prepare
from .tools import function_tool

__all__ = ["Reading", "check_options", "parse_async", "parse_sync", "plan", "read_message"]

_AUTO: Final = "auto"
Plan = Generator[dict[str, Any], "ChatCompletion | APIStatusError", "ParsedChatCompletion[Any]"]


def check_options(mode: object, max_reasks: object) -> str:
    """`mode` and `max_reasks` checked before anything is sent."""
    return check_parse_options(mode, max_reasks, MODES)


@attrs.frozen
class Reading:
    """What one message gave: the value, or why not (`kind`: invalid, no_json, schema_echo)."""

    ok: bool
    value: Any = None
    kind: str = ""
    problems: tuple[Problem, ...] = ()


def read_message(target: Target, content: str | None, extra: Mapping[str, Any] | None) -> Reading:
    """The `T` in an answer's message, tolerantly found and strictly checked."""
    if target.decode is not None and content and content[0] == "{":
        try:
            return Reading(True, target.decode(content))
        except Exception:  # noqa: S110 - not exactly valid JSON of T: the tolerant path says why
            pass
    found = candidates(content, extra)
    if not found:
        return Reading(False, kind="no_json", problems=(Problem("", "the answer has no JSON"),))
    first: Reading | None = None
    for value in found:
        for data in _interpretations(target, value):
            if looks_like_schema(data, target.properties):
                reading = Reading(
                    False,
                    kind="schema_echo",
                    problems=(Problem("", "the answer is the JSON Schema, not an instance"),),
                )
            else:
                converted, problems = target.convert(data)
                if not problems:
                    return Reading(True, converted)
                reading = Reading(False, kind="invalid", problems=tuple(problems))
            first = first or reading
    assert first is not None
    return first


def _interpretations(target: Target, value: Any) -> list[Any]:
    """The value as the wire object means it: unwrapped from our wrapper or the model's."""
    key = target.wrapper_key
    found = []
    if key is not None:
        if isinstance(value, dict) and key in value and len(value) == 1:
            found.append(value[key])
        elif isinstance(value, list) and key == "items":
            found.append(value)
        inner = unwrap(value, target.name, frozenset({key}))
        if isinstance(inner, dict) and key in inner:
            found.append(inner[key])
        return found or [value]
    found.append(value)
    inner = unwrap(value, target.name, target.properties)
    if inner is not None:
        found.append(inner)
    return found


def _partial_of(content: str | None) -> Any:
    if not content:
        return None
    reader = PartialJSON(trailing_strings=False)
    reader.feed(content)
    value = reader.value
    return value if value else None


def _request(
    params: Mapping[str, Any],
    messages: list[Any],
    turns: list[dict[str, Any]],
    target: Target,
    mode: Mode,
    learned_portable: tuple[str, ...] | None,
) -> dict[str, Any]:
    request = {key: value for key, value in params.items() if key != "messages"}
    sent = list(messages)
    if mode != "json_schema":
        sent.insert(0, {"role": "system", "content": instruction(target, mode)})
    sent.extend(turns)
    request["messages"] = sent
    if mode == "json_schema":
        response_format = target.response_format()
        if learned_portable is not None:
            schema = portable(target.wire, learned_portable)
            response_format["json_schema"] = {
                **response_format["json_schema"],
                "schema": schema,
                "strict": False,
            }
        request["response_format"] = response_format
    elif mode == "json_object":
        request["response_format"] = {"type": "json_object"}
    return request


def _unsupported(error: APIStatusError, mode: Mode) -> ResponseFormatUnsupportedError:
    refused = ResponseFormatUnsupportedError(error.response, error.body)
    refused.mode = mode
    return refused


def plan(
    client: object,
    base_url: str,
    response_format: object,
    mode: str,
    max_reasks: int,
    params: Mapping[str, Any],
) -> Plan:
    """The requests of one `parse()` call; see the module's docstring."""
    target = prepare(response_format)
    messages = list(params["messages"])  # an iterator is read once; the caller's list is kept
    explicit = mode != _AUTO
    learned = Learned(start=mode) if explicit else learned_for(client, base_url, params["model"])  # type: ignore[arg-type]
    current: Mode = learned.start
    use_portable = learned.portable if current == "json_schema" else None
    portable_tried = use_portable is not None
    turns: list[dict[str, Any]] = []
    errors: list[list[Problem]] = []
    total: Usage | None = None
    attempts = 0
    reasks = 0
    while True:
        result = yield _request(params, messages, turns, target, current, use_portable)
        if isinstance(result, APIStatusError):
            refusal = classify_refusal(result.status_code, result.error_message, result.param)
            if refusal is None or current == "prompt":
                raise result
            if explicit:
                raise _unsupported(result, current) from result
            if refusal.kind == "schema" and current == "json_schema" and not portable_tried:
                portable_tried = True
                use_portable = refusal.keywords
                continue
            lower = next_mode(current)
            assert lower is not None
            current, use_portable = lower, None
            learned.start, learned.portable = current, None
            continue
        attempts += 1
        total = add_usage(total, result.usage)
        readings: list[Reading | None] = []
        for choice in result.choices:
            if choice.finish_reason == "length":
                raise LengthFinishReasonError(
                    result, _partial_of(choice.message.content), total_usage=total
                )
            if choice.finish_reason == "content_filter":
                raise ContentFilterFinishReasonError(result)
            if choice.message.refusal or choice.message.tool_calls:
                # A refusal, or tool calls to answer first: no content to parse, no re-ask.
                readings.append(None)
                continue
            readings.append(read_message(target, choice.message.content, choice.message.extra))
        failed = next((r for r in readings if r is not None and not r.ok), None)
        if failed is None:
            if not explicit and use_portable is not None:
                learned.portable = use_portable
            return _parsed(result, readings, total, attempts, current, strict_tools(params))
        errors.append(list(failed.problems))
        format_ignored = failed.kind == "no_json" and current != "prompt"
        if format_ignored and not explicit:
            # A gateway that answers prose to a format ignores it: from now on the schema
            # goes in the prompt.
            learned.start, learned.portable = "prompt", None
        if reasks >= max_reasks or len(result.choices) != 1:
            raise StructuredOutputError(
                attempts=attempts,
                errors=errors,
                last_content=result.choices[0].message.content if result.choices else None,
                total_usage=total,
                completion=result,
            )
        reasks += 1
        message = result.choices[0].message
        said = message.content
        if not said:
            reasoning = message.extra.get("reasoning_content") or message.extra.get("reasoning")
            said = reasoning if isinstance(reasoning, str) and reasoning else "(no answer)"
        turns = [
            *turns,
            {"role": "assistant", "content": said},
            {
                "role": "user",
                "content": reask_text(
                    failed.kind, failed.problems, target, with_schema=format_ignored
                ),
            },
        ]


def strict_tools(params: Mapping[str, Any]) -> dict[str, Target]:
    """The tools whose arguments `parse()` parses, by name, each prepared to check them: a
    strict tool dict (into a dict checked against its schema), and a tool given as a class
    (a dataclass, TypedDict, attrs class or pydantic model: into that class, as the `openai`
    package does for its pydantic tools)."""
    tools = params.get("tools")
    if tools is None:
        tools = (params.get("extra_body") or {}).get("tools")
    found: dict[str, Target] = {}
    for tool in tools or ():
        if isinstance(tool, type):
            name = function_tool(tool)["function"]["name"]
            found[name] = prepare(tool)
            continue
        tool_dict = tool.to_dict() if hasattr(tool, "to_dict") else tool
        function = tool_dict.get("function") if isinstance(tool_dict, Mapping) else None
        if not isinstance(function, Mapping) or function.get("strict") is not True:
            continue
        name, schema = function.get("name"), function.get("parameters")
        if isinstance(name, str) and isinstance(schema, Mapping):
            found[name] = prepare(schema)
    return found


def _tool_calls(
    calls: tuple[ChatCompletionMessageToolCall, ...] | None, tools: Mapping[str, Target]
) -> tuple[ChatCompletionMessageToolCall, ...] | None:
    if calls is None:
        return None
    parsed: list[ChatCompletionMessageToolCall] = []
    for call in calls:
        function = call.function
        arguments = None
        target = tools.get(function.name or "") if function is not None else None
        if function is not None and target is not None and function.arguments is not None:
            reading = read_message(target, function.arguments, None)
            arguments = reading.value if reading.ok else None
        parsed.append(
            ParsedFunctionToolCall(
                call.id,
                call.type,
                call.extra,
                function=None
                if function is None
                else ParsedFunction(
                    function.name, function.arguments, function.extra, parsed_arguments=arguments
                ),
            )
        )
    return tuple(parsed)


def _parsed(
    completion: ChatCompletion,
    readings: list[Reading | None],
    total: Usage | None,
    attempts: int,
    mode: Mode,
    tools: Mapping[str, Target],
) -> ParsedChatCompletion[Any]:
    choices = []
    for choice, reading in zip(completion.choices, readings, strict=True):
        message = choice.message
        parsed_message: ParsedChatCompletionMessage[Any] = ParsedChatCompletionMessage(
            message.role,
            message.content,
            message.refusal,
            message.extra,
            _tool_calls(message.tool_calls, tools),
            parsed=None if reading is None else reading.value,
        )
        choices.append(
            ParsedChoice(
                choice.index,
                finish_reason=choice.finish_reason,
                logprobs=choice.logprobs,
                extra=choice.extra,
                message=parsed_message,
            )
        )
    return ParsedChatCompletion(
        completion.id,
        created=completion.created,
        model=completion.model,
        object=completion.object,
        usage=completion.usage,
        system_fingerprint=completion.system_fingerprint,
        extra=completion.extra,
        choices=tuple(choices),
        total_usage=total,
        attempts=attempts,
        mode=mode,
    )


def parse_sync(
    create: Callable[..., ChatCompletion],
    client: object,
    base_url: str,
    response_format: object,
    mode: str,
    max_reasks: int,
    params: Mapping[str, Any],
) -> ParsedChatCompletion[Any]:
    """Run `plan` over a synchronous `create`."""
    # [tracing] One span for the parse; each request it sends (re-asks, modes) is a child.
    with tracing_of(client).parse(params.get("model"), mode) as trace:
        steps = plan(
            client, base_url, response_format, check_options(mode, max_reasks), max_reasks, params
        )
        request = next(steps)
        while True:
            try:
                result: ChatCompletion | APIStatusError = create(**request)
            except APIStatusError as exc:
                result = exc
            try:
                request = steps.send(result)
            except StopIteration as stop:
                return trace.parsed(stop.value)


async def parse_async(
    create: Callable[..., Awaitable[ChatCompletion]],
    client: object,
    base_url: str,
    response_format: object,
    mode: str,
    max_reasks: int,
    params: Mapping[str, Any],
) -> ParsedChatCompletion[Any]:
    """Run `plan` over an awaitable `create`."""
    # [tracing] One span for the parse; each request it sends (re-asks, modes) is a child.
    with tracing_of(client).parse(params.get("model"), mode) as trace:
        steps = plan(
            client, base_url, response_format, check_options(mode, max_reasks), max_reasks, params
        )
        request = next(steps)
        while True:
            try:
                result: ChatCompletion | APIStatusError = await create(**request)
            except APIStatusError as exc:
                result = exc
            try:
                request = steps.send(result)
            except StopIteration as stop:
                return trace.parsed(stop.value)
