"""``Pacer``: makes each request of a client wait its turn under the app's rate-limit window.

The decisions are ``Window``'s (``_ratelimit.py``); this module only waits for them. Requests
that cannot go at once queue up first come, first served. Only the head of the queue looks at
the window: it goes when the window allows (and wakes the next), or sleeps until the moment the
window names, or until an answer brings news. So each request costs O(1) wake-ups, however many
wait, and nothing waits with ``asyncio.wait_for`` (which on Python 3.11 can swallow a
cancellation).

Each request brings its own patience, that of the retry policy of the client (or view) that
makes it: ``max_wait`` (a request the window would hold longer fails at once, nothing sent) and
``wait`` (``False``: it goes at once, as under ``RetryPolicy.no_wait()``).

Cancellation is safe at every ``await``: a request takes its unit of the window only at the
moment it leaves the queue, with no ``await`` in between, so a request cancelled while it waits
has taken nothing, and the next in line is woken in its place. After ``close()`` every waiting
request fails at once with ``ClientClosedError``.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable

from ._errors import ClientClosedError, RateLimitError
from ._limits import LimitHeaders, RateLimit
from ._observe import NO_CALL, Call
from ._ratelimit import Turn, Window

__all__ = ["CLOSED_MESSAGE", "Pacer", "spent_for_too_long"]

CLOSED_MESSAGE = "this IntercomClient is closed; make a new one"


class _Waiter:
    """One request in the queue: the future it sleeps on, and the timer that may wake it."""

    __slots__ = ("future", "timer")

    def __init__(self, future: asyncio.Future[None]) -> None:
        self.future = future
        self.timer: asyncio.TimerHandle | None = None

    def disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class Pacer:
    """Holds each request until the app's rate-limit window (and the local cap) let it go.

    Args:
        max_requests_per_second: a local cap: request starts at least ``1 / cap`` apart.
        clock: the Unix time now (``time.time``).
    """

    def __init__(
        self,
        max_requests_per_second: float | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        rate = max_requests_per_second
        if rate is not None and (
            isinstance(rate, bool)
            or not isinstance(rate, (int, float))
            or not (rate > 0 and math.isfinite(rate))
        ):
            raise ValueError(
                f"max_requests_per_second must be a positive finite number or None, not {rate!r}"
            )
        self._window = Window(interval=1.0 / rate if rate else 0.0)
        self._clock = clock
        self._queue: deque[_Waiter] = deque()
        self._closed = False
        self.waits = 0  # requests held back by the window (not only by the local cap)

    @property
    def last(self) -> RateLimit | None:
        """The rate limit as the last answer reported it."""
        return self._window.last

    @property
    def in_flight(self) -> int:
        """Requests let out and not yet settled (``answered`` or ``unanswered``)."""
        return self._window.in_flight

    @property
    def queued(self) -> int:
        """Requests waiting for their turn."""
        return len(self._queue)

    @property
    def window(self) -> Window:
        """The window's state, and the server's clock as learnt from the answers."""
        return self._window

    @property
    def follows_window(self) -> bool:
        """Whether the window's answers hold requests back (else only the local cap does)."""
        return self._window.follow

    @follows_window.setter
    def follows_window(self, follow: bool) -> None:
        self._window.follow = follow
        self._wake_head()

    async def acquire(
        self, max_wait: float = math.inf, *, wait: bool = True, call: Call = NO_CALL
    ) -> Turn:
        """Wait until one more request may go, and count it as sent.

        Settle the ``Turn`` it returns later with ``answered`` or ``unanswered``, exactly once.
        ``max_wait`` and ``wait`` are this request's (its retry policy's ``max_delay`` and
        ``wait``): ``wait=False`` lets it go at once, the window still followed and reported.
        ``call`` hears of a wait under the window (``rate_limit_wait_started`` / ``_ended``).

        Raises:
            RateLimitError: the window would hold the request past ``max_wait``.
            ClientClosedError: the pacer was closed, before or while waiting.
        """
        if self._closed:
            raise ClientClosedError(CLOSED_MESSAGE)
        now = self._clock()
        if not wait:
            return self._window.take(now)
        if not self._queue:
            at = self._window.ready_at(now)
            if at is not None and at <= now:
                return self._window.take(now)
        return await self._wait_turn(self._held_by_window(now), max_wait, call)

    def _held_by_window(self, now: float) -> bool:
        opens = self._window.opens_at(now)
        return opens is None or opens > now

    async def _wait_turn(self, counted: bool, max_wait: float, call: Call) -> Turn:
        if counted:
            self.waits += 1
        announced = False  # the call was told of its wait under the window
        loop = asyncio.get_running_loop()
        waiter = _Waiter(loop.create_future())
        self._queue.append(waiter)
        try:
            while True:
                if self._closed:
                    raise ClientClosedError(CLOSED_MESSAGE)
                now = self._clock()
                opens = self._window.opens_at(now)
                # However far back in the queue: a window that opens too late for this request
                # fails it at once (the others may be more patient).
                if opens is not None and opens - now > max_wait:
                    raise spent_for_too_long(opens - now, max_wait, self._window.end)
                if self._queue[0] is waiter:
                    at = self._window.ready_at(now)
                    if at is not None and at <= now:
                        return self._window.take(now)
                    if (opens is None or opens > now) and not counted:
                        counted = True
                        self.waits += 1
                    if at is not None:
                        waiter.timer = loop.call_later(at - now, self._wake_head)
                if counted and not announced:
                    announced = True
                    ahead = opens if opens is not None and opens > now else None
                    await call.rate_limit_wait_started(
                        0.0 if ahead is None else ahead - now, "local"
                    )
                    waiter.disarm()
                    continue  # look again: the hook took time, the window may have moved
                await waiter.future
                waiter.disarm()
                waiter.future = loop.create_future()
        finally:
            call.rate_limit_wait_ended()
            waiter.disarm()
            self._queue.remove(waiter)
            self._wake_head()  # the next in line looks in its place

    def answered(self, turn: Turn, answer: LimitHeaders) -> None:
        """Settle ``turn`` with the answer its request got (its parsed headers)."""
        self._window.answered(turn, answer, self._clock())
        self._wake_head()

    def unanswered(self, turn: Turn, *, sent: bool) -> None:
        """Settle ``turn``, whose request got no answer; ``sent``: whether it may have reached
        Intercom."""
        self._window.unanswered(turn, sent=sent)
        self._wake_head()

    async def aclose(self) -> None:
        """``close()``: the pacer holds nothing that needs awaiting."""
        self.close()

    def close(self) -> None:
        """Fail every waiting request, and every later one, with ``ClientClosedError``."""
        self._closed = True
        for waiter in self._queue:
            waiter.disarm()
            if not waiter.future.done():
                waiter.future.set_result(None)

    def _wake_head(self) -> None:
        if self._queue and not self._queue[0].future.done():
            self._queue[0].future.set_result(None)


def spent_for_too_long(wait: float, max_wait: float, reset: float | None) -> RateLimitError:
    """The error of a request that the window would hold ``wait`` seconds, past ``max_wait``."""
    headers = {"X-RateLimit-Remaining": "0"}
    if reset is not None:
        headers["X-RateLimit-Reset"] = f"{reset:.3f}"
    return RateLimitError(
        429,
        reason=f"Too Many Requests (the app's rate-limit window is spent for {wait:.0f}s more, "
        f"past the retry policy's max_delay of {max_wait:g}s; nothing was sent)",
        headers=headers,
    )
