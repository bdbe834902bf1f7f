"""``SharedQuota``'s own bookkeeping, pinned down precisely: what goes back in hand or to the
store, what an outage logs and names, how the store's WAIT and NEWS hold requests back, and how
the store is tried again.

The budget's Redis side is tested against a real ``redis-server`` elsewhere
(``test_redis_quota.py``, ``test_budget_script.py``); here a small in-test ``Store`` answers as
scripted and records every call, so that what ``SharedQuota`` sends and does can be checked to
the unit. The ``Outbox`` tests drive the sans-I/O part directly.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from types import SimpleNamespace

import pytest

from intercom_async import ClientClosedError, RateLimitError, _shared
from intercom_async._limits import LimitHeaders, RateLimit
from intercom_async._observe import Observer, Sink
from intercom_async._pacer import CLOSED_MESSAGE, Pacer
from intercom_async._shared import (
    GRANTED,
    NEWS,
    WAIT,
    Claim,
    Outbox,
    SharedQuota,
    SyncRequest,
    SyncResult,
)

from .conftest import observed

NAME = "intercom-async:{app-mutants}:budget"


class Refused(Exception):
    """The store refusing our credentials."""


class ScriptedStore:
    """A ``Store`` that answers each call with the next scripted result (or raises it)."""

    def __init__(self, *answers: SyncResult | Exception) -> None:
        self.answers: deque[SyncResult | Exception] = deque(answers)
        self.requests: list[SyncRequest] = []
        self.reset_error: Exception | None = None
        self.resets = 0

    async def sync(self, request: SyncRequest) -> SyncResult:
        self.requests.append(request)
        await asyncio.sleep(0)  # as a real store would, it lets the loop run
        answer = self.answers.popleft() if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def aclose(self) -> None:
        pass

    async def reset(self) -> None:
        self.resets += 1
        if self.reset_error is not None:
            raise self.reset_error

    def describe(self, error: BaseException) -> str:
        return f"described {type(error).__name__}: {error}"

    def refused(self, error: BaseException) -> bool:
        return isinstance(error, Refused)


class GatedStore(ScriptedStore):
    """A ``ScriptedStore`` whose answers wait for ``gate`` to open."""

    def __init__(self, *answers: SyncResult | Exception) -> None:
        super().__init__(*answers)
        self.gate = asyncio.Event()

    async def sync(self, request: SyncRequest) -> SyncResult:
        await self.gate.wait()
        return await super().sync(request)


def granted(n: int, gen: int = 7, *, end: float | None = None) -> SyncResult:
    return SyncResult(GRANTED, n, 0.0, gen, look=False, early=False, end=end)


def quota_on(store: ScriptedStore) -> SharedQuota:
    return SharedQuota(Pacer(), store, timeout=1.0, look_timeout=1.0, name=NAME)


def recording_pauses(quota: SharedQuota, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The seconds of each of the quota's sleeps, from now on (it still sleeps them)."""
    pauses: list[float] = []
    sleep = quota._sleeper.sleep

    async def recorded(seconds: float) -> None:
        pauses.append(seconds)
        await sleep(seconds)

    monkeypatch.setattr(quota._sleeper, "sleep", recorded)
    return pauses


async def settle() -> None:
    """Let the quota's task talk to the store."""
    for _ in range(5):
        await asyncio.sleep(0)


# -- Outbox ----------------------------------------------------------------------------------------


def test_looks_and_refunds_never_sent_add_up_per_generation() -> None:
    outbox = Outbox()
    for claim in (Claim(3, look=True), Claim(3, look=True), Claim(4, look=True)):
        outbox.unanswered(claim, sent=False)
    for claim in (Claim(3), Claim(3), Claim(3), Claim(5)):
        outbox.unanswered(claim, sent=False)
    request = outbox.request(0.0, 0, 0, 1.0)
    assert request.looks == ((3, 2), (4, 1))
    assert request.refunds == ((3, 3), (5, 1))


