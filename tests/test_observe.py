"""The observer of a request path (``_observe.py``), driven by synthetic call sequences."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import aiohttp
import attrs
import pytest

from intercom_async import RateLimitError, ServerError, TransportError
from intercom_async._events import RateLimitWaitEvent, RequestEvent, ResponseEvent, RetryEvent
from intercom_async._observe import (
    NO_CALL,
    CallEnd,
    CallSink,
    CallStart,
    Observer,
    Sink,
    build_observer,
    error_type,
    retry_reason,
)

ROUTE = "/tickets/{id}"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@attrs.define
class Recorder(Sink):
    """A sink that keeps what it was told, in order."""

    seen: list[object] = attrs.field(factory=list)
    budget: list[tuple[float, str]] = attrs.field(factory=list)
    listen: bool = True

    def call(self, start: CallStart) -> CallSink | None:
        self.seen.append(start)
        return _RecorderCall(self.seen) if self.listen else None

    def budget_call(self, seconds: float, outcome: str) -> None:
        self.budget.append((seconds, outcome))


class _RecorderCall(CallSink):
    __slots__ = ("seen",)

    def __init__(self, seen: list[object]) -> None:
        self.seen = seen

    async def request(self, event: RequestEvent) -> None:
        self.seen.append(event)

    async def response(self, event: ResponseEvent) -> None:
        self.seen.append(event)

    async def retry(self, event: RetryEvent) -> None:
        self.seen.append(event)

    async def rate_limit_wait(self, event: RateLimitWaitEvent) -> None:
        self.seen.append(event)

    def rate_limit_waited(self, seconds: float, pacing: str) -> None:
        self.seen.append(("waited", seconds, pacing))

    def turn(self, attempt: int, pacing: str) -> None:
        self.seen.append(("turn", attempt, pacing))

    def ended(self, end: CallEnd) -> None:
        self.seen.append(end)


def rate_limited() -> RateLimitError:
    return RateLimitError(429, request_id="req_1")


async def test_no_sink_and_no_listener_give_the_shared_silent_call() -> None:
    assert Observer().call("GET", ROUTE, "/tickets/1") is NO_CALL
    quiet = Recorder(listen=False)
    assert Observer([quiet]).call("GET", ROUTE, "/tickets/1") is NO_CALL
    assert quiet.seen == [CallStart("GET", ROUTE, "/tickets/1")]
    # Every method of the silent call returns at once, in any order.
    NO_CALL.turn_taken("local")
    await NO_CALL.rate_limit_wait_started(1.0, "shared")
    NO_CALL.rate_limit_wait_ended()
    await NO_CALL.attempt_started()
    await NO_CALL.attempt_ended(status=200)
    await NO_CALL.retrying(rate_limited(), 1.0)
    NO_CALL.ended(status=200)


async def test_a_rate_limited_then_retried_call_tells_its_sinks_in_order() -> None:
    clock, sink = Clock(), Recorder()
    call = Observer([sink], clock=clock).call("GET", ROUTE, "/tickets/1295")
    path = {"method": "GET", "route": ROUTE, "path": "/tickets/1295"}

    await call.rate_limit_wait_started(2.5, "local")  # held back before the first attempt
    clock.now += 2.0
    call.rate_limit_wait_ended()
    call.turn_taken("local")
    await call.attempt_started()
    clock.now += 0.25
    await call.attempt_ended(status=429, request_id="req_1", error=rate_limited())
    await call.retrying(rate_limited(), 1.5)
    clock.now += 1.5
    call.turn_taken("shared")
    await call.attempt_started()
    clock.now += 0.5
    await call.attempt_ended(status=200, request_id="req_2")
    call.ended(status=200)

    assert sink.seen == [
        CallStart("GET", ROUTE, "/tickets/1295"),
        RateLimitWaitEvent(**path, attempt=1, seconds=2.5, pacing="local"),
        ("waited", 2.0, "local"),
        ("turn", 1, "local"),
        RequestEvent(**path, attempt=1),
        ResponseEvent(
            **path,
            attempt=1,
            status=429,
            request_id="req_1",
            error_type="429",
            elapsed=0.25,
            rate_limit_wait=2.0,
        ),
        RetryEvent(**path, attempt=1, reason="status", status=429, error_type="429", wait=1.5),
        ("turn", 2, "shared"),
        RequestEvent(**path, attempt=2),
        ResponseEvent(
            **path,
            attempt=2,
            status=200,
            request_id="req_2",
            error_type=None,
            elapsed=0.5,
            rate_limit_wait=0.0,
        ),
        CallEnd(**path, attempts=2, status=200, error_type=None, elapsed=4.25),
    ]


async def test_a_call_cut_short_in_a_wait_closes_the_wait_once() -> None:
    clock, sink = Clock(), Recorder()
    call = Observer([sink], clock=clock).call("GET", ROUTE, "/tickets/7")
    await call.rate_limit_wait_started(30.0, "shared")
    clock.now += 1.0
    cancelled = asyncio.CancelledError()
    call.ended(error=cancelled)
    call.ended(error=cancelled)  # a second end does nothing
    call.rate_limit_wait_ended()  # nor does a wait ended twice
    assert sink.seen[2:] == [
        ("waited", 1.0, "shared"),
        CallEnd(
            method="GET",
            route=ROUTE,
            path="/tickets/7",
            attempts=0,
            status=None,
            error_type="cancelled",
            elapsed=1.0,
        ),
    ]


def test_budget_calls_go_to_every_sink() -> None:
    first, second = Recorder(), Recorder(listen=False)
    Observer([first, second]).budget_call(0.004, "ok")
    assert first.budget == second.budget == [(0.004, "ok")]


def test_error_types_follow_opentelemetry() -> None:
    refused = TransportError("connection refused", path="/tickets/1")
    refused.__cause__ = aiohttp.ServerDisconnectedError()
    timed_out = TransportError("timed out", path="/tickets/1", timed_out=True)
    assert error_type(200, None) is None
    assert error_type(503, ServerError(503)) == "503"
    assert error_type(None, timed_out) == "timeout"
    assert error_type(None, TimeoutError()) == "timeout"
    assert error_type(None, asyncio.CancelledError()) == "cancelled"
    assert error_type(None, refused) == "aiohttp.ServerDisconnectedError"
    assert error_type(None, TransportError("no cause", path="/")) == "intercom_async.TransportError"
    assert error_type(None, ValueError("x")) == "ValueError"
    assert error_type(200, None) is None


def test_retry_reasons() -> None:
    assert retry_reason(ServerError(503)) == "status"
    assert retry_reason(TransportError("timed out", path="/", timed_out=True)) == "timeout"
    assert retry_reason(TransportError("reset", path="/")) == "connection"


def test_build_observer_checks_what_it_is_given() -> None:
    with pytest.raises(TypeError, match="hooks must be a Hooks, not dict"):
        build_observer(base_url="https://api.intercom.io", hooks={}, environ={})
    with pytest.raises(ValueError, match="INTERCOM_ASYNC_LOG must be 'info' or 'debug'"):
        build_observer(base_url="https://api.intercom.io", environ={"INTERCOM_ASYNC_LOG": "yes"})
    with pytest.raises(TypeError, match="tracer_provider must be an OpenTelemetry"):
        build_observer(base_url="https://api.intercom.io", tracer_provider=object(), environ={})


# Run in a fresh interpreter where every `opentelemetry` import fails, as without the extra.
WITHOUT_OTEL = textwrap.dedent(
    """
    import asyncio, sys
    from importlib.abc import MetaPathFinder

    class Blocker(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "opentelemetry" or name.startswith("opentelemetry."):
                raise ImportError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Blocker())
    from intercom_async import Hooks
    from intercom_async._observe import NO_CALL, build_observer

    seen = []
    async def on_request(event):
        seen.append(event.attempt)

    async def main():
        bare = build_observer(base_url="https://api.intercom.io", environ={})
        assert bare.sinks == () and bare.call("GET", "/tickets/{id}", "/tickets/1") is NO_CALL
        hooked = build_observer(
            base_url="https://api.intercom.io", hooks=Hooks(on_request=on_request), environ={}
        )
        call = hooked.call("GET", "/tickets/{id}", "/tickets/1")
        await call.attempt_started()
        await call.attempt_ended(status=200)
        call.ended(status=200)
        try:
            build_observer(base_url="https://api.intercom.io", tracer_provider=object())
        except ImportError as exc:
            print("refused:", exc)

    asyncio.run(main())
    assert not [name for name in sys.modules if name.startswith("opentelemetry")]
    print("seen", seen)
    """
)


def test_works_without_opentelemetry_installed() -> None:
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", WITHOUT_OTEL], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "seen [1]" in done.stdout
    assert "refused: tracer_provider= and meter_provider= need opentelemetry-api" in done.stdout
