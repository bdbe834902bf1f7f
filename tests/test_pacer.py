"""The async pacer: who waits, in what order, for how long, and what cancelling or closing does.

The window's decisions have their own tests (``test_window.py``); these check the waiting.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from email.utils import formatdate

import pytest
from aiohttp import web

from intercom_async import ClientClosedError, IntercomClient, RateLimitError
from intercom_async._limits import LimitHeaders
from intercom_async._pacer import CLOSED_MESSAGE, Pacer
from intercom_async._ratelimit import Turn

from .conftest import TOKEN, ScriptedServer, observed, ticket_answer


def heard(status: int, headers: dict[str, str]) -> LimitHeaders:
    """An answer's headers, parsed as the request path parses them."""
    return LimitHeaders.parse(status, headers, time.time())


def window(limit: int, remaining: int, reset: float) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{reset:.3f}",
    }


async def spend(pacer: Pacer, seconds: float) -> float:
    """Let one request out and answer that the window is spent for ``seconds`` more."""
    turn = await pacer.acquire()
    reset = time.time() + seconds
    pacer.answered(turn, heard(200, window(10, 0, reset)))
    return reset


async def settle_soon(pacer: Pacer) -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(0)


async def test_unknown_limits_hold_nothing_back() -> None:
    pacer = Pacer()
    started = time.monotonic()
    for _ in range(100):
        await pacer.acquire()
    assert time.monotonic() - started < 0.05
    assert pacer.in_flight == 100
    assert pacer.waits == 0


async def test_a_spent_window_holds_every_request_until_its_reset() -> None:
    pacer = Pacer()
    reset = await spend(pacer, 0.3)
    held = asyncio.create_task(pacer.acquire())
    await asyncio.sleep(0.1)
    assert not held.done()
    assert pacer.queued == 1
    went = (await asyncio.wait_for(held, 1)).sent
    assert reset <= went < reset + 0.5  # (a loaded machine wakes late)
    assert pacer.waits == 1


async def test_waiting_requests_go_first_come_first_served() -> None:
    pacer = Pacer()
    await spend(pacer, 0.2)
    order: list[int] = []

    async def request(n: int) -> None:
        turn = await pacer.acquire()
        order.append(n)
        pacer.answered(turn, heard(200, window(10, 9 - n, time.time() + 5)))

    await asyncio.wait_for(asyncio.gather(*(request(n) for n in range(5))), 2)
    assert order == [0, 1, 2, 3, 4]
    assert pacer.waits == 5


async def test_at_the_reset_one_goes_and_its_answer_lets_the_rest_out() -> None:
    pacer = Pacer()
    await spend(pacer, 0.2)
    tasks = [asyncio.create_task(pacer.acquire()) for _ in range(3)]
    done, _ = await asyncio.wait(tasks, timeout=0.4)
    assert len(done) == 1  # the look
    pacer.answered(done.pop().result(), heard(200, window(10, 9, time.time() + 5)))
    await asyncio.wait_for(asyncio.gather(*tasks), 0.2)


async def test_a_cancelled_waiter_takes_nothing_and_the_next_goes_in_its_place() -> None:
    pacer = Pacer()
    await spend(pacer, 0.2)
    first = asyncio.create_task(pacer.acquire())
    second = asyncio.create_task(pacer.acquire())
    await asyncio.sleep(0.05)
    first.cancel()
    await asyncio.sleep(0)
    assert pacer.queued == 1
    await asyncio.wait_for(second, 0.5)
    with pytest.raises(asyncio.CancelledError):
        await first
    assert pacer.in_flight == 1  # the one that went; the cancelled one counts nothing
    assert pacer.queued == 0


async def test_a_waiter_cancelled_as_it_is_woken_passes_its_turn_on() -> None:
    pacer = Pacer()
    turn = await pacer.acquire()
    other = await pacer.acquire()
    pacer.answered(turn, heard(429, {"Retry-After": "30"}))  # held for half a minute
    first = asyncio.create_task(pacer.acquire())
    second = asyncio.create_task(pacer.acquire())
    await asyncio.sleep(0.01)
    pacer._window.held_until = 0.0  # the hold lifts, and news wakes the head ...
    pacer.unanswered(other, sent=False)
    first.cancel()  # ... which is cancelled before it runs
    await asyncio.wait_for(second, 0.5)
    assert pacer.queued == 0


async def test_close_fails_every_waiter_at_once() -> None:
    pacer = Pacer()
    await spend(pacer, 30)
    waiting = [asyncio.create_task(pacer.acquire()) for _ in range(3)]
    await asyncio.sleep(0.01)
    started = time.monotonic()
    pacer.close()
    for task in waiting:
        with pytest.raises(ClientClosedError):
            await task
    assert time.monotonic() - started < 0.1
    assert pacer.queued == 0
    with pytest.raises(ClientClosedError):
        await pacer.acquire()


