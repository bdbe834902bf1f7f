"""The app's rate-limit window as the client understands it: a sans-I/O state machine.

Intercom meters an app in windows of about ten seconds and reports, on every answer, the
window's ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (a Unix time
on its clock). ``Window`` turns the answers into one decision: when may the next request go? It
takes every time as an argument and does no I/O, so it is tested with plain numbers; the pacer
(``_pacer.py``) makes requests wait for its decisions.

- **A budget per window**: what the server said remained, less the requests it had not counted
  yet when it said so (those still in flight). Each request takes a unit; with none left,
  nothing goes until the window's reset. Requests in flight beyond what the window holds are an
  overdraft: one of them that is withdrawn before it is sent pays it back first.
- **The reset, on the server's clock**: ``ServerClock`` says by when our clock has surely
  passed it. Then one request (or what the budget still held) goes to look, and its answer
  reports the new window and its budget, so the waiting requests resume in a measured stream,
  not a herd. If the server was still in the old window, our clock was ahead: the window stays
  spent, the clock learns from it, and the next look comes later.
- **A 429** spends the window: nothing goes before its reset, nor before its ``Retry-After``,
  whichever is later. A 429 that says neither holds everything for ``NO_WORD_HOLD`` seconds,
  then one request goes to look.
- **Nothing a server says holds a request longer than ``MAX_SERVER_WAIT``**: a reset further
  ahead (on the server's clock, as ``ServerClock`` reckons it) is taken to be that far, and
  teaches the clock nothing when a newer window comes; ``Retry-After`` is capped as it is read.
- **No word**: an answer without a full set of rate-limit headers (a proxy's 502) hands its unit
  back while the window's end is unknown, so that the next request can go and look; a request
  that never reached the server hands its unit back always. Only a unit of the budget still in
  force goes back: each time an answer sets the budget afresh (it counts every request then in
  flight against it) or the window is taken to be over, a new generation of units begins.
  Until an answer reports a window, nothing is held back.
- **A local cap**: request starts at least ``interval`` seconds apart.
"""

from __future__ import annotations

import math

from ._limits import NO_WORD_HOLD, LimitHeaders, RateLimit
from ._skew import ServerClock

__all__ = ["NO_WORD_HOLD", "Turn", "Window"]


class Turn:
    """One request let out: when, from which generation of the budget, and what a shared budget
    (a ``RedisQuota``) gave it, if one did."""

    __slots__ = ("generation", "sent", "shared")

    def __init__(self, sent: float, generation: object) -> None:
        self.sent = sent
        self.generation = generation
        self.shared: object | None = None


