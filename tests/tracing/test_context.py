"""Spans are children of the caller's current span, and the gateway hears the trace."""

from __future__ import annotations

import asyncio
import threading

import pytest
from opentelemetry import trace
from opentelemetry.propagate import extract

from chat_image import UserMessage
from otel_kit import Recorded, recording

CREATE = {"messages": [UserMessage("hi")], "max_tokens": 5}


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    return recording(monkeypatch)


def _tracer() -> trace.Tracer:
    return trace.get_tracer("the caller")


def test_a_sync_call_is_a_child_of_the_callers_span(client, recorded):
    with _tracer().start_as_current_span("handle request") as parent:
        client.chat.completions.create(model="gpt-4o", **CREATE)
    (child,) = [s for s in recorded.spans() if s.name == "chat gpt-4o"]
    assert child.parent is not None
    assert child.parent.span_id == parent.get_span_context().span_id
    assert child.context.trace_id == parent.get_span_context().trace_id


def test_without_a_callers_span_the_call_is_a_root(client, recorded):
    client.chat.completions.create(model="gpt-4o", **CREATE)
    assert recorded.span().parent is None


def test_calls_from_threads_are_children_of_each_threads_span(server, recorded):
    parents = {}

    def work(name: str) -> None:
        with (
            server.client() as client,
            _tracer().start_as_current_span(f"job {name}") as parent,
        ):
            parents[name] = parent.get_span_context().span_id
            client.chat.completions.create(model=name, **CREATE)

    threads = [threading.Thread(target=work, args=(f"m{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    calls = {
        s.attributes["gen_ai.request.model"]: s for s in recorded.spans() if s.name[:5] == "chat "
    }
    assert sorted(calls) == sorted(parents)
    for name, span in calls.items():
        assert span.parent.span_id == parents[name]


def test_calls_in_asyncio_gather_are_children_of_each_tasks_span(server, recorded):
    async def one(client, name: str) -> int:
        with _tracer().start_as_current_span(f"task {name}") as parent:
            await client.chat.completions.create(model=name, **CREATE)
            return parent.get_span_context().span_id

    async def main() -> dict[str, int]:
        async with server.async_client() as client:
            with _tracer().start_as_current_span("outer"):
                names = [f"m{i}" for i in range(5)]
                ids = await asyncio.gather(*(one(client, name) for name in names))
                # And a call made straight under the outer span, beside the tasks.
                await client.chat.completions.create(model="direct", **CREATE)
        return dict(zip(names, ids, strict=True))

    parents = asyncio.run(main())
    spans = {s.name: s for s in recorded.spans()}
    for name, parent_id in parents.items():
        assert spans[f"chat {name}"].parent.span_id == parent_id
    assert spans["chat direct"].parent.span_id == spans["outer"].context.span_id


def test_the_gateway_receives_the_calls_traceparent(client, server, recorded):
    with _tracer().start_as_current_span("handle request"):
        client.chat.completions.create(model="gpt-4o", **CREATE)
    (call,) = [s for s in recorded.spans() if s.name == "chat gpt-4o"]
    header = server.last.headers["traceparent"]
    version, trace_id, span_id, flags = header.split("-")
    assert (version, trace_id, span_id) == (
        "00",
        f"{call.context.trace_id:032x}",
        f"{call.context.span_id:016x}",
    )
    assert int(flags, 16) & 1  # sampled
    # What a tracing gateway does with it: its own span joins the caller's trace.
    received = trace.get_current_span(extract({"traceparent": header})).get_span_context()
    assert received.trace_id == call.context.trace_id


def test_every_retry_carries_the_same_traceparent(client, server, recorded):
    from chat_image.testing import Reply

    server.queue(Reply(status=503))
    with server.client() as fast:
        fast.chat.completions.create(model="gpt-4o", **CREATE)
    first, second = server.requests[-2:]
    assert first.headers["traceparent"] == second.headers["traceparent"]
    assert recorded.span().attributes["chat_image.retries_taken"] == 1


def test_a_callers_own_traceparent_header_wins(client, server, recorded):
    mine = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    client.chat.completions.create(model="gpt-4o", extra_headers={"traceparent": mine}, **CREATE)
    assert server.last.headers["traceparent"] == mine
