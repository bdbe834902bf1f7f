"""``SharedQuota``: one rate-limit budget for every process of an app, kept in a store (Redis).

Every process that uses the same app (token) takes its units from one budget, so that together
they send no more than the window has left, and one 429 holds them all. Talking to the store
costs a round trip, so it is done in bulk: a process asks for as many units as it has requests
waiting (a few more when the window has plenty), hands them out itself, and carries what it
heard from Intercom (the newest window, a 429's hold, units back) on its next call; only news
the others need at once (a 429, a new window, a look that got no word) calls at once.

The store is help, never a single point of failure. A call that fails or takes longer than
``timeout`` turns the store off for this process: one WARNING, the waiting requests go, and the
client's own pacer (which heard every answer all along) paces alone. In the background the store
is tried again, and when it answers, one WARNING says so and the shared budget takes over again.

The local pacer still runs in front of the shared budget: it keeps the local cap
(``max_requests_per_second``), the order of the queue, the server's clock and ``rate_limit``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

import attrs

from ._errors import ClientClosedError
from ._limits import LimitHeaders, RateLimit
from ._observe import NO_CALL, Call, Observer
from ._pacer import CLOSED_MESSAGE, Pacer, spent_for_too_long
from ._ratelimit import Turn
from ._sleep import Sleeper

__all__ = ["Claim", "Outbox", "SharedQuota", "Store", "SyncRequest", "SyncResult"]

# Outages and recoveries of the store; a child of the "intercom_async" logger.
logger = logging.getLogger("intercom_async.quota")

POLL = 0.02  # seconds between asks while another process's look is out
PREFETCH = 4  # units asked for beyond those wanted, when the window has plenty
RETRY_FIRST, RETRY_MAX = 0.5, 8.0  # seconds between tries of a store that is down


@attrs.frozen
class Claim:
    """What the shared budget gave one request: a unit of generation ``gen``, or its one look."""

    gen: int
    look: bool = False


@attrs.frozen
class SyncRequest:
    """One call to the store: what this process heard, and how many units it wants."""

    now: float  # Intercom's time, as this process reckons it
    want: int
    prefetch: int
    look_timeout: float
    reset: float | None = None  # the newest window heard of, and what it had left
    limit: int | None = None
    remaining: int | None = None
    reset_gen: int | None = None  # the generation of the unit whose answer said it
    held: float | None = None  # nothing before this (Intercom's time)
    refunds: tuple[tuple[int, int], ...] = ()  # (generation, units) never sent
    released_gen: int | None = None  # the look of that generation got no word
    # (generation, the window's reset the answers reported (None: unknown), units) answered
    # (or given up on after they were sent), since the last call
    settled: tuple[tuple[int, float | None, int], ...] = ()
    learnt_gen: int | None = None  # the generation this process was last told was early in
    looks: tuple[tuple[int, int], ...] = ()  # (generation, looks) never sent: back at once


@attrs.frozen
class SyncResult:
    """The store's answer (see ``_budget.lua``)."""

    code: int  # GRANTED, WAIT, NEWS, or UPDATED
    granted: int
    until: float
    gen: int
    look: bool
    early: bool
    end: float | None = None  # the window's end (Intercom's time): units granted are good until


GRANTED, WAIT, NEWS, UPDATED = 0, 1, 2, 3


class Store(Protocol):
    """Where the shared budget lives."""

    async def sync(self, request: SyncRequest) -> SyncResult:
        """Apply what ``request`` heard, and grant it what it wants if it may have it."""

    async def aclose(self) -> None:
        """Let go of the connection, if it is ours."""

    async def reset(self) -> None:
        """Drop the connections that a failure may have left broken."""

    def describe(self, error: BaseException) -> str:
        """What went wrong with the store, in a few words, for a log line."""

    def refused(self, error: BaseException) -> bool:
        """Whether ``error`` is the store refusing our credentials: a configuration error."""


