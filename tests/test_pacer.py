"""The rate-limit pacer on its own: budgets, windows, 429s, the local cap."""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate

import pytest

from intercom_async import RateLimitError
from intercom_async._ratelimit import Pacer


def window(limit: int, remaining: int, reset: float) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{reset:.3f}",
    }


async def acquire_times(pacer: Pacer, n: int) -> list[float]:
    times = []
    for _ in range(n):
        await pacer.acquire()
        times.append(time.time())
    return times


async def test_unknown_limits_hold_nothing_back() -> None:
    pacer = Pacer()
    started = time.monotonic()
    await acquire_times(pacer, 100)
    assert time.monotonic() - started < 0.05
    assert pacer.last is None


async def test_the_remaining_budget_is_spent_then_held_until_reset() -> None:
    pacer = Pacer()
    await pacer.acquire()
    reset = time.time() + 0.4
    pacer.observe(200, window(10, 3, reset))

    times = await acquire_times(pacer, 5)

    assert all(t < reset for t in times[:3])
    assert all(t >= reset for t in times[3:])
    assert pacer.waits == 1
    assert pacer.last is not None and pacer.last.remaining == 3


async def test_requests_in_flight_count_against_the_budget() -> None:
    pacer = Pacer()
    for _ in range(4):
        await pacer.acquire()
    reset = time.time() + 0.3
    pacer.observe(200, window(10, 3, reset))  # three still in flight, all counted already

    times = await acquire_times(pacer, 1)

    assert times[0] >= reset


async def test_a_new_window_gives_the_limit_again_not_a_herd() -> None:
    pacer = Pacer()
    await pacer.acquire()
    reset = time.time() + 0.2
    pacer.observe(429, window(3, 0, reset))

    times = await acquire_times(pacer, 3)  # the new window's limit goes out at its reset

    assert all(t >= reset for t in times)
    waiter = asyncio.create_task(pacer.acquire())  # nothing answered yet: wait for news
    await asyncio.sleep(0.05)
    assert not waiter.done()
    pacer.observe(200, window(5, 3, time.time() + 0.5))  # 3 left, 2 of them for those in flight
    await asyncio.wait_for(waiter, 0.1)


async def test_a_429_with_retry_after_holds_everything() -> None:
    pacer = Pacer()
    await pacer.acquire()
    pacer.observe(429, {"Retry-After": "0.3"})
    started = time.monotonic()
    await pacer.acquire()
    assert time.monotonic() - started >= 0.25


async def test_a_429_that_says_nothing_holds_nothing() -> None:
    pacer = Pacer()
    await pacer.acquire()
    pacer.observe(429, {})
    started = time.monotonic()
    await pacer.acquire()
    assert time.monotonic() - started < 0.05


async def test_answers_from_a_past_window_are_ignored() -> None:
    pacer = Pacer()
    await pacer.acquire()
    await pacer.acquire()
    pacer.observe(200, window(10, 0, time.time() - 1))
    started = time.monotonic()
    await pacer.acquire()
    assert time.monotonic() - started < 0.05


async def test_a_server_clock_ahead_of_ours_is_allowed_for() -> None:
    pacer = Pacer()
    await pacer.acquire()
    server_now = time.time() + 3600
    headers = {**window(10, 0, server_now + 1.5), "Date": formatdate(server_now, usegmt=True)}
    pacer.observe(200, headers)
    started = time.monotonic()
    await pacer.acquire()
    # Date has whole seconds, so the pacer knows the server's time to within a second.
    assert 0.9 <= time.monotonic() - started < 2.2


async def test_the_local_cap_spaces_requests() -> None:
    pacer = Pacer(max_requests_per_second=50)
    times = await acquire_times(pacer, 11)
    assert times[-1] - times[0] >= 0.19


@pytest.mark.parametrize("rate", [0, -1.0])
def test_the_local_cap_must_be_positive(rate: float) -> None:
    with pytest.raises(ValueError, match="max_requests_per_second"):
        Pacer(max_requests_per_second=rate)


async def test_answers_without_headers_after_a_reset_do_not_stall_the_client() -> None:
    pacer = Pacer()
    await pacer.acquire()
    pacer.observe(200, window(1, 0, time.time() + 0.2))
    await pacer.acquire()  # after the reset: the one probe of the new window
    pacer.observe(502, {})  # a proxy's answer: no word of the window
    await asyncio.wait_for(pacer.acquire(), 0.5)  # so the next request may go and look
    pacer.release()  # and that one got no answer at all (a timeout, a refused connection)
    await asyncio.wait_for(pacer.acquire(), 0.5)


async def test_a_window_that_resets_too_far_ahead_is_an_error_not_a_hang() -> None:
    pacer = Pacer(max_wait=5.0)
    await pacer.acquire()
    pacer.observe(200, window(10, 0, time.time() + 3600))
    with pytest.raises(RateLimitError, match="nothing was sent") as info:
        await asyncio.wait_for(pacer.acquire(), 1)
    assert info.value.status == 429