def test_a_look_sent_without_an_answer_is_urgent_news() -> None:
    outbox = Outbox()
    outbox.unanswered(Claim(5, look=True), sent=True)
    assert outbox.urgent is True
    assert outbox.released_gen == 5
    assert outbox.request(0.0, 0, 0, 1.0).settled == ((5, None, 1),)


def answer(reset: float, remaining: int, *, status: int = 200, limit: int = 100) -> LimitHeaders:
    window = RateLimit(limit=limit, remaining=remaining, reset=reset)
    return LimitHeaders(status, window)


def test_answers_are_settled_by_generation_and_reset() -> None:
    outbox = Outbox()
    outbox.answered(Claim(3), answer(1_000.0, 9), 990.0)
    outbox.answered(Claim(3), answer(1_000.0, 8), 990.0)
    outbox.answered(Claim(3), answer(1_010.0, 99), 990.0)
    outbox.answered(Claim(4), answer(1_010.0, 98), 990.0)
    settled = outbox.request(990.0, 0, 0, 1.0).settled
    assert sorted(settled) == [(3, 1_000.0, 2), (3, 1_010.0, 1), (4, 1_010.0, 1)]


@pytest.mark.parametrize(("first", "then"), [(5, 7), (7, 5)])
def test_answers_of_one_window_report_the_least_that_remains(first: int, then: int) -> None:
    outbox = Outbox()  # answers come out of order: the least Remaining is the newest
    outbox.answered(Claim(3), answer(1_000.0, first), 990.0)
    outbox.answered(Claim(4), answer(1_000.0, then), 990.0)
    request = outbox.request(990.0, 0, 0, 1.0)
    assert (request.reset, request.remaining, request.reset_gen) == (1_000.0, 5, 3)


def test_an_answer_of_an_older_window_changes_nothing_of_the_newer() -> None:
    outbox = Outbox()
    outbox.answered(Claim(3), answer(1_000.0, 5), 990.0)
    outbox.answered(Claim(2), answer(990.0, 1), 990.0)
    request = outbox.request(990.0, 0, 0, 1.0)
    assert (request.reset, request.remaining, request.reset_gen) == (1_000.0, 5, 3)


def test_a_newer_window_replaces_the_older_and_is_urgent() -> None:
    outbox = Outbox()
    outbox.answered(Claim(2), answer(990.0, 1), 985.0)
    outbox.urgent = False
    outbox.answered(Claim(3), answer(1_000.0, 50), 985.0)
    assert outbox.urgent is True
    request = outbox.request(985.0, 0, 0, 1.0)
    assert (request.reset, request.remaining, request.reset_gen) == (1_000.0, 50, 3)


# -- units given back, and requests without an answer ----------------------------------------------


async def test_a_unit_never_sent_goes_back_in_hand() -> None:
    store = ScriptedStore(granted(3))
    quota = quota_on(store)
    turn = await quota.acquire()
    assert turn.shared == Claim(7)
    assert len(store.requests) == 1
    quota.unanswered(turn, sent=False)  # back in hand: 3 units again, none to the store
    turns = [await quota.acquire() for _ in range(3)]
    assert [t.shared for t in turns] == [Claim(7)] * 3
    assert len(store.requests) == 1
    assert quota._outbox.refunds == {}
    await quota.acquire()  # the fourth needs the store again
    assert len(store.requests) == 2
    await quota.aclose()


async def test_a_new_generation_with_nothing_in_hand_gives_nothing_back() -> None:
    store = ScriptedStore(granted(1, gen=7), granted(1, gen=8), granted(1, gen=8))
    quota = quota_on(store)
    assert [(await quota.acquire()).shared for _ in range(3)] == [Claim(7), Claim(8), Claim(8)]
    assert [request.refunds for request in store.requests] == [(), (), ()]
    await quota.aclose()


async def test_a_unit_of_an_older_generation_goes_back_to_the_store() -> None:
    store = ScriptedStore(granted(1, gen=6), granted(2, gen=7))
    quota = quota_on(store)
    old = await quota.acquire()
    assert old.shared == Claim(6)
    await quota.acquire()  # a new generation: one unit left in hand
    assert len(store.requests) == 2
    quota.unanswered(old, sent=False)
    assert quota._outbox.refunds == {6: 1}  # never sent: the store counts it back
    assert quota._outbox.settled == {}
    await settle()
    turn = await quota.acquire()  # the unit in hand is of generation 7, and only one
    assert turn.shared == Claim(7)
    await quota.aclose()


