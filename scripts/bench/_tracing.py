"""Tracing: what a call costs with the `otel` extra and no SDK, and with an SDK recording.

Three long-lived sync clients on the same server: `tracing=False` (the path a program without
the extra takes: the same `UNTRACED` object), tracing on with OpenTelemetry's API and no SDK
(non-recording spans), then, once those are measured, the SDK set up as an application would
(a batch span processor whose exporter drops what it is given, and a metric reader). The SDK
comes last because OpenTelemetry's global providers cannot be unset.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

import chat_image

from ._common import API_KEY, MODEL, dict_messages

OFF: Final = "tracing off (as without the extra)"
NO_SDK: Final = "otel extra, no SDK"
SDK: Final = "otel extra, SDK recording"


def _call(client: chat_image.ChatImage) -> Callable[[], object]:
    create = client.chat.completions.create
    messages = dict_messages(None)
    return lambda: create(model=MODEL, messages=messages, max_tokens=300)


def _install_sdk() -> None:
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class Dropped(SpanExporter):
        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Dropped()))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))


def _hook(client: chat_image.ChatImage) -> Callable[[], object]:
    """The tracing hook of one call alone, around an answer already read: the part of a
    call's cost that is tracing's, without the network's noise."""
    import httpx

    from chat_image._response import read_completion

    request = httpx.Request("POST", client.base_url + "/v1/chat/completions")
    response = httpx.Response(200, json=_ANSWER, request=request)
    completion = read_completion(response)
    params = {"model": MODEL, "messages": dict_messages(None), "max_tokens": 300}
    tracing = client._tracing

    def call() -> object:
        with tracing.call(params, False) as trace:
            return trace.answered(response, completion)

    return call


_ANSWER: Final = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 1,
    "model": MODEL,
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
}
HOOK_CALLS: Final = 20000


def _per_call(call: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls * 1e6


def run_tracing(url: str, rounds: int, calls: int) -> dict[str, list[float]]:
    """Microseconds per call, one figure per variant per round (off and no-SDK alternating
    which goes first; the SDK rounds after, paired with off rounds run beside them)."""
    off = chat_image.ChatImage(api_key=API_KEY, base_url=url, tracing=False)
    on = chat_image.ChatImage(api_key=API_KEY, base_url=url, tracing=True)
    samples: dict[str, list[float]] = {OFF: [], NO_SDK: [], SDK: [], f"{OFF} (SDK rounds)": []}
    samples.update({f"hook: {name}": [] for name in (OFF, NO_SDK, SDK)})
    try:
        variants = [(OFF, _call(off)), (NO_SDK, _call(on))]
        for _, call in variants:
            _per_call(call, max(20, calls // 5))
        for index in range(rounds):
            for name, call in variants if index % 2 == 0 else variants[::-1]:
                samples[name].append(_per_call(call, calls))
        for _ in range(5):
            samples[f"hook: {OFF}"].append(_per_call(_hook(off), HOOK_CALLS))
            samples[f"hook: {NO_SDK}"].append(_per_call(_hook(on), HOOK_CALLS))
        _install_sdk()
        for _ in range(5):
            samples[f"hook: {SDK}"].append(_per_call(_hook(on), HOOK_CALLS // 10))
        variants = [(f"{OFF} (SDK rounds)", _call(off)), (SDK, _call(on))]
        _per_call(variants[1][1], max(20, calls // 5))
        for index in range(rounds):
            for name, call in variants if index % 2 == 0 else variants[::-1]:
                samples[name].append(_per_call(call, calls))
    finally:
        off.close()
        on.close()
    return samples


def _paired(ours: list[float], base: list[float]) -> float:
    return statistics.median(a / b for a, b in zip(ours, base, strict=True))


def tracing_summary(samples: dict[str, list[float]]) -> dict[str, float]:
    """Medians and paired ratios, and the noise: how far apart two rounds of `off` are."""
    off = samples[OFF]
    off_sdk = samples[f"{OFF} (SDK rounds)"]
    noise = statistics.median(abs(a / b - 1) for a, b in zip(off[1:], off[:-1], strict=False))
    return {
        "off_us": statistics.median(off),
        "no_sdk_us": statistics.median(samples[NO_SDK]),
        "sdk_us": statistics.median(samples[SDK]),
        "no_sdk_vs_off": _paired(samples[NO_SDK], off),
        "sdk_vs_off": _paired(samples[SDK], off_sdk),
        "round_to_round_noise": noise,
        # The hook alone: the fastest of five runs (the least disturbed by other work).
        "hook_off_us": min(samples[f"hook: {OFF}"]),
        "hook_no_sdk_us": min(samples[f"hook: {NO_SDK}"]),
        "hook_sdk_us": min(samples[f"hook: {SDK}"]),
    }


def tracing_table(summary: dict[str, float]) -> str:
    """The case as a few lines under the main table."""
    noise = summary["round_to_round_noise"]
    within = abs(summary["no_sdk_vs_off"] - 1) <= max(noise, 0.02)
    return "\n".join(
        [
            "tracing (sync, short text message, us/call)",
            f"  {OFF:<36} {summary['off_us']:>9.1f}",
            f"  {NO_SDK:<36} {summary['no_sdk_us']:>9.1f}   {summary['no_sdk_vs_off']:.3f}x off"
            f"   target: within noise (+-{max(noise, 0.02):.1%}) {'yes' if within else 'NO'}",
            f"  {SDK:<36} {summary['sdk_us']:>9.1f}   {summary['sdk_vs_off']:.3f}x off"
            "   (figure reported)",
            "  the tracing hook alone, no network (us/call):"
            f" off {summary['hook_off_us']:.2f}, no SDK {summary['hook_no_sdk_us']:.2f},"
            f" SDK recording {summary['hook_sdk_us']:.2f}",
        ]
    )