class Window:
    """What the answers said of the app's rate-limit window, and when a request may go.

    Every time is a Unix time on our clock (``time.time()``), passed in by the caller.
    """

    __slots__ = (
        "budget",
        "capped",
        "clock",
        "end",
        "follow",
        "generation",
        "held_until",
        "in_flight",
        "interval",
        "last",
        "looking_since",
        "newest",
        "next_start",
    )

    def __init__(self, interval: float = 0.0) -> None:
        self.clock = ServerClock()
        self.interval = interval
        self.last: RateLimit | None = None  # the rate limit as the last answer reported it
        self.in_flight = 0  # requests taken and not yet settled
        self.budget: int | None = None  # units left in the window; None: nothing known, unpaced
        # The budget's units: a unit goes back only to the budget it was taken from.
        self.generation = object()
        self.end: float | None = None  # server time the window paced against resets
        self.newest: float | None = None  # server time: the newest reset any answer reported
        self.capped = False  # whether ``newest`` is a reset too far ahead, cut short
        self.looking_since = -math.inf  # when we last took the window to be over
        self.held_until = -math.inf  # nothing goes before (Retry-After, a 429 with no word)
        self.next_start = -math.inf  # the local cap's next slot
        self.follow = True  # False: a shared budget decides; the window only keeps learning

    def opens_at(self, now: float) -> float | None:
        """When the window lets the next request go, leaving the local cap aside.

        A time (``now`` or earlier: at once), or ``None`` when only an answer to a request in
        flight can tell. While the window does not ``follow`` its answers (a shared budget
        decides), it opens at once.
        """
        if not self.follow:
            return now
        self._roll(now)
        if self.budget is None or self.budget > 0:
            at = now
        elif self.end is not None:
            at = self.clock.local(self.end)
        elif self.in_flight:
            return None
        else:
            at = now  # spent, reset unknown, and no answer coming: go and look
        return max(at, self.held_until)

    def ready_at(self, now: float) -> float | None:
        """When the next request may go: ``opens_at``, and the local cap's next slot."""
        at = self.opens_at(now)
        return None if at is None else max(at, self.next_start)

    def take(self, now: float) -> Turn:
        """Let one request out (when ``ready_at(now) <= now``, unless pacing is off)."""
        self._roll(now)
        if self.budget:
            self.budget -= 1
        self.in_flight += 1
        if self.interval:
            self.next_start = max(now, self.next_start) + self.interval
        return Turn(now, self.generation)

    def answered(self, turn: Turn, answer: LimitHeaders, received: float) -> None:
        """Settle ``turn`` with its answer (its parsed headers), which came at ``received``."""
        self.in_flight -= 1
        seen = answer.rate_limit
        if seen is not None:
            self.last = seen
        self.clock.answered(answer.date, answer.reset, turn.sent, received)
        reset, capped = answer.reset, False
        if reset is not None:  # no further than a server may hold us
            reset, capped = answer.reset_within(received + self.clock.offset)
        remaining = answer.remaining
        if answer.status == 429:
            remaining = 0
            hold = answer.hold(received)  # (its reset, if it holds, is the window's)
            if hold.seconds is not None:  # else the window's reset holds (the budget is 0)
                self.held_until = max(self.held_until, received + hold.seconds)
            if reset is None:
                self._set_budget(0)
                return
        if reset is None or remaining is None:
            self._give_back(turn)
            return
        self._learn(reset, remaining - self.in_flight, turn.sent, received, capped=capped)

    def unanswered(self, turn: Turn, *, sent: bool) -> None:
        """Settle ``turn``, which got no answer; ``sent``: whether the server may have seen it."""
        self.in_flight -= 1
        if sent:
            self._give_back(turn)
        elif self.budget is not None and turn.generation == self.generation:
            self.budget += 1  # the server never counted it

    def _learn(
        self, reset: float, left: int, sent: float, received: float, *, capped: bool
    ) -> None:
        # ``left``: what the server said remained, less the requests in flight; ``capped``:
        # ``reset`` is as far as a server may hold us, not what it said.
        if self.newest is not None and reset < self.newest:
            return  # an answer from a window already over, overtaken by newer ones
        if self.newest is None or reset > self.newest:  # a new window
            if self.newest is not None and not self.capped:
                self.clock.rolled(self.newest, received)
            self.newest = self.end = reset
            self.capped = capped
        elif self.end is not None:  # the window we pace against: the tighter word holds
            if self.budget is not None and self.budget <= left:
                return
        elif sent >= self.looking_since:
            # We took this window to be over and sent into it, but the server still counts it:
            # our clock is ahead of its. The window stands, and the clock learns.
            self.clock.early()
            self.end = reset
        else:
            return  # sent before we took the window to be over: no news
        self._set_budget(max(left, 0))

    def _set_budget(self, budget: int) -> None:
        self.budget = budget
        self.generation = object()

    def _give_back(self, turn: Turn) -> None:
        # No word of the window: while its end is unknown, the unit goes back, so that the next
        # request can go and look.
        if self.budget is not None and self.end is None and turn.generation == self.generation:
            self.budget += 1

    def _roll(self, now: float) -> None:
        if self.end is not None and now >= self.clock.local(self.end):
            self.end = None  # the window is over, by the server's clock: go and look
            self.looking_since = now
            if self.budget is not None:
                self._set_budget(max(self.budget, 1))
