"""What observing a call costs: the observer's calls of one successful call, per setup.

A call as the request path reports it (start, turn taken, attempt started, attempt ended, end),
repeated, with no network: the cost of the instrumentation alone, in microseconds per call.
The setups run in interleaved rounds (round 1 of each, then round 2 of each, ...), so that a
slower moment of the machine falls on all of them; each line gives the median of the rounds
and their spread (min to max)::

    python benchmarks/observe_cost.py [--rounds 9] [--calls 20000] [--json FILE]

Setups: ``bare`` (the same loop without the observer's calls, the floor), ``off`` (nothing
configured), ``otel-no-sdk`` (``opentelemetry-api`` installed, no SDK set up: the default for
most), ``otel-sdk`` (an SDK tracer and meter provider, spans handed to an exporter that drops
them), ``hooks`` (an async no-op hook on each event) and ``log-info`` (``INTERCOM_ASYNC_LOG=info``
into a handler that drops the lines).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from intercom_async import Hooks
from intercom_async._observe import Observer, build_observer

BASE = "https://api.intercom.io"
ROUTE = "/tickets/{id}"


async def _floor() -> None:
    pass


async def bare(observer: Observer, calls: int) -> float:
    """The loop of ``observed`` with the observer left out: what the measure itself costs."""
    started = time.perf_counter()
    for _ in range(calls):
        await _floor()
    return time.perf_counter() - started


async def observed(observer: Observer, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        call = observer.call("GET", ROUTE, "/tickets/1295")
        call.turn_taken("local")
        await call.attempt_started()
        await call.attempt_ended(status=200, request_id="req_1")
        call.ended(status=200)
    return time.perf_counter() - started


def setups() -> dict[str, tuple[Observer, Callable[[Observer, int], Any]]]:
    found: dict[str, tuple[Observer, Callable[[Observer, int], Any]]] = {}
    found["bare"] = (Observer(), bare)
    found["off"] = (Observer(), observed)
    found["otel-no-sdk"] = (build_observer(base_url=BASE, environ={}), observed)

    async def nothing(event: object) -> None:
        pass

    hooks = Hooks(on_request=nothing, on_response=nothing, on_retry=nothing)
    found["hooks"] = (Observer(Observer().sinks + _hook_sinks(hooks)), observed)
    logging.getLogger("intercom_async").addHandler(_Drop())  # the app's logging, dropping all
    found["log-info"] = (
        Observer(build_observer(base_url=BASE, environ={"INTERCOM_ASYNC_LOG": "info"}).sinks[:1]),
        observed,
    )
    sdk = _sdk_observer()
    if sdk is not None:
        found["otel-sdk"] = (sdk, observed)
    return found


class _Drop(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        pass


def _hook_sinks(hooks: Hooks) -> tuple[Any, ...]:
    from intercom_async._hooks import HookSink

    return (HookSink(hooks),)


def _sdk_observer() -> Observer | None:
    try:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
        from opentelemetry.sdk.trace.export import (
            SimpleSpanProcessor,
            SpanExporter,
            SpanExportResult,
        )
    except ImportError:
        return None

    class Dropping(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(Dropping()))
    return build_observer(
        base_url=BASE,
        tracer_provider=tracer_provider,
        meter_provider=MeterProvider(),
        environ={},
    )


async def measure(rounds: int, calls: int) -> dict[str, dict[str, float]]:
    cases = setups()
    for observer, run in cases.values():  # warm up
        await run(observer, 1000)
    per_call: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, (observer, run) in cases.items():
            per_call[name].append(await run(observer, calls) / calls * 1e6)
    floor = statistics.median(per_call["bare"])
    print(f"{'setup':12} {'median µs/call':>15} {'spread':>17} {'over bare':>10}")
    figures = {}
    for name, values in per_call.items():
        median = statistics.median(values)
        figures[name] = {"median_us": median, "min_us": min(values), "max_us": max(values)}
        spread = f"{min(values):.3f}-{max(values):.3f}"
        print(f"{name:12} {median:15.3f} {spread:>17} {median - floor:10.3f}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    figures = asyncio.run(measure(args.rounds, args.calls))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