async def test_a_look_never_sent_goes_back_to_the_store_as_a_look() -> None:
    look = SyncResult(GRANTED, 1, 0.0, 7, look=True, early=False)
    store = ScriptedStore(look, granted(1))
    quota = quota_on(store)
    turn = await quota.acquire()
    assert turn.shared == Claim(7, look=True)
    quota.unanswered(turn, sent=False)
    await settle()
    assert store.requests[1].looks == ((7, 1),)
    assert store.requests[1].refunds == ()
    await quota.aclose()


async def test_a_request_sent_without_an_answer_is_settled_with_the_store() -> None:
    store = ScriptedStore(granted(2))
    quota = quota_on(store)
    turn = await quota.acquire()
    assert quota._pacer.in_flight == 1
    quota.unanswered(turn, sent=True)
    assert quota._pacer.in_flight == 0
    assert quota._outbox.settled == {(7, None): 1}
    assert quota._outbox.refunds == {}
    await quota.aclose()


async def test_the_local_pacer_settles_each_request_as_sent_or_not() -> None:
    store = ScriptedStore(granted(5))
    quota = quota_on(store)
    first = await quota.acquire()
    reset = int(time.time()) + 60
    headers = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "10"}
    headers["X-RateLimit-Reset"] = str(reset)
    quota.answered(first, LimitHeaders.parse(200, headers, time.time()))
    window = quota._pacer.window
    assert window.budget == 10
    sent, unsent = await quota.acquire(), await quota.acquire()
    assert window.budget == 8
    quota.unanswered(sent, sent=True)  # the server may have counted it: the unit is spent
    assert window.budget == 8
    quota.unanswered(unsent, sent=False)  # the server never counted it: the unit is back
    assert window.budget == 9
    assert quota._pacer.in_flight == 0
    await quota.aclose()


async def test_a_look_sent_without_an_answer_lets_another_look_at_once() -> None:
    look = SyncResult(GRANTED, 1, 0.0, 7, look=True, early=False)
    store = ScriptedStore(look, granted(1))
    quota = quota_on(store)
    turn = await quota.acquire()
    quota.unanswered(turn, sent=True)
    await settle()
    assert len(store.requests) == 2  # told at once, with nobody waiting
    assert store.requests[1].released_gen == 7
    assert store.requests[1].settled == ((7, None, 1),)
    await quota.aclose()


async def test_requests_settled_while_the_store_is_down_leave_it_nothing_to_say() -> None:
    store = ScriptedStore(granted(2), OSError("down"))
    quota = quota_on(store)
    sent = await quota.acquire()
    unsent = await quota.acquire()
    quota._outbox.urgent = True  # something to say: the call fails, the store is off
    quota._kick()
    await settle()
    assert quota.shared is False
    quota.unanswered(sent, sent=True)
    quota.unanswered(unsent, sent=False)
    assert quota._pacer.in_flight == 0
    assert quota._outbox.settled == {}
    assert quota._outbox.refunds == {}
    await quota.aclose()


async def test_a_unit_handed_to_a_waiting_request_is_of_the_granted_generation() -> None:
    store = ScriptedStore(granted(1, gen=9))
    quota = quota_on(store)
    turns = await asyncio.gather(quota.acquire(), quota.acquire())
    assert [turn.shared for turn in turns] == [Claim(9), Claim(9)]
    await quota.aclose()


async def test_units_good_until_now_are_not_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    monkeypatch.setattr(
        _shared, "time", SimpleNamespace(time=lambda: now, perf_counter=time.perf_counter)
    )
    store = ScriptedStore(granted(2, end=now), granted(1, end=now + 60.0))
    quota = quota_on(store)
    turn = await quota.acquire()
    assert len(store.requests) == 2  # the first units' window was over: asked again
    assert store.requests[1].refunds == ((7, 2),)
    assert turn.shared == Claim(7)
    await quota.aclose()


