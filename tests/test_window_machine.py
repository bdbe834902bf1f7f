"""A stateful property test of the pacer's window against a simulated Intercom.

Hypothesis drives random interleavings of: a request taking its turn, being sent or withdrawn
before it is sent, the server counting it (in fixed windows on a clock that may run ahead of or
behind ours) and answering with Intercom's headers (sometimes a proxy's answer without them, a
429 with or without ``Retry-After``), the answer arriving, a request abandoned in flight (which
the server may still count), and time passing. After every step it checks what the pacer
promises:

- the in-flight count equals the requests really outstanding;
- the budget is never negative;
- a request waits for an answer only if one is coming (no hang), and a request told to wait
  until a moment may go at that moment (no sleeping past it);
- nothing is sent before a ``Retry-After`` is over;
- nothing is sent into a window an answer said was spent but single looks: once the pacer takes
  the window to be over, one request goes, and no other goes into it before some news comes
  back (an answer, or a request settled without one). ``Date`` has whole seconds, so a pacer
  that waited until it could prove a window over would be late by up to a second each window;
  instead it trusts our clock when ``Date`` allows it, and reaches past what it can prove, a
  little further each window; the look finds out, and at worst earns a single 429.
"""

from __future__ import annotations

import math
import os
from email.utils import formatdate

import attrs
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from intercom_async._limits import LimitHeaders
from intercom_async._ratelimit import Turn, Window

START = 1_700_000_000.25  # our clock when the machine starts


@attrs.define(eq=False)
class Request:
    turn: Turn  # what the pacer gave it when it let it go
    abandoned: bool = False  # the client gave up on it: its answer, if any, is never read


@attrs.define(eq=False)
class Answer:
    request: Request
    status: int
    headers: dict[str, str]
    window: int  # the server's window that counted it


