"""OpenTelemetry spans and metrics of synthetic calls, through the SDK's in-memory exporter and
metric reader (``_otel.py``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import aiohttp
import attrs
import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from intercom_async import RateLimitError, TransportError
from intercom_async._observe import NO_CALL, CallStart, Observer
from intercom_async._otel import OtelSink

BASE = "https://api.intercom.io"
ROUTE = "/tickets/{id}"


class Clock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


@attrs.define
class Telemetry:
    spans: InMemorySpanExporter
    reader: InMemoryMetricReader
    observer: Observer
    clock: Clock

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def points(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        """(attributes, value or histogram point) of each point of the metric ``name``."""
        data = self.reader.get_metrics_data()
        assert data is not None
        found = []
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                assert scope.scope.name == "intercom_async"
                for metric in scope.metrics:
                    if metric.name == name:
                        for point in metric.data.data_points:
                            value = getattr(point, "value", point)
                            found.append((dict(point.attributes or {}), value))
        return found


@pytest.fixture
def otel() -> Iterator[Telemetry]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    clock = Clock()
    sink = OtelSink(BASE, tracer_provider=tracer_provider, meter_provider=meter_provider)
    yield Telemetry(spans, reader, Observer([sink], clock=clock), clock)
    tracer_provider.shutdown()
    meter_provider.shutdown()


def by_name(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


async def test_a_rate_limited_and_retried_call(otel: Telemetry) -> None:
    clock = otel.clock
    call = otel.observer.call("GET", ROUTE, "/tickets/1295")
    assert trace.get_current_span().is_recording()  # the call's span, current while it runs
    await call.rate_limit_wait_started(2.5, "local")
    clock.now += 2.0
    call.rate_limit_wait_ended()
    call.turn_taken("local")
    await call.attempt_started()
    clock.now += 0.2
    error = RateLimitError(429, request_id="req_1")
    await call.attempt_ended(status=429, request_id="req_1", error=error)
    await call.retrying(error, 1.5)
    clock.now += 1.5
    otel.observer.budget_call(0.003, "ok")  # the shared budget, asked for this call's turn
    call.turn_taken("shared")
    await call.attempt_started()
    clock.now += 0.1
    await call.attempt_ended(status=200, request_id="req_2")
    call.ended(status=200)
    assert not trace.get_current_span().is_recording()  # detached again

    spans = otel.finished()
    [parent] = [s for s in spans if s.parent is None]
    assert parent.name == "GET /tickets/{id}" and parent.kind is SpanKind.INTERNAL
    assert dict(parent.attributes or {}) == {
        "http.request.method": "GET",
        "server.address": "api.intercom.io",
        "server.port": 443,
        "url.template": ROUTE,
        "intercom.attempts": 2,
        "http.response.status_code": 200,
    }
    assert parent.status.status_code is StatusCode.UNSET
    children = [s for s in spans if s.parent is not None]
    assert parent.context is not None
    assert {(s.parent.span_id, s.parent.trace_id) for s in children if s.parent} == {
        (parent.context.span_id, parent.context.trace_id)
    }

    first, second = by_name(spans, "GET /tickets/{id}")[:2]
    assert first.kind is second.kind is SpanKind.CLIENT
    assert dict(first.attributes or {}) == {
        "http.request.method": "GET",
        "server.address": "api.intercom.io",
        "server.port": 443,
        "url.template": ROUTE,
        "url.full": "https://api.intercom.io/tickets/1295",
        "http.response.status_code": 429,
        "intercom.request_id": "req_1",
        "error.type": "429",
    }
    assert first.status.status_code is StatusCode.ERROR
    assert (second.attributes or {})["http.request.resend_count"] == 1
    assert (second.attributes or {})["intercom.request_id"] == "req_2"
    assert "http.request.resend_count" not in (first.attributes or {})
    assert "error.type" not in (second.attributes or {})

    [wait] = by_name(spans, "intercom.rate_limit.wait")
    assert dict(wait.attributes or {}) == {
        "intercom.pacing": "local",
        "intercom.rate_limit.wait_seconds": 2.5,
        "intercom.attempt": 1,
    }
    [budget] = by_name(spans, "intercom.budget")
    assert (budget.attributes or {})["intercom.budget.outcome"] == "ok"
    assert budget.end_time is not None and budget.start_time is not None
    assert budget.end_time - budget.start_time == 3_000_000  # the 3 ms it took
    [retry] = parent.events
    assert retry.name == "intercom.retry"
    assert dict(retry.attributes or {}) == {
        "intercom.retry.attempt": 1,
        "intercom.retry.reason": "status",
        "intercom.retry.wait": 1.5,
        "error.type": "429",
    }
    # The id is in url.full alone: no span is named by it.
    assert not [s.name for s in spans if "1295" in s.name]

    base = {
        "http.request.method": "GET",
        "server.address": "api.intercom.io",
        "server.port": 443,
        "url.template": ROUTE,
    }
    durations = otel.points("http.client.request.duration")
    assert sorted((a.get("http.response.status_code"), p.count, p.sum) for a, p in durations) == [
        (200, 1, pytest.approx(0.1)),
        (429, 1, pytest.approx(0.2)),
    ]
    assert {a.get("error.type") for a, _ in durations} == {"429", None}
    assert otel.points("intercom.client.retries") == [
        ({**base, "intercom.retry.reason": "status", "error.type": "429"}, 1)
    ]
    assert otel.points("intercom.client.rate_limited") == [(base, 1)]
    assert otel.points("intercom.client.rate_limit.waits") == [
        ({**base, "intercom.pacing": "local"}, 1)
    ]
    assert otel.points("intercom.client.rate_limit.wait_time") == [
        ({**base, "intercom.pacing": "local"}, 2.0)
    ]
    assert sorted((a["intercom.pacing"], v) for a, v in otel.points("intercom.client.turns")) == [
        ("local", 1),
        ("shared", 1),
    ]
    [(budget_attributes, budget_point)] = otel.points("intercom.client.budget.duration")
    assert budget_attributes == {"intercom.budget.outcome": "ok"}
    assert budget_point.count == 1


async def test_a_failed_call(otel: Telemetry) -> None:
    call = otel.observer.call("GET", ROUTE, "/tickets/9")
    refused = TransportError("connection reset", path="/tickets/9")
    refused.__cause__ = aiohttp.ServerDisconnectedError()
    timed_out = TransportError("timed out", path="/tickets/9", timed_out=True)
    call.turn_taken("local")
    await call.attempt_started()
    await call.attempt_ended(error=refused)
    await call.retrying(refused, 0.5)
    call.turn_taken("local")
    await call.attempt_started()
    await call.attempt_ended(error=timed_out)
    call.ended(error=timed_out)

    spans = otel.finished()
    [parent] = [s for s in spans if s.parent is None]
    assert parent.status.status_code is StatusCode.ERROR
    assert (parent.attributes or {})["error.type"] == "timeout"
    assert "http.response.status_code" not in (parent.attributes or {})
    attempts = [s for s in spans if s.kind is SpanKind.CLIENT]
    assert [(s.attributes or {})["error.type"] for s in attempts] == [
        "aiohttp.ServerDisconnectedError",
        "timeout",
    ]
    assert all(s.status.status_code is StatusCode.ERROR for s in attempts)
    assert sorted(a["error.type"] for a, _ in otel.points("http.client.request.duration")) == [
        "aiohttp.ServerDisconnectedError",
        "timeout",
    ]
    [(retried, count)] = otel.points("intercom.client.retries")
    assert (retried["intercom.retry.reason"], count) == ("connection", 1)
    assert otel.points("intercom.client.rate_limited") == []


async def test_a_call_cancelled_mid_attempt_closes_its_spans(otel: Telemetry) -> None:
    call = otel.observer.call("GET", ROUTE, "/tickets/3")
    await call.attempt_started()
    call.ended(error=TimeoutError())  # its max_delay ran out while the attempt was in flight
    assert not trace.get_current_span().is_recording()
    spans = otel.finished()
    assert len(spans) == 2
    assert all((s.attributes or {})["error.type"] == "timeout" for s in spans)


def test_a_budget_call_outside_any_call_is_a_metric_only(otel: Telemetry) -> None:
    otel.observer.budget_call(0.2, "timeout")
    assert otel.finished() == []
    [(attributes, point)] = otel.points("intercom.client.budget.duration")
    assert attributes == {"intercom.budget.outcome": "timeout"} and point.sum == 0.2


def test_url_full_leaves_out_credentials_and_the_port_is_the_urls() -> None:
    sink = OtelSink("http://user:pw@127.0.0.1:8080/api/", tracer_provider=TracerProvider())
    assert sink.url("/tickets/1") == "http://127.0.0.1:8080/api/tickets/1"
    start_attributes = sink.attributes(CallStart("GET", ROUTE, "/"))
    assert start_attributes["server.address"] == "127.0.0.1"
    assert start_attributes["server.port"] == 8080


def test_wrong_providers_are_refused() -> None:
    with pytest.raises(TypeError, match="meter_provider must be an OpenTelemetry MeterProvider"):
        OtelSink(BASE, meter_provider=TracerProvider())


# The global providers, in a fresh interpreter (they can be set once per process).
GLOBAL = textwrap.dedent(
    """
    import asyncio
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from intercom_async._observe import NO_CALL, build_observer

    async def main():
        observer = build_observer(base_url="https://api.intercom.io", environ={})
        # No SDK set up: nothing to record, the call is the silent one.
        assert observer.call("GET", "/tickets/{id}", "/tickets/1") is NO_CALL
        spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(spans))
        trace.set_tracer_provider(provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
        call = observer.call("GET", "/tickets/{id}", "/tickets/1")  # the same client
        await call.attempt_started()
        await call.attempt_ended(status=200)
        call.ended(status=200)
        print(sorted(s.name for s in spans.get_finished_spans()))
        names = [m.name for r in reader.get_metrics_data().resource_metrics
                 for s in r.scope_metrics for m in s.metrics]
        print(names)

    asyncio.run(main())
    """
)


def test_the_global_providers_by_default_once_set_up() -> None:
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", GLOBAL], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    spans, names = done.stdout.splitlines()
    assert spans == "['GET /tickets/{id}', 'GET /tickets/{id}']"
    assert "http.client.request.duration" in names


def test_no_op_providers_mean_no_call() -> None:
    no_meter = metrics.NoOpMeterProvider()
    sink = OtelSink(BASE, tracer_provider=trace.NoOpTracerProvider(), meter_provider=no_meter)
    assert Observer([sink]).call("GET", ROUTE, "/tickets/1") is NO_CALL