# -- outages ---------------------------------------------------------------------------------------


async def down(store: ScriptedStore) -> SharedQuota:
    quota = quota_on(store)
    # The store fails: local pacing, the request goes.
    turn = await asyncio.wait_for(quota.acquire(), 2.0)
    assert turn.shared is None
    assert quota.shared is False
    return quota


async def test_a_timeout_is_logged_as_such_with_the_budget_s_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "intercom_async.quota")
    quota = await down(ScriptedStore(TimeoutError()))
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        f"the shared rate-limit budget ({NAME}) is unavailable (timed out); this client paces "
        "itself alone until Redis answers again"
    )
    assert quota._retrying is not None
    assert quota._retrying.get_name() == f"intercom_async shared budget {NAME} retry"
    await quota.aclose()


async def test_a_failure_is_logged_as_the_store_describes_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "intercom_async.quota")
    quota = await down(ScriptedStore(OSError("connection reset")))
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "(described OSError: connection reset)" in record.getMessage()
    assert f"({NAME})" in record.getMessage()
    await quota.aclose()


async def test_refused_credentials_are_logged_as_an_error_with_the_budget_s_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "intercom_async.quota")
    quota = await down(ScriptedStore(Refused("WRONGPASS")))
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert record.getMessage() == (
        f"the shared rate-limit budget ({NAME}) is not in use: Redis refused the credentials "
        "(described Refused: WRONGPASS), a configuration error, not an outage: check the user, "
        "password and ACL permissions the Redis client uses; this client paces itself alone "
        "meanwhile"
    )
    await quota.aclose()


async def test_the_store_is_tried_again_backing_off_and_then_shared_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_shared, "RETRY_FIRST", 0.01)
    monkeypatch.setattr(_shared, "RETRY_MAX", 0.04)
    caplog.set_level(logging.WARNING, "intercom_async.quota")
    error = OSError("down")
    store = ScriptedStore(error, error, error, error, error, granted(0), granted(1))
    store.reset_error = OSError("reset failed too")  # the retries go on all the same
    quota = quota_on(store)
    pauses = recording_pauses(quota, monkeypatch)
    turn = await asyncio.wait_for(quota.acquire(), 2.0)
    assert turn.shared is None
    assert quota.shared is False
    assert quota._pacer.follows_window is True
    async with asyncio.timeout(1.5):
        while not quota.shared:
            await asyncio.sleep(0.005)
    assert store.resets == 1
    assert pauses == [0.01, 0.02, 0.04, 0.04, 0.04]
    assert quota.shared is True
    assert quota._pacer.follows_window is False
    retries = store.requests[1:6]
    assert [(r.want, r.prefetch) for r in retries] == [(0, 0)] * 5
    assert caplog.records[-1].getMessage() == (
        f"the shared rate-limit budget ({NAME}) is back; this client shares it again"
    )
    turn = await quota.acquire()  # nothing was left in hand from before: the store is asked
    assert turn.shared == Claim(7)
    assert store.requests[-1].want == 1
    await quota.aclose()


# -- WAIT and NEWS ---------------------------------------------------------------------------------


async def test_news_is_a_moment_s_poll_not_a_wait_a_request_may_not_afford() -> None:
    far = time.time() + 60.0
    store = ScriptedStore(SyncResult(NEWS, 0, far, 7, look=False, early=False), granted(1))
    quota = quota_on(store)
    call, waits = observed()
    turn = await asyncio.wait_for(quota.acquire(1.0, call=call), 1.0)
    assert turn.shared == Claim(7)
    assert [(e.seconds, e.pacing) for e in waits.events] == [(_shared.POLL, "shared")]
    await quota.aclose()


async def test_news_of_a_moment_already_past_polls_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    past = time.time() - 60.0
    store = ScriptedStore(SyncResult(NEWS, 0, past, 7, look=False, early=False), granted(1))
    quota = quota_on(store)
    pauses = recording_pauses(quota, monkeypatch)
    await asyncio.wait_for(quota.acquire(), 1.0)
    assert pauses == [0.0]
    assert len(store.requests) == 2
    await quota.aclose()