async def test_a_window_that_resets_too_far_ahead_fails_at_once() -> None:
    pacer = Pacer()
    await spend(pacer, 3600)
    with pytest.raises(RateLimitError, match="nothing was sent") as info:
        await asyncio.wait_for(pacer.acquire(5.0), 1)
    assert info.value.status == 429
    assert pacer.queued == 0
    assert pacer.in_flight == 0


async def test_without_waiting_nothing_is_held() -> None:
    pacer = Pacer(max_requests_per_second=1)
    await spend(pacer, 30)
    started = time.monotonic()
    for _ in range(5):
        await pacer.acquire(1.0, wait=False)
    assert time.monotonic() - started < 0.05
    assert pacer.last is not None and pacer.last.remaining == 0
    assert (pacer.in_flight, pacer.waits) == (5, 0)


async def test_each_request_brings_its_own_wait_flag_and_max_wait() -> None:
    pacer = Pacer()
    reset = await spend(pacer, 0.3)
    held = asyncio.create_task(pacer.acquire(5.0))  # a patient one waits in the queue
    await asyncio.sleep(0.02)
    assert (held.done(), pacer.queued) == (False, 1)
    went = await pacer.acquire(5.0, wait=False)  # one that may not wait goes past it at once
    assert went.sent < reset
    with pytest.raises(RateLimitError) as info:
        await pacer.acquire(0.1)  # one in a hurry fails at once, however far back in the queue
    assert info.value.reason.endswith("max_delay of 0.1s; nothing was sent)")
    assert (held.done(), pacer.queued) == (False, 1)
    assert (await asyncio.wait_for(held, 1)).sent >= reset


async def test_a_429_holds_for_retry_after_even_past_its_reset() -> None:
    pacer = Pacer()
    turn = await pacer.acquire()
    pacer.answered(turn, heard(429, {**window(10, 0, time.time() + 0.05), "Retry-After": "0.4"}))
    started = time.monotonic()
    await asyncio.wait_for(pacer.acquire(), 1)
    assert time.monotonic() - started >= 0.35


async def test_a_server_clock_an_hour_ahead_is_allowed_for() -> None:
    pacer = Pacer()
    turn = await pacer.acquire()
    server_now = time.time() + 3600
    headers = {**window(10, 0, server_now + 1.5), "Date": formatdate(server_now, usegmt=True)}
    pacer.answered(turn, heard(200, headers))
    started = time.monotonic()
    await asyncio.wait_for(pacer.acquire(), 3)
    # Date has whole seconds: the wait is right to within a second, and never short.
    assert 1.4 <= time.monotonic() - started < 2.6


@pytest.mark.parametrize("rate", [40, 100])
async def test_the_local_cap_spaces_starts_by_its_interval(rate: float) -> None:
    pacer = Pacer(max_requests_per_second=rate)
    times = [(await pacer.acquire()).sent for _ in range(11)]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1 / rate - 0.002
    assert times[-1] - times[0] < 10 / rate + 0.5  # not much slower (test_window: exact)
    assert pacer.waits == 0  # the cap is not the window


@pytest.mark.parametrize("rate", [0, -1.0, float("nan"), float("inf"), True, "10"])
def test_the_local_cap_must_be_a_positive_finite_number(rate: object) -> None:
    with pytest.raises(ValueError, match="max_requests_per_second"):
        Pacer(max_requests_per_second=rate)  # type: ignore[arg-type]


async def test_a_wait_of_exactly_max_wait_is_waited() -> None:
    now = 1_700_000_000.0
    pacer = Pacer(clock=lambda: now)
    turn = await pacer.acquire()
    pacer.answered(turn, heard(200, window(10, 0, now + 5.0)))
    waiting = asyncio.create_task(pacer.acquire(5.0))
    await asyncio.sleep(0.02)
    assert not waiting.done()  # held, not refused
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def test_too_long_a_wait_says_how_long_and_what_the_window_said() -> None:
    now = 1_700_000_000.0
    pacer = Pacer(clock=lambda: now)
    turn = await pacer.acquire()
    pacer.answered(turn, heard(200, window(10, 0, now + 60)))
    with pytest.raises(
        RateLimitError, match=r"spent for 60s more, past .* max_delay of 5s"
    ) as info:
        await pacer.acquire(5.0)
    assert dict(info.value.headers) == {
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{now + 60:.3f}",
    }
    turn = await pacer.acquire(wait=False)
    pacer.answered(turn, heard(200, window(10, 0, now + 3600)))  # a newer window, an hour long?
    with pytest.raises(RateLimitError, match=r"spent for 300s more") as info:  # as far as any
        await pacer.acquire(5.0)
    assert info.value.headers["X-RateLimit-Reset"] == f"{now + 300:.3f}"


