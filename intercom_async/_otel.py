"""OpenTelemetry traces and metrics of a client's calls, through ``opentelemetry-api`` only.

Imported only by ``_observe.build_observer``, and only when ``opentelemetry-api`` is installed
(``pip install 'intercom-async[otel]'``); the application brings the SDK and its exporters.

Traces: one ``INTERNAL`` span per logical call, named by its route (``GET /tickets/{id}``,
never the id), current while the call runs; under it a ``CLIENT`` span per attempt with the
HTTP client semantic conventions, a span per rate-limit wait, an event per retry, and a span
per call to the shared budget's store. Metrics: ``http.client.request.duration`` per attempt,
and counters of retries by reason, 429 answers, rate-limit waits and their seconds, and the
pacing that gave each attempt its turn. No attribute holds the token, a header or anything of
a ticket's contents.

With the global providers and no SDK set up, a call costs one check: nothing is recorded.
"""

from __future__ import annotations

import time
from contextvars import Token
from typing import TYPE_CHECKING

from opentelemetry import context, metrics, trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, StatusCode
from yarl import URL

from ._events import Pacing, RateLimitWaitEvent, RequestEvent, ResponseEvent, RetryEvent
from ._observe import CallEnd, CallSink, CallStart, Sink
from ._version import __version__

if TYPE_CHECKING:
    from opentelemetry.util.types import AttributeValue

__all__ = ["OtelSink"]

SCOPE = "intercom_async"
# The boundaries the HTTP semantic conventions advise for http.client.request.duration.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
WAIT_SPAN = "intercom.rate_limit.wait"
BUDGET_SPAN = "intercom.budget"
RETRY_EVENT = "intercom.retry"


class OtelSink(Sink):
    """Spans and metrics for a client whose API root is ``base_url``."""

    def __init__(
        self,
        base_url: str,
        *,
        tracer_provider: object | None = None,
        meter_provider: object | None = None,
    ) -> None:
        if tracer_provider is not None and not isinstance(tracer_provider, trace.TracerProvider):
            kind = type(tracer_provider).__name__
            raise TypeError(f"tracer_provider must be an OpenTelemetry TracerProvider, not {kind}")
        if meter_provider is not None and not isinstance(meter_provider, metrics.MeterProvider):
            kind = type(meter_provider).__name__
            raise TypeError(f"meter_provider must be an OpenTelemetry MeterProvider, not {kind}")
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        self._traced = self._metered = False  # known to record (else: look again)
        self._tracer = trace.get_tracer(SCOPE, __version__, tracer_provider)
        meter = metrics.get_meter(SCOPE, __version__, meter_provider)
        url = URL(base_url)
        # userinfo and query are dropped: url.full is the API root and the path, no more.
        self._root = str(url.with_user(None).with_query(None).with_fragment(None)).rstrip("/")
        self._server: dict[str, AttributeValue] = {"server.address": url.host or ""}
        if url.port is not None:
            self._server["server.port"] = url.port
        self.duration = meter.create_histogram(
            "http.client.request.duration",
            unit="s",
            description="Duration of HTTP client requests (each attempt).",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.retries = meter.create_counter(
            "intercom.client.retries", unit="{retry}", description="Retries, by reason."
        )
        self.rate_limited = meter.create_counter(
            "intercom.client.rate_limited", unit="{response}", description="Answers of status 429."
        )
        self.waits = meter.create_counter(
            "intercom.client.rate_limit.waits",
            unit="{wait}",
            description="Requests held back for their turn under the rate limit.",
        )
        self.wait_time = meter.create_counter(
            "intercom.client.rate_limit.wait_time",
            unit="s",
            description="Seconds requests waited for their turn under the rate limit.",
        )
        self.turns = meter.create_counter(
            "intercom.client.turns",
            unit="{request}",
            description="Requests sent, by the pacing that gave them their turn.",
        )
        self.budget = meter.create_histogram(
            "intercom.client.budget.duration",
            unit="s",
            description="Duration of calls to the shared rate-limit budget's store.",
        )

    def _tracing(self) -> bool:
        if self._traced:
            return True
        provider = self._tracer_provider or trace.get_tracer_provider()
        # A global provider is set once: when it is a real one, it stays.
        self._traced = not isinstance(
            provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)
        )
        return self._traced

    def _metering(self) -> bool:
        if self._metered:
            return True
        provider = self._meter_provider or metrics.get_meter_provider()
        # The global provider before any SDK is set up is a private proxy class: by its name.
        self._metered = not (
            isinstance(provider, metrics.NoOpMeterProvider)
            or type(provider).__name__ == "_ProxyMeterProvider"
        )
        return self._metered

    def call(self, start: CallStart) -> CallSink | None:
        tracing, metering = self._tracing(), self._metering()
        if not (tracing or metering):
            return None
        return _OtelCall(self, start, tracing=tracing, metering=metering)

    def attributes(self, start: CallStart) -> dict[str, AttributeValue]:
        return {"http.request.method": start.method, **self._server, "url.template": start.route}

    def url(self, path: str) -> str:
        return self._root + path

    def start_span(
        self,
        name: str,
        parent: trace.Span | None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: dict[str, AttributeValue] | None = None,
        start_time: int | None = None,
    ) -> trace.Span:
        where = trace.set_span_in_context(parent) if parent is not None else None
        return self._tracer.start_span(
            name, where, kind=kind, attributes=attributes, start_time=start_time
        )

    def budget_call(self, seconds: float, outcome: str) -> None:
        attributes: dict[str, AttributeValue] = {"intercom.budget.outcome": outcome}
        if self._metering():
            self.budget.record(seconds, attributes)
        if not self._tracing():
            return
        parent = trace.get_current_span()
        if not parent.is_recording():  # a budget call outside any call: no trace of its own
            return
        now = time.time_ns()
        span = self.start_span(
            BUDGET_SPAN, parent, attributes=attributes, start_time=now - int(seconds * 1e9)
        )
        if outcome != "ok":
            span.set_status(StatusCode.ERROR)
            span.set_attribute("error.type", outcome)
        span.end(end_time=now)