async def test_a_wait_holds_the_requests_until_the_time_the_store_named() -> None:
    until = time.time() + 0.2
    wait = SyncResult(WAIT, 0, until, 7, look=False, early=False)
    store = ScriptedStore(wait, granted(2))
    quota = quota_on(store)
    call, waits = observed()
    started = time.monotonic()
    turns = await asyncio.wait_for(asyncio.gather(quota.acquire(call=call), quota.acquire()), 2.0)
    assert time.monotonic() - started >= 0.15
    assert len(store.requests) == 2
    assert [turn.shared for turn in turns] == [Claim(7), Claim(7)]
    [event] = waits.events
    assert event.pacing == "shared"
    assert 0.1 < event.seconds <= 0.2
    await quota.aclose()


async def test_a_request_the_store_would_hold_too_long_fails_naming_its_own_max_delay() -> None:
    until = time.time() + 30.0
    store = ScriptedStore(SyncResult(WAIT, 0, until, 7, look=False, early=False))
    quota = quota_on(store)
    with pytest.raises(RateLimitError) as raised:
        await asyncio.wait_for(quota.acquire(2.5), 1.0)
    assert "past the retry policy's max_delay of 2.5s" in str(raised.value)
    await quota.aclose()


async def test_a_request_that_comes_during_a_short_wait_waits_it_out() -> None:
    until = time.time() + 0.2
    store = ScriptedStore(SyncResult(WAIT, 0, until, 7, look=False, early=False), granted(2))
    quota = quota_on(store)
    first = asyncio.ensure_future(quota.acquire())
    await settle()
    assert quota._paused is not None  # the store said to wait 0.2 s
    second = await asyncio.wait_for(quota.acquire(0.5), 2.0)  # and this one may wait 0.5 s
    assert second.shared == Claim(7)
    assert (await first).shared == Claim(7)
    await quota.aclose()


async def test_waits_in_a_row_tell_an_observed_request_once() -> None:
    soon = time.time() + 0.05
    wait = SyncResult(WAIT, 0, soon, 7, look=False, early=False)
    store = ScriptedStore(wait, wait, granted(2))
    quota = quota_on(store)
    call, waits = observed()
    turns = await asyncio.wait_for(asyncio.gather(quota.acquire(call=call), quota.acquire()), 2.0)
    assert [turn.shared for turn in turns] == [Claim(7), Claim(7)]
    assert len(store.requests) == 3
    assert len(waits.events) == 1
    await quota.aclose()


async def test_a_wait_exactly_as_long_as_a_request_may_wait_is_waited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = time.time()
    monkeypatch.setattr(
        _shared, "time", SimpleNamespace(time=lambda: now, perf_counter=time.perf_counter)
    )
    until = now + 0.05
    store = ScriptedStore(SyncResult(WAIT, 0, until, 7, look=False, early=False), granted(1))
    quota = quota_on(store)
    turn = await asyncio.wait_for(quota.acquire(until - now), 1.0)
    assert turn.shared == Claim(7)
    store.answers = deque([SyncResult(WAIT, 0, until, 7, look=False, early=False)])
    with pytest.raises(RateLimitError):
        await asyncio.wait_for(quota.acquire(until - now - 0.01), 1.0)
    await quota.aclose()


# -- the local pacer, which follows the window while the store is down -----------------------------


async def spent_and_down(seconds: float) -> SharedQuota:
    """A quota whose store is down (so that its pacer follows the window), the window spent
    for ``seconds``."""
    quota = await down(ScriptedStore(ConnectionError("down")))
    pacer = quota._pacer
    now = time.time()
    pacer.answered(pacer.window.take(now), LimitHeaders(200, RateLimit(100, 0, now + seconds)))
    return quota


async def test_the_local_window_holds_a_request_to_its_own_max_wait() -> None:
    quota = await spent_and_down(30.0)
    with pytest.raises(RateLimitError, match=r"max_delay of 0\.5s"):
        await asyncio.wait_for(quota.acquire(0.5), 1.0)
    await quota.aclose()


