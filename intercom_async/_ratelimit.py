"""Client-wide pacing from Intercom's ``X-RateLimit-*`` headers, plus an optional local cap.

Intercom meters an app in windows of about ten seconds and reports, on every answer, the
window's ``X-RateLimit-Limit``, its ``X-RateLimit-Remaining`` and its ``X-RateLimit-Reset``
(a Unix time). The ``Pacer`` keeps a budget for the current window: what the server said was
remaining, less the requests already sent that the server had not yet counted. Every request of
the client takes one unit before it goes out. When the budget is spent (or a 429 arrived), no
request goes out until the window's reset; then the budget is the window's limit again, so the
waiting requests resume in a measured stream rather than a herd. With no headers seen yet, a
client is unpaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping

from ._errors import RateLimitError
from ._protocol import RateLimit, clock_skew, retry_after_seconds

__all__ = ["Pacer"]


class Pacer:
    """Holds each request until the app's rate-limit window (and the local cap) allow it."""

    def __init__(
        self,
        max_requests_per_second: float | None = None,
        *,
        max_wait: float = float("inf"),
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_requests_per_second is not None and not max_requests_per_second > 0:
            raise ValueError("max_requests_per_second must be a positive number or None")
        self._max_wait = max_wait
        self._interval = 1.0 / max_requests_per_second if max_requests_per_second else 0.0
        self._clock = clock
        self._skew = 0.0  # server time minus ours, when they differ by more than the tolerance
        self._last_date: str | None = None
        self._next_slot = 0.0  # our clock: when the local cap lets the next request out
        self._budget: int | None = None  # None: unknown, nothing holds requests back
        self._window_end: float | None = None  # server clock: when the budget's window resets
        self._in_flight = 0
        self._changed = asyncio.Event()
        self.last: RateLimit | None = None
        self.waits = 0  # times a request was held for the window

    def _server_now(self) -> float:
        return self._clock() + self._skew

    def try_acquire(self) -> bool:
        """Count one more request as sent if it may go out now, without waiting."""
        if self._budget is None and not self._interval:
            self._in_flight += 1
            return True
        return False

    async def acquire(self) -> None:
        """Wait until one more request may go out, and count it as sent.

        Raises:
            RateLimitError: when the window resets more than ``max_wait`` seconds from now.
        """
        waited = False
        while True:
            now = self._server_now()
            if self._window_end is not None and now >= self._window_end:
                self._open_new_window()
            if self._budget is None or self._budget > 0:
                break
            if self._window_end is None and self._in_flight == 0:
                break  # no answer is coming that could tell us more: go and look
            if self._window_end is not None and self._window_end - now > self._max_wait:
                raise self._spent_for_too_long(self._window_end - now)
            if not waited:
                waited = True
                self.waits += 1
            self._changed.clear()
            timeout = None if self._window_end is None else self._window_end - now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
        if self._budget is not None and self._budget > 0:
            self._budget -= 1
        self._in_flight += 1
        if self._interval:
            now = self._clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._interval
            if slot > now:
                await asyncio.sleep(slot - now)

    def _open_new_window(self) -> None:
        # The window reset: a full window's worth, if we know it; else one probe at a time.
        limit = self.last.limit if self.last is not None else None
        floor = 0 if self._in_flight else 1  # with nothing in flight, someone must go and look
        self._budget = max(limit - self._in_flight, floor) if limit is not None else 1
        self._window_end = None
        self._changed.set()

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from an answer's headers; call once per request that ``acquire`` let out."""
        self._in_flight = max(self._in_flight - 1, 0)
        now = self._clock()
        self._learn_skew(headers, now)
        seen = RateLimit.from_headers(headers)
        if seen is not None:
            self.last = seen
        reset = seen.reset if seen is not None else None
        remaining = seen.remaining if seen is not None else None
        if status == 429:
            wait = retry_after_seconds(headers, now)
            if wait is None:  # no word on when to come back: the retry backoff spaces it out
                self._changed.set()
                return
            remaining = 0
            if reset is None:
                reset = self._server_now() + wait
        if remaining is None or reset is None:  # no window to pace against
            self._give_back()
            return
        budget = max(remaining - self._in_flight, 0)
        if self._window_end is None or reset > self._window_end:
            if reset <= self._server_now():
                self._changed.set()
                return  # that window is already over
            self._window_end = reset
            self._budget = budget
        elif reset == self._window_end:
            self._budget = budget if self._budget is None else min(self._budget, budget)
        self._changed.set()

    def release(self) -> None:
        """Forget a request that ``acquire`` let out but that got no answer."""
        self._in_flight = max(self._in_flight - 1, 0)
        self._give_back()

    def _give_back(self) -> None:
        # A request that brought no word of the window: while the new window is still unknown,
        # its unit goes back, so that the next request can go and look.
        if self._budget is not None and self._window_end is None:
            self._budget += 1
        self._changed.set()

    def _spent_for_too_long(self, wait: float) -> RateLimitError:
        assert self._window_end is not None
        return RateLimitError(
            429,
            reason=f"Too Many Requests (the app's rate-limit window is spent for {wait:.0f}s more, "
            f"past the retry policy's max_delay of {self._max_wait:g}s; nothing was sent)",
            headers={"X-RateLimit-Reset": f"{self._window_end:.3f}", "X-RateLimit-Remaining": "0"},
        )

    def _learn_skew(self, headers: Mapping[str, str], now: float) -> None:
        date = headers.get("Date")
        if date is not None and date != self._last_date:
            self._last_date = date
            self._skew = clock_skew(headers, now)
