"""`chat-image ask`: one question about one or more images, the answer streamed to stdout."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from .._client import ChatImage
from .._config import DEFAULT_MAX_RETRIES
from .._exceptions import InvalidInputError
from .._models.completion import ChatCompletion
from .._models.messages import Message, prompt_messages
from .._validation import relabel
from ._common import read_api_key, resolve_base_url, resolve_model, say
from ._image_options import image_policy

__all__ = ["add_parser", "run"]


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    ask = commands.add_parser("ask", parents=[common], help="ask about one or more images")
    ask.add_argument("prompt")
    ask.add_argument(
        "--image", action="append", default=[], metavar="PATH_OR_URL", help="repeatable"
    )
    ask.add_argument("--json", action="store_true", help="print the whole chat completion")
    ask.add_argument("--no-stream", dest="stream", action="store_false", help="print when whole")
    ask.add_argument(
        "--schema",
        metavar="SCHEMA",
        help="answer as this type and print the parsed JSON: a JSON Schema file or module:Class",
    )
    ask.set_defaults(run=run)


def _messages(args: argparse.Namespace) -> list[Message]:
    try:
        return prompt_messages(
            args.prompt,
            [(image, image) for image in args.image],
            system=args.system,
            detail=args.detail,
            resize=args.resize,
            pdf_pages=args.pdf_pages,
        )
    except InvalidInputError as exc:
        # The texts by the names they have here: the argument, and the option.
        field = {"text": "PROMPT", "content": "--system"}.get(exc.field)
        if field is None:
            raise
        raise relabel(exc, field) from None


def _answer(
    client: ChatImage,
    *,
    model: str,
    messages: list[Message],
    max_tokens: int,
    stream: bool,
    usage: bool,
    out: TextIO,
) -> tuple[str | None, ChatCompletion]:
    """Send and print the answer as it arrives; the request id and the whole completion.

    Streamed, each piece of the first choice is written and flushed as its chunk comes;
    `usage` asks the gateway for the usage chunk (only then: not every gateway takes it).
    """
    if not stream:
        raw = client.chat.completions.with_raw_response.create(
            model=model, messages=messages, max_tokens=max_tokens
        )
        completion = raw.parse()
        out.write((completion.choices[0].message.content or "") if completion.choices else "")
        out.write("\n")
        return raw.request_id, completion
    with client.chat.completions.create(
        model=model,
        messages=messages,
        max_tokens=max_tokens,
        stream=True,
        stream_options={"include_usage": True} if usage else None,
    ) as chunks:
        for chunk in chunks:
            for choice in chunk.choices:
                if choice.index == 0 and choice.delta.content:
                    out.write(choice.delta.content)
                    out.flush()
        completion = chunks.get_final_completion()
        out.write("\n")
        return chunks.request_id, completion


def _structured(
    client: ChatImage,
    *,
    model: str,
    messages: list[Message],
    max_tokens: int,
    response_format: object,
    out: TextIO,
    err: TextIO,
) -> tuple[int, ChatCompletion | None]:
    """`--schema`: the parsed answer as JSON on stdout; a refusal or an answer that never
    fit the schema is one line on stderr (each problem named), and exit status 1."""
    from .._structured.outcomes import (
        ContentFilterFinishReasonError,
        LengthFinishReasonError,
        StructuredOutputError,
    )
    from .._structured.spec import to_jsonable

    try:
        completion = client.chat.completions.parse(
            model=model, messages=messages, max_tokens=max_tokens, response_format=response_format
        )
    except StructuredOutputError as exc:
        problems = "; ".join(str(problem) for problem in exc.errors[-1]) if exc.errors else ""
        say(err, f"no valid answer after {exc.attempts} attempt(s): {problems}")
        return 1, exc.completion
    except (LengthFinishReasonError, ContentFilterFinishReasonError) as exc:
        say(err, str(exc))
        return 1, exc.completion
    message = completion.choices[0].message if completion.choices else None
    if message is None or message.parsed is None:
        say(err, f"the model refused: {message.refusal if message else '(no answer)'}")
        return 1, completion
    out.write(json.dumps(to_jsonable(message.parsed), indent=2, ensure_ascii=False) + "\n")
    return 0, completion


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # Everything is checked before the client exists, so nothing is sent on bad input.
    model = resolve_model(args, required=True)
    assert model is not None
    messages = _messages(args)
    response_format = None
    if args.schema is not None:
        from .._structured.spec import load_response_format

        response_format = load_response_format(args.schema)
    retries = DEFAULT_MAX_RETRIES if args.max_retries is None else args.max_retries
    status = 0
    request_id: str | None = None
    completion: ChatCompletion | None
    api_key, base_url = read_api_key(args), resolve_base_url(args)
    with ChatImage(
        api_key=api_key, base_url=base_url, max_retries=retries, images=image_policy(args)
    ) as client:
        if response_format is not None:
            status, completion = _structured(
                client,
                model=model,
                messages=messages,
                max_tokens=args.max_tokens,
                response_format=response_format,
                out=out,
                err=err,
            )
        elif args.json:
            raw = client.chat.completions.with_raw_response.create(
                model=model, messages=messages, max_tokens=args.max_tokens
            )
            completion = raw.parse()
            request_id = raw.request_id
            out.write(json.dumps(raw.http_response.json(), indent=2, ensure_ascii=False) + "\n")
        else:
            request_id, completion = _answer(
                client,
                model=model,
                messages=messages,
                max_tokens=args.max_tokens,
                stream=args.stream,
                usage=args.verbose,
                out=out,
            )
    out.flush()
    if args.verbose and completion is not None:
        usage = completion.usage
        if usage is not None:
            say(err, f"usage: {usage.prompt_tokens} in, {usage.completion_tokens} out")
        say(err, f"request id: {request_id or '(none)'}")
    return status