class Outbox:
    """What this process heard from Intercom and the others have not, until its next call."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.reset: float | None = None
        self.limit: int | None = None
        self.remaining: int | None = None
        self.reset_gen: int | None = None
        self.held: float | None = None
        self.refunds: dict[int, int] = {}
        self.settled: dict[tuple[int, float | None], int] = {}
        self.released_gen: int | None = None
        self.looks: dict[int, int] = {}
        self.urgent = False

    def answered(self, claim: Claim, answer: LimitHeaders, server_now: float) -> None:
        """Note the answer to a request that had ``claim``; ``server_now``: Intercom's time."""
        # A server holds every process MAX_SERVER_WAIT at most: a window said to end later is
        # not believed (a 429 that says so holds for the cap), nor is a longer Retry-After.
        reset, far = answer.reset_within(server_now)
        if far:
            reset = None
        self._settle(claim.gen, reset)
        remaining = answer.remaining
        if answer.status == 429:
            remaining = 0
            hold = answer.hold(server_now)
            if hold.seconds is not None:  # Retry-After, or no word at all
                self._hold(server_now + hold.seconds)
            elif hold.capped and hold.reset is not None:
                self._hold(hold.reset)  # the cap, past which no reset is believed
            self.urgent = True
        if reset is None or remaining is None:
            if claim.look:  # the look learnt nothing: let another go
                self.released_gen, self.urgent = claim.gen, True
            return
        if self.reset is None or reset > self.reset:
            self.reset, self.remaining, self.reset_gen = reset, remaining, claim.gen
            self.urgent = True  # a window the others may not know of yet
        elif reset == self.reset and self.remaining is not None:
            self.remaining = min(self.remaining, remaining)
        if answer.limit is not None:
            self.limit = answer.limit
        if claim.look:
            self.urgent = True

    def unanswered(self, claim: Claim, *, sent: bool) -> None:
        """Note a request that had ``claim`` and got no answer (``sent``: or may have)."""
        if not sent and claim.look:  # a look never sent: back, for another to go at once
            self.looks[claim.gen] = self.looks.get(claim.gen, 0) + 1
            self.urgent = True
            return
        if sent:
            self._settle(claim.gen, None)
        else:
            self.refunds[claim.gen] = self.refunds.get(claim.gen, 0) + 1
        if claim.look:  # the look learnt nothing: let another go
            self.released_gen, self.urgent = claim.gen, True

    def request(
        self,
        now: float,
        want: int,
        prefetch: int,
        look_timeout: float,
        learnt_gen: int | None = None,
    ) -> SyncRequest:
        """A call carrying what was heard (and emptying the outbox)."""
        request = SyncRequest(
            now=now,
            want=want,
            prefetch=prefetch,
            look_timeout=look_timeout,
            reset=self.reset,
            limit=self.limit,
            remaining=self.remaining,
            reset_gen=self.reset_gen,
            held=self.held,
            refunds=tuple(sorted(self.refunds.items())),
            released_gen=self.released_gen,
            settled=tuple((gen, reset, n) for (gen, reset), n in self.settled.items()),
            learnt_gen=learnt_gen,
            looks=tuple(sorted(self.looks.items())),
        )
        self.clear()
        return request

    def _settle(self, gen: int, reset: float | None) -> None:
        self.settled[gen, reset] = self.settled.get((gen, reset), 0) + 1

    def _hold(self, until: float) -> None:
        self.held = until if self.held is None else max(self.held, until)