class _OtelCall(CallSink):
    __slots__ = (
        "_attempt_span",
        "_attributes",
        "_metering",
        "_sink",
        "_span",
        "_token",
        "_wait_span",
    )

    def __init__(self, sink: OtelSink, start: CallStart, *, tracing: bool, metering: bool) -> None:
        self._sink = sink
        self._metering = metering
        self._attributes = sink.attributes(start)
        self._span: trace.Span | None = None
        self._attempt_span: trace.Span | None = None
        self._wait_span: trace.Span | None = None
        self._token: Token[Context] | None = None
        if tracing:
            span = sink.start_span(
                f"{start.method} {start.route}", None, attributes=self._attributes
            )
            if span.is_recording():
                self._span = span
                # Current while the call runs: spans made under it (the shared budget's, the
                # application's own) are its children. ended() detaches it, in the same task.
                self._token = context.attach(trace.set_span_in_context(span))

    async def request(self, event: RequestEvent) -> None:
        if self._span is None:
            return
        attributes = dict(self._attributes)
        attributes["url.full"] = self._sink.url(event.path)
        if event.attempt > 1:
            attributes["http.request.resend_count"] = event.attempt - 1
        name = f"{event.method} {event.route}"
        self._attempt_span = self._sink.start_span(name, self._span, SpanKind.CLIENT, attributes)

    async def response(self, event: ResponseEvent) -> None:
        if self._metering:
            attributes = dict(self._attributes)
            if event.status is not None:
                attributes["http.response.status_code"] = event.status
            if event.error_type is not None:
                attributes["error.type"] = event.error_type
            self._sink.duration.record(event.elapsed, attributes)
            if event.status == 429:
                self._sink.rate_limited.add(1, self._attributes)
        span, self._attempt_span = self._attempt_span, None
        if span is None:
            return
        if event.status is not None:
            span.set_attribute("http.response.status_code", event.status)
        if event.request_id is not None:
            span.set_attribute("intercom.request_id", event.request_id)
        if event.error_type is not None:
            span.set_attribute("error.type", event.error_type)
            span.set_status(StatusCode.ERROR)
        span.end()

    async def retry(self, event: RetryEvent) -> None:
        if self._metering:
            attributes = dict(self._attributes)
            attributes["intercom.retry.reason"] = event.reason
            attributes["error.type"] = event.error_type
            self._sink.retries.add(1, attributes)
        if self._span is not None:
            self._span.add_event(
                RETRY_EVENT,
                {
                    "intercom.retry.attempt": event.attempt,
                    "intercom.retry.reason": event.reason,
                    "intercom.retry.wait": event.wait,
                    "error.type": event.error_type,
                },
            )

    async def rate_limit_wait(self, event: RateLimitWaitEvent) -> None:
        if self._metering:
            self._sink.waits.add(1, {**self._attributes, "intercom.pacing": event.pacing})
        if self._span is not None:
            attributes: dict[str, AttributeValue] = {
                "intercom.pacing": event.pacing,
                "intercom.rate_limit.wait_seconds": event.seconds,
                "intercom.attempt": event.attempt,
            }
            self._wait_span = self._sink.start_span(WAIT_SPAN, self._span, attributes=attributes)

    def rate_limit_waited(self, seconds: float, pacing: Pacing) -> None:
        if self._metering:
            self._sink.wait_time.add(seconds, {**self._attributes, "intercom.pacing": pacing})
        span, self._wait_span = self._wait_span, None
        if span is not None:
            span.end()

    def turn(self, attempt: int, pacing: Pacing) -> None:
        if self._metering:
            self._sink.turns.add(1, {**self._attributes, "intercom.pacing": pacing})

    def ended(self, end: CallEnd) -> None:
        span = self._span
        if span is None:
            return
        self._span = None
        for left in (self._wait_span, self._attempt_span):  # cut short by a cancellation
            if left is not None:
                left.set_attribute("error.type", end.error_type or "cancelled")
                left.set_status(StatusCode.ERROR)
                left.end()
        self._wait_span = self._attempt_span = None
        span.set_attribute("intercom.attempts", end.attempts)
        if end.status is not None:
            span.set_attribute("http.response.status_code", end.status)
        if end.error_type is not None:
            span.set_attribute("error.type", end.error_type)
            span.set_status(StatusCode.ERROR)
        span.end()
        if self._token is not None:
            context.detach(self._token)
            self._token = None
