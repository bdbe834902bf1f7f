"""The observation wired into the request path: OpenTelemetry spans and metrics (the SDK's
in-memory exporter and reader) and hooks, through a real client against the fake Intercom;
cancellation inside a hook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from intercom_async import (
    Hooks,
    IntercomClient,
    NotFoundError,
    RateLimitWaitEvent,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    RetryPolicy,
    ServerError,
)
from intercom_async.testing import FakeIntercom, Fault

QUICK = RetryPolicy(initial_backoff=0.01, max_backoff=0.02, jitter=False, max_delay=20)


def attrs_of(item: Any) -> dict[str, Any]:
    """A span's or an event's attributes."""
    return dict(item.attributes or {})


@attrs.define
class Telemetry:
    spans: InMemorySpanExporter
    reader: InMemoryMetricReader
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def finished(self, name: str | None = None) -> list[ReadableSpan]:
        spans = list(self.spans.get_finished_spans())
        return [s for s in spans if name is None or s.name == name]

    def points(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        data = self.reader.get_metrics_data()
        found = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        for point in metric.data.data_points:
                            found.append((attrs_of(point), getattr(point, "value", point)))
        return found

    def total(self, name: str, **where: Any) -> float:
        return sum(  # type: ignore[no-any-return]
            value
            for attributes, value in self.points(name)
            if all(attributes.get(k.replace("_", ".")) == v for k, v in where.items())
        )


@pytest.fixture
def telemetry() -> Telemetry:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    return Telemetry(exporter, reader, tracer_provider, MeterProvider(metric_readers=[reader]))


@pytest.fixture
async def fake() -> AsyncIterator[FakeIntercom]:
    async with FakeIntercom(tickets=20) as fake:
        yield fake


def client_of(fake: FakeIntercom, telemetry: Telemetry, **kwargs: Any) -> IntercomClient:
    return fake.client(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        **{"retry": QUICK, **kwargs},
    )


async def test_a_retried_call_has_a_span_per_attempt_under_the_call(
    fake: FakeIntercom, telemetry: Telemetry
) -> None:
    fake.inject("3", Fault.status(503))
    async with client_of(fake, telemetry) as client:
        ticket = await client.tickets.get("3")
    assert ticket.id == "3"
    (call,) = telemetry.finished("GET /tickets/{id}") and [
        s for s in telemetry.finished("GET /tickets/{id}") if s.kind is SpanKind.INTERNAL
    ]
    attempts = [s for s in telemetry.finished() if s.kind is SpanKind.CLIENT]
    assert [s.name for s in attempts] == ["GET /tickets/{id}"] * 2  # the route, never the id
    assert all(s.parent is not None and s.parent.span_id == call.context.span_id for s in attempts)
    first, second = attempts
    assert attrs_of(first)["http.response.status_code"] == 503
    assert attrs_of(first)["error.type"] == "503"
    assert first.status.status_code is StatusCode.ERROR
    assert "http.request.resend_count" not in attrs_of(first)
    assert attrs_of(second)["http.response.status_code"] == 200
    assert attrs_of(second)["http.request.resend_count"] == 1
    assert attrs_of(second)["intercom.request_id"]
    assert attrs_of(second)["url.full"].endswith("/tickets/3")
    assert attrs_of(call)["intercom.attempts"] == 2
    assert attrs_of(call)["url.template"] == "/tickets/{id}"
    assert call.status.status_code is not StatusCode.ERROR
    (retry,) = [e for e in call.events if e.name == "intercom.retry"]
    assert attrs_of(retry)["intercom.retry.reason"] == "status"
    assert attrs_of(retry)["error.type"] == "503"
    # Metrics: a duration point per attempt, one retry by reason, two local turns.
    durations = telemetry.points("http.client.request.duration")
    assert sorted(a["http.response.status_code"] for a, _ in durations) == [200, 503]
    assert sum(point.count for _, point in durations) == 2
    assert telemetry.total("intercom.client.retries", intercom_retry_reason="status") == 1
    assert telemetry.total("intercom.client.turns", intercom_pacing="local") == 2
    # No attribute holds the token or the ticket's contents.
    every = [v for s in telemetry.finished() for v in attrs_of(s).values()]
    assert "test-token" not in repr(every)  # the fake's token
    assert repr(ticket.ticket_attributes)[:40] not in repr(every)


async def test_a_rate_limited_call_reports_its_wait_and_the_429(telemetry: Telemetry) -> None:
    async with (
        FakeIntercom(tickets=5, rate_limit=1, window=0.5) as fake,
        client_of(fake, telemetry) as client,
    ):
        await client.tickets.get("1")  # the window is spent: the next waits for the reset
        await client.tickets.get("2")
        fake.inject("3", Fault.status(429))
        await client.tickets.get("3")  # a 429, held until the window's reset, then retried
    waits = telemetry.finished("intercom.rate_limit.wait")
    assert waits, "a wait for the window's reset is a span"
    assert all(attrs_of(s)["intercom.pacing"] == "local" for s in waits)
    assert telemetry.total("intercom.client.rate_limit.waits", intercom_pacing="local") >= 1
    waited = telemetry.total("intercom.client.rate_limit.wait_time", intercom_pacing="local")
    assert 0.05 < waited < 5
    assert telemetry.total("intercom.client.rate_limited") == 1
    statuses = [attrs_of(s).get("http.response.status_code") for s in telemetry.finished()]
    assert 429 in statuses


async def test_a_failed_call_is_an_error_span_and_a_failed_duration(
    fake: FakeIntercom, telemetry: Telemetry
) -> None:
    fake.inject("4", Fault.status(500), times=None)
    async with client_of(
        fake, telemetry, retry=RetryPolicy(max_attempts=2, initial_backoff=0.01, jitter=False)
    ) as client:
        with pytest.raises(ServerError):
            await client.tickets.get("4")
        with pytest.raises(NotFoundError):
            await client.tickets.get("999999")
    calls = [
        s for s in telemetry.finished() if s.kind is SpanKind.INTERNAL and s.name.startswith("GET")
    ]
    assert [attrs_of(s)["error.type"] for s in calls] == ["500", "404"]
    assert all(s.status.status_code is StatusCode.ERROR for s in calls)
    assert [attrs_of(s)["intercom.attempts"] for s in calls] == [2, 1]
    failed = [a for a, _ in telemetry.points("http.client.request.duration")]
    assert {a["error.type"] for a in failed} == {"500", "404"}


async def test_hooks_hear_each_event_in_order_and_a_raising_hook_breaks_nothing(
    fake: FakeIntercom, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    async def on_request(event: RequestEvent) -> None:
        seen.append(f"request {event.route} {event.attempt}")

    def on_response(event: ResponseEvent) -> None:
        seen.append(f"response {event.status} {bool(event.request_id)}")

    async def on_retry(event: RetryEvent) -> None:
        seen.append(f"retry {event.reason} {event.status}")
        raise RuntimeError("a broken hook")

    hooks = Hooks(on_request=on_request, on_response=on_response, on_retry=on_retry)
    fake.inject("5", Fault.status(503))
    async with fake.client(hooks=hooks, retry=QUICK) as client:
        view = client.with_options(timeout=5)  # a view shares the hooks
        assert (await view.tickets.get("5")).id == "5"
    assert seen == [
        "request /tickets/{id} 1",
        "response 503 True",
        "retry status 503",
        "request /tickets/{id} 2",
        "response 200 True",
    ]
    assert "hook" in caplog.text and "the call goes on" in caplog.text


async def test_a_wait_hook_hears_of_the_window() -> None:
    waits: list[RateLimitWaitEvent] = []
    async with (
        FakeIntercom(tickets=5, rate_limit=1, window=0.5) as fake,
        fake.client(hooks=Hooks(on_rate_limit_wait=waits.append)) as client,
    ):
        await client.tickets.get("1")
        await client.tickets.get("2")
    assert [(w.pacing, w.attempt, w.route) for w in waits] == [("local", 1, "/tickets/{id}")]
    assert 0 <= waits[0].seconds <= 0.6


@pytest.mark.parametrize("where", ["on_request", "on_response", "on_retry", "on_rate_limit_wait"])
async def test_cancelling_a_call_inside_a_hook_leaves_the_client_as_it_was(where: str) -> None:
    entered = asyncio.Event()
    never = asyncio.Event()

    async def stuck(event: object) -> None:
        entered.set()
        await never.wait()

    async with FakeIntercom(tickets=5, rate_limit=1, window=0.5) as fake:
        fake.inject("3", Fault.status(503))
        async with fake.client(
            hooks=Hooks(**{where: stuck}), retry=QUICK, max_connections=2
        ) as client:
            if where == "on_rate_limit_wait":
                await client.tickets.get("1")  # the window is spent: the next waits
            task = asyncio.create_task(client.tickets.get("3"))
            await asyncio.wait_for(entered.wait(), 5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            pacer = client._pacer
            assert pacer.queued == 0 and pacer.in_flight == 0
            assert client._transport.slots is not None and client._transport.slots._value == 2
            # The client goes on: a call without the stuck hook's event gets through.
            fake.clear_requests()
            never.set()
            assert (await asyncio.wait_for(client.tickets.get("2"), 5)).id == "2"