async def test_the_local_window_lets_a_request_that_may_not_wait_go_at_once() -> None:
    quota = await spent_and_down(30.0)
    turn = await asyncio.wait_for(quota.acquire(wait=False), 1.0)
    assert turn.shared is None
    await quota.aclose()


async def test_the_local_window_tells_the_request_of_its_wait() -> None:
    quota = await spent_and_down(0.2)
    call, waits = observed()
    await asyncio.wait_for(quota.acquire(call=call), 2.0)
    assert [event.pacing for event in waits.events] == ["local"]
    await quota.aclose()


async def test_a_request_the_store_refuses_is_not_counted_by_the_local_window() -> None:
    until = time.time() + 30.0
    quota = quota_on(ScriptedStore(SyncResult(WAIT, 0, until, 7, look=False, early=False)))
    pacer = quota._pacer
    pacer.answered(pacer.window.take(time.time()), LimitHeaders(200, RateLimit(100, 5, until)))
    with pytest.raises(RateLimitError):
        await asyncio.wait_for(quota.acquire(1.0), 1.0)
    assert (pacer.window.budget, pacer.window.in_flight) == (5, 0)
    await quota.aclose()


# -- what the store's answers leave in hand --------------------------------------------------------


async def test_units_in_hand_are_kept_when_the_store_grants_none_more() -> None:
    store = ScriptedStore(granted(3), granted(0))
    quota = quota_on(store)
    turn = await quota.acquire()
    quota.answered(turn, LimitHeaders(200, RateLimit(100, 50, time.time() + 10.0)))
    await settle()  # news for the store: a call that wants nothing
    assert [request.want for request in store.requests] == [1, 0]
    for _ in range(2):  # the two left in hand, without the store
        await asyncio.wait_for(quota.acquire(), 1.0)
    assert len(store.requests) == 2
    await quota.aclose()


async def test_units_good_until_exactly_now_are_not_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    end = time.time() + 60.0
    store = ScriptedStore(granted(3, end=end), granted(1, end=end + 60.0))
    quota = quota_on(store)
    await quota.acquire()
    monkeypatch.setattr(
        _shared, "time", SimpleNamespace(time=lambda: end, perf_counter=time.perf_counter)
    )
    await quota.acquire()
    assert [request.refunds for request in store.requests] == [(), ((7, 2),)]
    await quota.aclose()


async def test_what_the_store_says_was_early_is_told_back_to_it() -> None:
    early = SyncResult(GRANTED, 1, 0.0, 7, look=False, early=True)
    store = ScriptedStore(early, granted(1))
    quota = quota_on(store)
    await quota.acquire()
    await quota.acquire()
    assert [request.learnt_gen for request in store.requests] == [None, 7]
    await quota.aclose()


async def test_a_look_granted_to_a_request_gone_meanwhile_goes_back_as_a_look() -> None:
    look = SyncResult(GRANTED, 1, 0.0, 7, look=True, early=False)
    store = GatedStore(look, granted(1))
    quota = quota_on(store)
    waiting = asyncio.ensure_future(quota.acquire())
    await settle()  # its call is with the store
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    store.gate.set()
    await settle()
    await quota.acquire()
    last = store.requests[-1]
    assert (last.looks, last.settled, last.released_gen) == (((7, 1),), (), None)
    await quota.aclose()


async def test_a_request_during_a_moment_s_poll_is_not_refused_for_its_max_wait() -> None:
    far = time.time() + 60.0
    store = GatedStore(SyncResult(NEWS, 0, far, 7, look=False, early=False), granted(2))
    quota = quota_on(store)
    store.gate.set()
    first = asyncio.ensure_future(quota.acquire())
    await settle()
    assert quota._paused is not None and quota._paused[1] is None  # a poll, not a WAIT
    second = await asyncio.wait_for(quota.acquire(0.001), 2.0)
    assert second.shared == Claim(7)
    await first
    await quota.aclose()