class SharedQuota:
    """A client's ``Quota`` under a shared budget, with its own ``Pacer`` as the fallback."""

    def __init__(
        self, pacer: Pacer, store: Store, *, timeout: float, look_timeout: float, name: str
    ) -> None:
        self._pacer = pacer
        self._store = store
        self._timeout = timeout
        self._look_timeout = look_timeout
        self._name = name
        self._outbox = Outbox()
        self._gen: int | None = None  # the generation of the units in hand
        self._learnt: int | None = None  # the generation the store last said was early
        self._in_hand = 0  # units granted to this process and not yet given to a request
        self._good_until = math.inf  # our clock: when the units in hand go stale
        self._waiting: deque[asyncio.Future[Claim | None]] = deque()
        # Each waiting request's own patience: its retry policy's max_delay, and wait flag.
        self._asks: dict[asyncio.Future[Claim | None], tuple[float, bool]] = {}
        # While the store's word holds every request back: (our clock) until when, and the
        # window's end it named if it said WAIT (else None: a moment's poll).
        self._paused: tuple[float, float | None] | None = None
        self._syncing: asyncio.Task[None] | None = None
        self._retrying: asyncio.Task[None] | None = None
        self._sleeper = Sleeper(CLOSED_MESSAGE)
        self._up = True
        self._closed = False
        self._shared_waits = 0
        # The calls that hear of their waits: a future, set to the wait's seconds, per request.
        self._notes: dict[asyncio.Future[Claim | None], asyncio.Future[float]] = {}
        self.observer = Observer()  # hears of each call to the store (the client sets its own)
        pacer.follows_window = False

    @property
    def last(self) -> RateLimit | None:
        return self._pacer.last

    @property
    def waits(self) -> int:
        return self._pacer.waits + self._shared_waits

    @property
    def shared(self) -> bool:
        """Whether the shared budget is in use (else the store is down: local pacing)."""
        return self._up

    async def acquire(
        self, max_wait: float = math.inf, *, wait: bool = True, call: Call = NO_CALL
    ) -> Turn:
        turn = await self._pacer.acquire(max_wait, wait=wait, call=call)
        if not self._up:
            return turn
        try:
            turn.shared = await self._claim(max_wait, wait, call)
        except BaseException:
            self._pacer.unanswered(turn, sent=False)
            raise
        return turn

    def answered(self, turn: Turn, answer: LimitHeaders) -> None:
        self._pacer.answered(turn, answer)
        claim = turn.shared
        if not isinstance(claim, Claim) or not self._up:
            return
        self._outbox.answered(claim, answer, self._now())
        if self._outbox.urgent:
            self._kick()

    def unanswered(self, turn: Turn, *, sent: bool) -> None:
        self._pacer.unanswered(turn, sent=sent)
        claim = turn.shared
        if not isinstance(claim, Claim) or not self._up:
            return
        if sent:
            self._outbox.unanswered(claim, sent=True)
            if self._outbox.urgent:
                self._kick()
        else:
            self._give_back(claim)

    def _give_back(self, claim: Claim) -> None:
        """A unit never used: back in hand for the next request here, if it is still good; else
        back to the store (a look goes back to the store at once, for another to look)."""
        if claim.gen == self._gen and not claim.look:
            self._in_hand += 1
            self._hand_out()
            return
        self._outbox.unanswered(claim, sent=False)
        if self._outbox.urgent:
            self._kick()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._sleeper.close()
        await self._pacer.aclose()
        for future in self._waiting:
            if not future.done():
                future.set_exception(ClientClosedError(CLOSED_MESSAGE))
        # Closed after its event loop ended (a second asyncio.run)? Its tasks are done (asyncio.run
        # ends them), and the store's connections are that loop's: nothing is given back.
        ended = self._syncing is not None and self._syncing.get_loop().is_closed()
        tasks = [task for task in (self._syncing, self._retrying) if task and not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._up and self._gen is not None and self._in_hand and not ended:  # give back
            self._drop_in_hand()
            with contextlib.suppress(Exception):  # at worst they expire with their window
                await self._call(self._outbox.request(self._now(), 0, 0, self._look_timeout))
        await self._store.aclose()

    # -- claims ------------------------------------------------------------------------------

    async def _claim(self, max_wait: float, wait: bool, call: Call) -> Claim | None:
        if self._closed:
            raise ClientClosedError(CLOSED_MESSAGE)
        if self._in_hand and not self._waiting:
            if time.time() < self._good_until:
                self._in_hand -= 1
                assert self._gen is not None
                return Claim(self._gen)
            self._drop_in_hand()  # granted for a window that is over by now
        paused = self._paused
        if paused is not None:  # the store said to wait: this request may not, or not so long
            if not wait:
                return None
            left = paused[0] - time.time()
            if paused[1] is not None and left > max_wait:
                raise spent_for_too_long(left, max_wait, paused[1])
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Claim | None] = loop.create_future()
        self._waiting.append(future)
        self._asks[future] = (max_wait, wait)
        note: asyncio.Future[float] | None = None
        if call is not NO_CALL:
            note = self._notes[future] = loop.create_future()
        self._kick()
        try:
            if note is not None:
                await asyncio.wait((future, note), return_when=asyncio.FIRST_COMPLETED)
                if not future.done():  # the store said to wait: tell the call, then wait
                    await call.rate_limit_wait_started(note.result(), "shared")
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                claim = future.result()  # given to us as we were cancelled: give it back
                if claim is not None:
                    self._give_back(claim)
            raise
        finally:
            call.rate_limit_wait_ended()
            if note is not None:
                note.cancel()
                del self._notes[future]
            if future in self._waiting:
                self._waiting.remove(future)
            del self._asks[future]

    def _hand_out(self) -> None:
        if time.time() >= self._good_until:
            self._drop_in_hand()  # granted for a window that is over by now
        while self._in_hand and self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                self._in_hand -= 1
                assert self._gen is not None
                future.set_result(Claim(self._gen))

    def _drop_in_hand(self) -> None:
        """The units in hand are not to be used (their window is over, or they are of an old
        generation, or the client closes): give them back, so that none is counted as out."""
        if self._in_hand and self._gen is not None:
            refunds = self._outbox.refunds
            refunds[self._gen] = refunds.get(self._gen, 0) + self._in_hand
        self._in_hand = 0

    def _release_all(self, error: Callable[[], BaseException] | None = None) -> None:
        """Let every waiting request go without a unit, or fail each with a fresh ``error()``."""
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(error())

    def _release_impatient(
        self,
        leaves: Callable[[float, bool], bool],
        error: Callable[[float], BaseException] | None = None,
    ) -> None:
        """Of the waiting requests, those whose own (max_wait, wait) ``leaves`` says may not wait
        go without a unit, or fail each with ``error(max_wait)``."""
        for future in [f for f in self._waiting if leaves(*self._asks[f])]:
            self._waiting.remove(future)
            if not future.done():
                max_wait = self._asks[future][0]
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(error(max_wait))

    def _kick(self) -> None:
        if self._closed or not self._up:
            return
        if self._syncing is None or self._syncing.done():
            self._syncing = asyncio.get_running_loop().create_task(
                self._sync(), name=f"intercom_async shared budget {self._name}"
            )

    async def _sync(self) -> None:
        """Talk to the store until no request waits and nothing urgent is left to say."""
        counted: set[int] = set()
        while not self._closed and self._up and (self._waiting or self._outbox.urgent):
            want = len(self._waiting)
            request = self._outbox.request(
                self._now(), want, PREFETCH, self._look_timeout, self._learnt
            )
            try:
                result = await self._call(request)
            except Exception as error:  # any failure of the store: go local
                self._go_local(error)
                return
            self._take(result)
            if not self._waiting or result.code == GRANTED:
                continue
            self._release_impatient(lambda max_wait, wait: not wait)  # RetryPolicy.no_wait()
            if not self._waiting:
                continue
            for future in self._waiting:
                if id(future) not in counted:
                    counted.add(id(future))
                    self._shared_waits += 1
            await self._pause(result)

    async def _pause(self, result: SyncResult) -> None:
        """Wait as the store said: until a time, or a moment while another's look is out."""
        local_until = self._pacer.window.clock.local(result.until)
        wait = local_until - time.time()
        until = result.until if result.code == WAIT else None
        if until is not None:  # a request that would wait past its max_delay fails at once
            self._release_impatient(
                lambda max_wait, _: wait > max_wait,
                lambda max_wait: spent_for_too_long(wait, max_wait, until),
            )
            if not self._waiting:
                return
        if result.code == NEWS:
            wait = min(max(wait, 0.0), POLL)
        if self._notes:  # the observed requests hear of their wait
            for future in self._waiting:
                note = self._notes.get(future)
                if note is not None and not note.done():
                    note.set_result(max(wait, 0.0))
        self._paused = (time.time() + max(wait, 0.0), until)
        try:
            await self._sleeper.sleep(max(wait, 0.0))
        except ClientClosedError:
            return
        finally:
            self._paused = None

    def _take(self, result: SyncResult) -> None:
        if result.early:
            self._pacer.window.clock.early()
            self._learnt = result.gen
        if result.gen != self._gen:
            self._drop_in_hand()
            self._gen = result.gen
        self._good_until = math.inf
        if result.end is not None:
            self._good_until = self._pacer.window.clock.local(result.end)
        if result.code != GRANTED:
            return
        if result.look:
            while self._waiting:
                future = self._waiting.popleft()
                if not future.done():
                    future.set_result(Claim(result.gen, look=True))
                    break
            else:  # the requests it was for went away meanwhile: back, for another to look
                self._outbox.unanswered(Claim(result.gen, look=True), sent=False)
            return
        self._in_hand += result.granted
        self._hand_out()

    async def _call(self, request: SyncRequest) -> SyncResult:
        started = time.perf_counter()
        outcome = "error"
        try:
            async with asyncio.timeout(self._timeout):
                result = await self._store.sync(request)
            outcome = "ok"
            return result
        except TimeoutError:
            outcome = "timeout"
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            self.observer.budget_call(time.perf_counter() - started, outcome)

    def _now(self) -> float:
        """Intercom's time now, as this process reckons it."""
        clock = self._pacer.window.clock
        return time.time() + clock.offset

    # -- outages -----------------------------------------------------------------------------

    def _go_local(self, error: BaseException) -> None:
        self._up = False
        self._pacer.follows_window = True
        self._gen, self._in_hand = None, 0
        self._outbox.clear()
        what = "timed out" if isinstance(error, TimeoutError) else self._store.describe(error)
        if self._store.refused(error):  # not an outage: trying again will not mend it
            logger.error(
                "the shared rate-limit budget (%s) is not in use: Redis refused the credentials "
                "(%s), a configuration error, not an outage: check the user, password and ACL "
                "permissions the Redis client uses; this client paces itself alone meanwhile",
                self._name,
                what,
            )
        else:
            logger.warning(
                "the shared rate-limit budget (%s) is unavailable (%s); this client paces "
                "itself alone until Redis answers again",
                self._name,
                what,
            )
        self._release_all()
        if not self._closed:
            self._retrying = asyncio.get_running_loop().create_task(
                self._retry(), name=f"intercom_async shared budget {self._name} retry"
            )

    async def _retry(self) -> None:
        pause = RETRY_FIRST
        with contextlib.suppress(Exception):
            await self._store.reset()
        while not self._closed:
            try:
                await self._sleeper.sleep(pause)
                await self._call(SyncRequest(self._now(), 0, 0, self._look_timeout))
            except ClientClosedError:
                return
            except Exception:  # still down
                pause = min(pause * 2, RETRY_MAX)
                continue
            self._up = True
            self._pacer.follows_window = False
            logger.warning(
                "the shared rate-limit budget (%s) is back; this client shares it again",
                self._name,
            )
            return