class WindowMachine(RuleBasedStateMachine):
    """The pacer's ``Window`` on one side, a simulated Intercom on the other."""

    @initialize(
        skew=st.floats(-4.0, 4.0),
        length=st.sampled_from([1.0, 2.0, 10.0]),
        limit=st.integers(1, 6),
        interval=st.sampled_from([0.0, 0.0, 0.25]),
        date_error=st.sampled_from([0.0, 0.0, 0.0, 0.6, -0.8, None]),
    )
    def start(
        self, skew: float, length: float, limit: int, interval: float, date_error: float | None
    ) -> None:
        self.window = Window(interval=interval)
        self.now = START
        self.skew = skew  # server time minus ours
        self.length = length
        self.limit = limit
        self.counts: dict[int, int] = {}
        self.unsent: list[Request] = []  # taken, waiting for a connection
        self.outbound: list[Request] = []  # sent, not yet counted by the server
        self.inbound: list[Answer] = []  # answered, the answer on its way back
        self.spent: set[int] = set()  # server windows an answer said were spent
        self.held_until = -math.inf
        self.news = 0  # answers read, and requests settled without one
        self.looked: dict[int, int] = {}  # spent window -> news count when a request went into it
        # How far the server's Date is off its windows' clock; None: it sends no Date. Only an
        # honest Date lets the pacer know a window is over before it sends into it.
        self.date_error = date_error

    # -- the client -------------------------------------------------------------------------

    def server_window(self) -> int:
        return math.floor((self.now + self.skew) / self.length)

    @rule()
    def take(self) -> None:
        at = self.window.ready_at(self.now)
        if at is None or at > self.now:
            return
        window = self.server_window()
        if window in self.spent:
            assert self.window.end is None, "sent into a spent window not taken to be over"
            assert self.looked.get(window) != self.news, "a second look before any news"
            self.looked[window] = self.news
        assert self.now >= self.held_until, "sent before Retry-After"
        self.unsent.append(Request(self.window.take(self.now)))

    @precondition(lambda self: self.unsent)
    @rule(data=st.data())
    def send(self, data: st.DataObject) -> None:
        request = data.draw(st.sampled_from(self.unsent))
        self.unsent.remove(request)
        self.outbound.append(request)

    @precondition(lambda self: self.unsent)
    @rule(data=st.data())
    def withdraw(self, data: st.DataObject) -> None:
        """Cancelled while it waited for a connection: it never reached the server."""
        request = data.draw(st.sampled_from(self.unsent))
        self.unsent.remove(request)
        self.window.unanswered(request.turn, sent=False)
        self.news += 1

    @precondition(lambda self: any(not r.abandoned for r in self.outbound))
    @rule(data=st.data())
    def abandon(self, data: st.DataObject) -> None:
        """A timeout or a cancellation in flight: the server may still count it."""
        request = data.draw(st.sampled_from([r for r in self.outbound if not r.abandoned]))
        request.abandoned = True
        self.window.unanswered(request.turn, sent=True)
        self.news += 1

    @precondition(lambda self: self.inbound)
    @rule(data=st.data())
    def receive(self, data: st.DataObject) -> None:
        answer = data.draw(st.sampled_from(self.inbound))
        self.inbound.remove(answer)
        if answer.request.abandoned:
            return
        headers = answer.headers
        if headers.get("X-RateLimit-Remaining") == "0":
            self.spent.add(answer.window)
        if "Retry-After" in headers:
            self.held_until = max(self.held_until, self.now + float(headers["Retry-After"]))
        self.window.answered(
            answer.request.turn, LimitHeaders.parse(answer.status, headers, self.now), self.now
        )
        self.news += 1

    @rule(seconds=st.floats(0.001, 3.0))
    def wait(self, seconds: float) -> None:
        self.now += seconds

    @rule()
    def wait_for_the_pacer(self) -> None:
        at = self.window.ready_at(self.now)
        if at is not None and at > self.now:
            self.now = at
            again = self.window.ready_at(self.now)
            assert again is not None and again <= self.now, "still held at the promised moment"

    # -- the server -------------------------------------------------------------------------

    @precondition(lambda self: self.outbound)
    @rule(
        data=st.data(),
        proxy=st.sampled_from([False] * 9 + [True]),
        retry_after=st.sampled_from([None, None, 0, 1, 3]),
    )
    def serve(self, data: st.DataObject, proxy: bool, retry_after: int | None) -> None:
        request = data.draw(st.sampled_from(self.outbound))
        self.outbound.remove(request)
        server_now = self.now + self.skew
        window = math.floor(server_now / self.length)
        count = self.counts[window] = self.counts.get(window, 0) + 1
        status = 429 if count > self.limit else 200
        headers = {}
        if self.date_error is not None:
            headers["Date"] = formatdate(server_now + self.date_error, usegmt=True)
        if proxy:
            status = 502
        else:
            headers["X-RateLimit-Limit"] = str(self.limit)
            headers["X-RateLimit-Remaining"] = str(max(self.limit - count, 0))
            headers["X-RateLimit-Reset"] = str(int((window + 1) * self.length))
            if status == 429 and retry_after is not None:
                headers["Retry-After"] = str(retry_after)
        self.inbound.append(Answer(request, status, headers, window))

    # -- what always holds ------------------------------------------------------------------

    @invariant()
    def in_flight_is_what_is_outstanding(self) -> None:
        outstanding = len(self.unsent) + sum(not r.abandoned for r in self.outbound)
        outstanding += sum(not a.request.abandoned for a in self.inbound)
        assert self.window.in_flight == outstanding

    @invariant()
    def budget_is_never_negative(self) -> None:
        assert self.window.budget is None or self.window.budget >= 0

    @invariant()
    def waiting_for_news_means_news_is_coming(self) -> None:
        if self.window.ready_at(self.now) is None:
            assert self.window.in_flight > 0


# MACHINE_EXAMPLES=5000 makes a longer search than the suite's.
EXAMPLES = int(os.environ.get("MACHINE_EXAMPLES", "200"))
WindowMachine.TestCase.settings = settings(
    max_examples=EXAMPLES, stateful_step_count=50, deadline=None
)
TestWindowMachine = WindowMachine.TestCase