async def test_a_request_the_pause_holds_exactly_its_max_wait_waits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = time.time()
    until = now + 0.05
    store = ScriptedStore(SyncResult(WAIT, 0, until, 7, look=False, early=False), granted(2))
    quota = quota_on(store)
    first = asyncio.ensure_future(quota.acquire())
    await settle()
    paused = quota._paused
    assert paused is not None
    monkeypatch.setattr(
        _shared, "time", SimpleNamespace(time=lambda: now, perf_counter=time.perf_counter)
    )
    second = await asyncio.wait_for(quota.acquire(paused[0] - now), 2.0)
    assert second.shared == Claim(7)
    await first
    await quota.aclose()


# -- closing ---------------------------------------------------------------------------------------


async def test_closing_gives_back_the_units_in_hand_in_one_last_call() -> None:
    store = ScriptedStore(granted(3))
    quota = quota_on(store)
    await quota.acquire()
    before = time.time()
    await quota.aclose()
    first, last = store.requests
    assert (last.want, last.prefetch, last.look_timeout, last.refunds) == (0, 0, 1.0, ((7, 2),))
    assert before <= last.now <= time.time()
    assert first.refunds == ()


async def test_closing_with_nothing_in_hand_calls_the_store_no_more() -> None:
    store = ScriptedStore(granted(1))
    quota = quota_on(store)
    await quota.acquire()
    await quota.aclose()
    await quota.aclose()
    assert len(store.requests) == 1


async def test_a_failing_last_call_does_not_fail_the_closing() -> None:
    store = ScriptedStore(granted(3), ConnectionError("gone"))
    quota = quota_on(store)
    await quota.acquire()
    await quota.aclose()
    assert len(store.requests) == 2


async def test_closing_fails_the_waiting_requests_saying_the_client_is_closed() -> None:
    store = GatedStore(granted(1))
    quota = quota_on(store)
    waiting = asyncio.ensure_future(quota.acquire())
    await settle()
    await quota.aclose()
    with pytest.raises(ClientClosedError) as raised:
        await waiting
    assert str(raised.value) == CLOSED_MESSAGE


async def test_news_heard_after_closing_is_not_taken_to_the_store() -> None:
    store = ScriptedStore(granted(1))
    quota = quota_on(store)
    turn = await quota.acquire()
    await quota.aclose()
    quota.answered(turn, LimitHeaders(200, RateLimit(100, 50, time.time() + 10.0)))  # news
    await settle()
    assert len(store.requests) == 1


def test_a_quota_closed_after_its_event_loop_ended_gives_nothing_back() -> None:
    store = ScriptedStore(granted(3))
    quota = quota_on(store)
    asyncio.run(quota.acquire())
    asyncio.run(quota.aclose())  # the units in hand expire with their window
    assert len(store.requests) == 1


def test_an_outbox_with_nothing_heard_asks_for_nothing_else() -> None:
    outbox = Outbox()
    assert outbox.urgent is False
    assert outbox.request(5.0, 2, 3, 1.5) == SyncRequest(5.0, 2, 3, 1.5)


