"""`chat-image ask`: one question about one or more images, the answer streamed to stdout."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from .._client import ChatImage
from .._config import DEFAULT_MAX_RETRIES
from .._models.completion import ChatCompletion
from .._models.messages import Message, prompt_messages
from ._common import read_api_key, resolve_model, say
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
    ask.set_defaults(run=run)


def _messages(args: argparse.Namespace) -> list[Message]:
    return prompt_messages(
        args.prompt,
        [(image, image) for image in args.image],
        system=args.system,
        detail=args.detail,
        resize=args.resize,
        pdf_pages=args.pdf_pages,
    )


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


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # Everything is checked before the client exists, so nothing is sent on bad input.
    model = resolve_model(args, required=True)
    assert model is not None
    messages = _messages(args)
    retries = DEFAULT_MAX_RETRIES if args.max_retries is None else args.max_retries
    with ChatImage(
        api_key=read_api_key(args),
        base_url=args.base_url,
        max_retries=retries,
        images=image_policy(args),
    ) as client:
        if args.json:
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
    if args.verbose:
        usage = completion.usage
        if usage is not None:
            say(err, f"usage: {usage.prompt_tokens} in, {usage.completion_tokens} out")
        say(err, f"request id: {request_id or '(none)'}")
    return 0
