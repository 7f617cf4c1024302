"""Structured output: `parse()` against `create()` on the same receipt answer, and a streamed
structured answer per chunk against a plain stream and the `openai` package's `.stream()`.

Its own server processes answer every request with a receipt: as one completion (`parse()`
pays for the schema in the request, finding and validating the JSON), and as a stream of
`RECEIPT_CHUNKS` content deltas (the per-chunk cost of events and partial objects).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from typing import Any, Final

import chat_image
from chat_image.testing import Reply, render_reply

from ._common import API_KEY, MODEL, dict_messages, openai_module, rotated
from ._server import Server

PARSE_VS_CREATE: Final = "structured: parse() / create(), receipt"
STREAM_VS_PLAIN: Final = "structured: stream per chunk / plain stream"
STREAM_VS_OPENAI: Final = "structured: stream per chunk vs openai"
RECEIPT_ITEMS: Final = 12
RECEIPT_CHUNKS: Final = 1000


@dataclasses.dataclass
class LineItem:
    name: str
    qty: int
    price: float


@dataclasses.dataclass
class Receipt:
    merchant: str
    day: str
    total: float
    items: list[LineItem]


def receipt_json(items: int) -> str:
    lines = [
        {"name": f"item number {i}", "qty": i % 4 + 1, "price": 1.25 + i} for i in range(items)
    ]
    total = sum((i % 4 + 1) * (1.25 + i) for i in range(items))
    return json.dumps(
        {"merchant": "Acme Market", "day": "2026-03-01", "total": total, "items": lines}
    )


def _receipt_reply() -> Reply:
    return Reply(
        content=receipt_json(RECEIPT_ITEMS),
        model="gpt-4o-2024-08-06",
        usage={"prompt_tokens": 1118, "completion_tokens": 300},
    )


def _stream_reply() -> Reply:
    # Enough items that the answer splits into RECEIPT_CHUNKS deltas of a few characters.
    text = receipt_json(150)
    size = max(len(text) // (RECEIPT_CHUNKS - 2), 1)
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    return Reply(content=text, chunks=pieces, model="gpt-4o-2024-08-06", stream=True)


def receipt_body() -> bytes:
    """The bytes of the receipt completion (for `_server.serve`)."""
    from ._server import _head

    (body,) = render_reply(_receipt_reply())
    return _head(["Content-Type: application/json", f"Content-Length: {len(body)}"]) + body


def receipt_stream_body() -> bytes:
    from ._server import _head

    events = render_reply(_stream_reply())
    body = b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events) + b"0\r\n\r\n"
    return _head(["Content-Type: text/event-stream", "Transfer-Encoding: chunked"]) + body


def _openai_model() -> Any:
    import pydantic  # the openai package's own dependency

    class OpenAILineItem(pydantic.BaseModel):
        name: str
        qty: int
        price: float

    class OpenAIReceipt(pydantic.BaseModel):
        merchant: str
        day: str
        total: float
        items: list[OpenAILineItem]

    return OpenAIReceipt


def _per_call(call: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls * 1e6


def run_parse(rounds: int, calls: int) -> dict[str, dict[str, list[float]]]:
    """Per round: parse() microseconds per call divided by create()'s, back to back."""
    server = Server("--serve-receipt")
    messages = dict_messages(None)
    ratios: list[float] = []
    try:
        with chat_image.ChatImage(api_key=API_KEY, base_url=server.url) as client:
            completions = client.chat.completions

            def create() -> object:
                return completions.create(model=MODEL, messages=messages, max_tokens=300)

            def parse() -> object:
                result = completions.parse(
                    model=MODEL, messages=messages, max_tokens=300, response_format=Receipt
                )
                assert result.parsed is not None
                return result

            for _ in range(20):
                create()
                parse()
            for round_index in range(rounds):
                figures = {}
                for name in rotated(round_index, ("parse", "create")):
                    figures[name] = _per_call(parse if name == "parse" else create, calls)
                ratios.append(figures["parse"] / figures["create"])
    finally:
        server.stop()
    return {PARSE_VS_CREATE: {"chat_image": ratios}}


def run_structured_stream(rounds: int, calls: int) -> dict[str, dict[str, list[float]]]:
    """Per chunk: our structured stream / our plain stream (a ratio a round), and ours and
    the `openai` package's structured streams in microseconds."""
    server = Server("--serve-receipt-stream")
    messages = dict_messages(None)
    vs_plain: list[float] = []
    ours_us: list[float] = []
    openai_us: list[float] = []
    openai = openai_module().OpenAI(api_key=API_KEY, base_url=server.url + "/v1", max_retries=0)
    model = _openai_model()
    try:
        with chat_image.ChatImage(api_key=API_KEY, base_url=server.url) as client:
            completions = client.chat.completions

            def plain() -> int:
                count = 0
                for _ in completions.create(
                    model=MODEL, messages=messages, max_tokens=300, stream=True
                ):
                    count += 1
                return count

            def structured() -> int:
                count = 0
                with completions.stream(
                    model=MODEL, messages=messages, max_tokens=300, response_format=Receipt
                ) as stream:
                    for event in stream:
                        count += event.type == "chunk"
                    assert stream.get_final_completion().parsed is not None
                return count

            def theirs() -> int:
                count = 0
                with openai.chat.completions.stream(
                    model=MODEL, messages=messages, max_tokens=300, response_format=model
                ) as stream:
                    for event in stream:
                        count += event.type == "chunk"
                    assert stream.get_final_completion().choices[0].message.parsed is not None
                return count

            chunks = plain()
            assert structured() == chunks == theirs()
            runs = {"plain": plain, "structured": structured, "openai": theirs}
            for round_index in range(rounds):
                figures = {}
                for name in rotated(round_index, tuple(runs)):
                    figures[name] = _per_call(runs[name], calls) / chunks
                vs_plain.append(figures["structured"] / figures["plain"])
                ours_us.append(figures["structured"])
                openai_us.append(figures["openai"])
    finally:
        openai.close()
        server.stop()
    return {
        STREAM_VS_PLAIN: {"chat_image": vs_plain},
        STREAM_VS_OPENAI: {"chat_image": ours_us, "openai": openai_us},
    }