async def test_the_units_of_a_request_cancelled_as_they_came_go_back_in_hand(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = GatedStore(granted(1))
    quota = quota_on(store)
    waiting = asyncio.ensure_future(quota.acquire())
    await settle()
    take = quota._take

    def take_then_cancel(result: SyncResult) -> None:
        take(result)  # the unit is the waiting request's now, and then it is cancelled
        waiting.cancel()

    monkeypatch.setattr(quota, "_take", take_then_cancel)
    store.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert quota._in_hand == 1
    monkeypatch.undo()
    assert (await quota.acquire()).shared == Claim(7)
    assert len(store.requests) == 1  # the unit given back, not a new one
    await quota.aclose()


async def test_an_observed_request_cancelled_while_it_waits_is_cancelled() -> None:
    quota = quota_on(GatedStore(granted(1)))
    call, _ = observed()
    waiting = asyncio.ensure_future(quota.acquire(call=call))
    await settle()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await quota.aclose()


async def test_the_store_s_task_is_named_after_the_budget() -> None:
    quota = quota_on(GatedStore(granted(1)))
    waiting = asyncio.ensure_future(quota.acquire())
    await settle()
    assert quota._syncing is not None
    assert quota._syncing.get_name() == f"intercom_async shared budget {NAME}"
    waiting.cancel()
    await quota.aclose()


async def test_the_time_told_to_the_store_is_intercom_s() -> None:
    store = ScriptedStore(granted(1))
    quota = quota_on(store)
    now = time.time()
    quota._pacer.window.clock.answered(now + 100.0, None, now, now)  # a Date 100 s ahead
    offset = quota._pacer.window.clock.offset
    assert offset > 50.0
    before = time.time()
    await quota.acquire()
    assert before + offset <= store.requests[0].now <= time.time() + offset


async def test_a_request_handed_a_unit_soon_enough_hears_of_no_wait() -> None:
    store = ScriptedStore(granted(1), granted(1))
    quota = quota_on(store)
    (first, first_waits), (second, second_waits) = observed(), observed()
    turns = await asyncio.wait_for(
        asyncio.gather(quota.acquire(call=first), quota.acquire(call=second)), 1.0
    )
    assert [turn.shared for turn in turns] == [Claim(7), Claim(7)]
    assert (first_waits.events, second_waits.events, quota.waits) == ([], [], 0)
    await quota.aclose()


async def test_each_request_held_by_the_store_is_one_wait_however_many_times() -> None:
    soon = time.time() + 0.05
    wait = SyncResult(WAIT, 0, soon, 7, look=False, early=False)
    store = ScriptedStore(wait, wait, granted(2))
    quota = quota_on(store)
    await asyncio.wait_for(asyncio.gather(quota.acquire(), quota.acquire()), 2.0)
    assert len(store.requests) == 3
    assert quota.waits == 2
    await quota.aclose()


async def test_a_store_that_does_not_answer_in_time_is_down_after_the_timeout() -> None:
    store = GatedStore(granted(1))
    quota = SharedQuota(Pacer(), store, timeout=0.05, look_timeout=1.0, name=NAME)
    turn = await asyncio.wait_for(quota.acquire(), 1.0)
    assert turn.shared is None
    assert quota.shared is False
    await quota.aclose()


async def test_a_spent_local_window_does_not_hold_what_the_shared_budget_grants() -> None:
    quota = quota_on(ScriptedStore(granted(1)))
    pacer = quota._pacer
    now = time.time()
    pacer.answered(pacer.window.take(now), LimitHeaders(200, RateLimit(100, 0, now + 30.0)))
    turn = await asyncio.wait_for(quota.acquire(0.5), 1.0)
    assert turn.shared == Claim(7)
    await quota.aclose()


class BudgetCalls(Sink):
    def __init__(self) -> None:
        self.calls: list[tuple[float, str]] = []

    def budget_call(self, seconds: float, outcome: str) -> None:
        self.calls.append((seconds, outcome))


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [(granted(1), "ok"), (ConnectionError("gone"), "error"), (TimeoutError(), "timeout")],
)
async def test_each_call_to_the_store_is_told_to_the_observer_with_its_outcome(
    answer: SyncResult | Exception, outcome: str
) -> None:
    quota = quota_on(ScriptedStore(answer))
    sink = BudgetCalls()
    quota.observer = Observer([sink])
    started = time.perf_counter()
    await asyncio.wait_for(quota.acquire(), 1.0)
    [(seconds, said)] = sink.calls[:1]
    assert said == outcome
    assert 0 <= seconds <= time.perf_counter() - started
    await quota.aclose()


async def test_a_call_to_the_store_cut_short_is_told_as_cancelled() -> None:
    quota = quota_on(GatedStore(granted(1)))
    sink = BudgetCalls()
    quota.observer = Observer([sink])
    waiting = asyncio.ensure_future(quota.acquire())
    await settle()
    await quota.aclose()  # cancels the call in flight
    await asyncio.gather(waiting, return_exceptions=True)
    assert [outcome for _, outcome in sink.calls] == ["cancelled"]
