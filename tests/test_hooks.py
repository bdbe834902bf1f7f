"""``Hooks``: the application's callbacks, driven through the observer by synthetic calls."""

from __future__ import annotations

import asyncio
import logging

import attrs
import pytest

from intercom_async import (
    Hooks,
    RateLimitWaitEvent,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    ServerError,
)
from intercom_async._hooks import HookSink
from intercom_async._observe import Observer, build_observer

BASE = "https://api.intercom.io"


def observer(hooks: Hooks) -> Observer:
    return build_observer(base_url=BASE, hooks=hooks, environ={})


async def test_each_hook_gets_its_events_in_order() -> None:
    seen: list[object] = []

    async def record(event: object) -> None:
        await asyncio.sleep(0)  # a hook that yields still runs before the call goes on
        seen.append(event)

    def plain(event: RequestEvent) -> None:  # a plain function works too
        seen.append(("plain", event.attempt))

    hooks = Hooks(
        on_request=[record, plain],
        on_response=record,
        on_retry=record,
        on_rate_limit_wait=record,
    )
    call = observer(hooks).call("GET", "/tickets/{id}", "/tickets/1295")
    await call.rate_limit_wait_started(3.0, "shared")
    call.rate_limit_wait_ended()
    call.turn_taken("shared")
    await call.attempt_started()
    await call.attempt_ended(status=503, error=ServerError(503))
    await call.retrying(ServerError(503), 0.5)
    await call.attempt_started()
    await call.attempt_ended(status=200, request_id="req_2")
    call.ended(status=200)

    assert [type(e).__name__ if not isinstance(e, tuple) else e for e in seen] == [
        "RateLimitWaitEvent",
        "RequestEvent",
        ("plain", 1),
        "ResponseEvent",
        "RetryEvent",
        "RequestEvent",
        ("plain", 2),
        "ResponseEvent",
    ]
    wait, retry, last = seen[0], seen[4], seen[7]
    assert isinstance(wait, RateLimitWaitEvent) and (wait.seconds, wait.pacing) == (3.0, "shared")
    assert isinstance(retry, RetryEvent)
    assert (retry.attempt, retry.reason, retry.status, retry.wait) == (1, "status", 503, 0.5)
    assert isinstance(last, ResponseEvent)
    assert (last.attempt, last.status, last.request_id, last.error_type) == (2, 200, "req_2", None)


async def test_a_hook_that_raises_is_logged_and_the_call_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    after: list[int] = []

    async def broken(event: RequestEvent) -> None:
        raise RuntimeError("hook bug")

    async def next_one(event: RequestEvent) -> None:
        after.append(event.attempt)

    call = observer(Hooks(on_request=[broken, next_one])).call("GET", "/tickets/{id}", "/t/1")
    with caplog.at_level(logging.ERROR, logger="intercom_async"):
        await call.attempt_started()
    assert after == [1]
    [record] = caplog.records
    assert record.name == "intercom_async"
    assert "broken raised on RequestEvent; the call goes on" in record.getMessage()
    assert record.exc_info is not None and str(record.exc_info[1]) == "hook bug"


async def test_a_cancelled_hook_cancels_the_call() -> None:
    started = asyncio.Event()

    async def slow(event: ResponseEvent) -> None:
        started.set()
        await asyncio.sleep(60)

    call = observer(Hooks(on_response=slow)).call("GET", "/tickets/{id}", "/t/1")
    task = asyncio.create_task(call.attempt_ended(status=200))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_hooks_take_a_callable_or_a_list_of_them() -> None:
    async def one(event: RetryEvent) -> None:
        pass

    assert Hooks(on_retry=one).on_retry == (one,)
    assert Hooks(on_retry=[one, one]).on_retry == (one, one)
    assert not Hooks() and Hooks(on_retry=one)
    with pytest.raises(TypeError, match="a hook must be callable, not str"):
        Hooks(on_retry=["nope"])  # type: ignore[list-item]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Hooks().on_retry = (one,)  # type: ignore[misc]


def test_no_hooks_no_sink() -> None:
    sinks = build_observer(base_url=BASE, hooks=Hooks(), environ={}).sinks
    assert not any(isinstance(sink, HookSink) for sink in sinks)


def test_events_are_small_frozen_records_without_headers() -> None:
    event = RequestEvent(method="GET", route="/tickets/{id}", path="/tickets/1", attempt=1)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.attempt = 2  # type: ignore[misc]
    # What an event may hold, and no more: no header (the token is one), no body.
    assert [f.name for f in attrs.fields(ResponseEvent)] == [
        "method",
        "route",
        "path",
        "attempt",
        "status",
        "request_id",
        "error_type",
        "elapsed",
        "rate_limit_wait",
    ]
    assert [f.name for f in attrs.fields(RetryEvent)][3:] == [
        "attempt",
        "reason",
        "status",
        "error_type",
        "wait",
    ]
    assert [f.name for f in attrs.fields(RateLimitWaitEvent)][3:] == [
        "attempt",
        "seconds",
        "pacing",
    ]