async def test_a_request_held_by_the_window_only_at_the_head_is_counted_once() -> None:
    pacer = Pacer(max_requests_per_second=20)
    first = await pacer.acquire()
    pacer.answered(first, heard(200, window(10, 0, time.time() + 0.2)))
    look = await asyncio.wait_for(pacer.acquire(), 2)  # held by the window: counted
    assert pacer.waits == 1
    reset = time.time() + 0.5
    pacer.answered(look, heard(200, window(10, 5, reset)))  # a new window, 5 left
    a = await pacer.acquire()
    queued = asyncio.create_task(pacer.acquire())  # held by the cap, not the window
    await asyncio.sleep(0)
    assert pacer.waits == 1
    pacer.answered(a, heard(200, window(10, 0, reset)))  # the window is spent: it holds it too
    await asyncio.sleep(0.01)
    assert pacer.waits == 2
    pacer.unanswered(await_other(pacer), sent=True)  # more news while it waits: still once
    await asyncio.sleep(0.01)
    assert pacer.waits == 2
    await asyncio.wait_for(queued, 2)
    assert pacer.waits == 2


def await_other(pacer: Pacer) -> Turn:
    """A request let out without waiting (pacing is off for it), to settle later."""
    return pacer.window.take(time.time())


async def test_an_unanswered_request_that_was_sent_gives_no_unit_back() -> None:
    pacer = Pacer()
    turn = await pacer.acquire()
    pacer.answered(turn, heard(200, window(10, 2, time.time() + 30)))
    sent, unsent = await pacer.acquire(), await pacer.acquire()
    pacer.unanswered(sent, sent=True)  # it may have been counted: the window is spent
    held = asyncio.create_task(pacer.acquire())
    await asyncio.sleep(0.02)
    assert not held.done()
    pacer.unanswered(unsent, sent=False)  # never sent: its unit goes to the one waiting
    await asyncio.wait_for(held, 1)


def test_a_request_the_window_allows_goes_without_yielding() -> None:
    # The success path costs no trip through the event loop: acquire() returns at once.
    now = 1_700_000_000.0
    pacer = Pacer(clock=lambda: now)
    for _ in range(3):
        step = pacer.acquire().__await__()
        with pytest.raises(StopIteration) as done:
            next(step)
        assert isinstance(done.value.value, Turn)
    assert pacer.in_flight == 3


async def test_one_stale_reset_does_not_lock_the_client_out(server: ScriptedServer) -> None:
    # A real server that allows 3 requests per half-second window; its third answer is a
    # replayed one, whose window ended five minutes ago. It must not hold (or fail) the rest.
    reset, left, answers = 0.0, 0, 0

    async def windowed(request: web.Request) -> web.StreamResponse:
        nonlocal reset, left, answers
        now = time.time()
        if now >= reset:
            reset, left = now + 0.5, 3
        answers += 1
        if not left:
            return web.json_response({"type": "error.list"}, status=429)
        left -= 1
        said = now - 300 if answers == 3 else reset
        headers = {**window(3, left, said), "Date": formatdate(now, usegmt=True)}
        return await ticket_answer(headers=headers)(request)

    server.script(windowed)
    async with IntercomClient(TOKEN, base_url=server.base_url) as client:
        for n in range(1, 11):
            assert (await asyncio.wait_for(client.tickets.get(str(n)), 3)).id == str(n)
        assert abs(client._pacer.window.clock.offset) < 1.0
        assert client.stats.rate_limit_waits >= 2
    assert server.count() == 10  # not one 429


# -- what a waiting request's call hears --------------------------------------------------------


async def test_a_request_held_by_the_window_hears_how_long_once() -> None:
    pacer = Pacer()
    await spend(pacer, 0.2)
    call, waits = observed()
    await asyncio.wait_for(pacer.acquire(call=call), 2.0)
    [event] = waits.events
    assert event.pacing == "local"
    assert 0.1 < event.seconds <= 0.21  # (the reset is sent to the millisecond)


async def test_a_request_held_until_an_answer_comes_hears_of_a_wait_of_unknown_length() -> None:
    pacer = Pacer()
    await spend(pacer, 0.05)
    await asyncio.sleep(0.06)
    look = await pacer.acquire()  # the window is over: one goes to look at the new one
    call, waits = observed()
    waiting = asyncio.ensure_future(pacer.acquire(call=call))  # how long: its answer will say
    await settle_soon(pacer)
    assert [(event.seconds, event.pacing) for event in waits.events] == [(0.0, "local")]
    pacer.answered(look, heard(200, window(10, 5, time.time() + 10.0)))
    await asyncio.wait_for(waiting, 1.0)


async def test_a_request_waiting_when_the_pacer_closes_is_told_the_client_is_closed() -> None:
    pacer = Pacer()
    await spend(pacer, 30.0)
    waiting = asyncio.ensure_future(pacer.acquire())
    await settle_soon(pacer)
    pacer.close()
    with pytest.raises(ClientClosedError) as raised:
        await waiting
    assert str(raised.value) == CLOSED_MESSAGE
    with pytest.raises(ClientClosedError) as raised:
        await pacer.acquire()  # and any later one
    assert str(raised.value) == CLOSED_MESSAGE
