"""When does the server's rate-limit window end, on our clock? Learnt from its answers (sans-I/O).

``X-RateLimit-Reset`` is a time on Intercom's clock. The pacer needs the moment a window ending
at ``reset`` is over on ours: ``reset - offset``, where ``offset`` is how far the server's clock
is ahead of ours (behind, when negative). No header gives it, but answers bound it:

- an answer's ``Date`` (whole seconds, truncated) was stamped while the request was at the
  server, after it left at ``sent`` and before it came back at ``received``:
  ``date - received <= offset < date + 1 - sent`` (the upper bound holds for the server's
  clock, not for windows whose resets it rounds up, so it only says whether ours will do);
- an answer that reports a newer window than ``reset`` was made after that window was over,
  before it came back: ``offset >= reset - received``;
- an answer that still reports the window ending at ``reset`` was made after its request left
  at ``sent``, while that window ran: ``offset < reset - sent``.

``ServerClock`` keeps the tightest bound on each side (each forgotten after ``HORIZON`` seconds,
so that a clock stepped by NTP is not held against us for long) and picks the offset to go by:

- when the bounds (and ``Date``'s upper one) allow it, none: clocks are kept in step almost
  everywhere, and a ``Date``
  precise to a second must not make us late by up to a second every window;
- else, bounds within ``PRECISION`` of each other: the lower one;
- else ``reach`` past the lower bound, but no further than halfway to the upper one. A lower
  bound alone would make us late for good: the first request after each reset would be
  answered at the same fraction of a second, and teach nothing new. So each window that opens
  on time doubles ``reach`` (from ``FIRST_REACH``), and one that opens early drops it, so that
  the next goes by the lower bound: a clock that is far off is found in a few windows, at the
  cost of a 429 or two;
- with no lower bound at all (no ``Date``), ``reach`` below the upper one, doubling with each
  window found still running.

``reach`` never passes ``MAX_REACH`` (half of one of Intercom's windows): a clock farther off is
found a window at a time, and no guess strays far from what the answers proved, however long the
process has run.

The first request after a reset finds out whether the guess was right: the answer either
reports the next window (a new lower bound) or the old one (a new upper bound; the pacer calls
that look ``early`` and holds the other requests). A ``Date`` proved wrong that way (rounded
rather than truncated, or stamped by another clock than the window's) is ignored for
``HORIZON`` seconds.

A bound that contradicts the one kept on the other side (a lower bound at or above the upper
one, or the reverse) is one answer's word against the others': a replayed or cached answer, a
reset long past, would otherwise move the clock by minutes and hold every request for as long.
So it is held in doubt, and believed (the newer word winning, as when NTP steps our clock) only
when the next bound on its side says the same; a bound on its side that agrees with the kept ones
dismisses it. A ``Date`` upper bound at or below the lower bound is dropped.
"""

from __future__ import annotations

import math
from typing import NamedTuple

__all__ = ["FIRST_REACH", "HORIZON", "MAX_REACH", "PRECISION", "ServerClock"]

HORIZON = 300.0  # seconds a bound is kept, unless a tighter one replaces it
PRECISION = 0.05  # bounds this close: go by the lower one
FIRST_REACH = 0.05  # seconds past a bound the first guess goes
MAX_REACH = 5.0  # seconds past a bound any guess goes, at most


class _Bound(NamedTuple):
    """One bound on the offset: its value, the local time it was learnt, and its source."""

    value: float
    at: float
    from_date: bool = False


def _kept(bound: _Bound | None, now: float) -> _Bound | None:
    """``bound``, unless it was learnt more than ``HORIZON`` seconds before ``now``."""
    return bound if bound is not None and now - bound.at <= HORIZON else None


class ServerClock:
    """Bounds on how far the server's clock is ahead of ours, and the offset to go by."""

    __slots__ = ("_date_hi", "_date_ignored_until", "_doubt", "_hi", "_lo", "_reach")

    def __init__(self) -> None:
        self._lo: _Bound | None = None  # offset >= lo
        self._hi: _Bound | None = None  # offset < hi
        self._date_hi: _Bound | None = None  # the server's clock (not its windows) is behind
        self._reach = FIRST_REACH
        self._date_ignored_until = -math.inf
        self._doubt: bool | None = None  # True: an upper bound, False: a lower one, in doubt

    @property
    def offset(self) -> float:
        """The offset the pacer goes by (see the module's docstring)."""
        lo = self._lo.value if self._lo is not None else -math.inf
        hi = self._hi.value if self._hi is not None else math.inf
        date_hi = self._date_hi.value if self._date_hi is not None else math.inf
        if lo <= 0.0 < min(hi, date_hi):
            return 0.0
        if lo == -math.inf:  # below the tighter upper bound
            return min(hi, date_hi) - max(self._reach, FIRST_REACH)
        if hi - lo <= PRECISION:
            return lo
        return lo + min(self._reach, (hi - lo) / 2)

    def local(self, server_time: float) -> float:
        """The local time to take ``server_time`` (a reset) to have come."""
        return server_time - self.offset

    def answered(
        self, date: float | None, reset: float | None, sent: float, received: float
    ) -> None:
        """Learn from an answer to a request that left at ``sent`` and came back at ``received``.

        ``date`` is the answer's ``Date`` (a Unix time, as ``LimitHeaders`` parsed it) and
        ``reset`` the window's end it reports, each ``None`` when it has none.
        """
        self._lo = _kept(self._lo, received)
        self._hi = _kept(self._hi, received)
        self._date_hi = _kept(self._date_hi, received)
        if date is not None and received >= self._date_ignored_until:
            self._raise_lo(_Bound(date - received, received, from_date=True))
            upper = _Bound(date + 1 - sent, received)
            below = self._lo is not None and upper.value <= self._lo.value
            if not below and (self._date_hi is None or upper.value <= self._date_hi.value):
                self._date_hi = upper
        if reset is not None:
            self._lower_hi(_Bound(reset - sent, received))

    def rolled(self, reset: float, received: float) -> None:
        """An answer that came back at ``received`` reports a window after the one ending at
        ``reset``."""
        self._raise_lo(_Bound(reset - received, received))
        self._reach = min(self._reach * 2, MAX_REACH) if self._reach else FIRST_REACH

    def early(self) -> None:
        """A request sent into a window taken to be over found it still running."""
        if self._lo is not None:
            self._reach = 0.0
        else:
            self._reach = min(max(self._reach, FIRST_REACH) * 2, MAX_REACH)

    def _raise_lo(self, bound: _Bound) -> None:
        hi = self._hi
        if hi is not None and bound.value >= hi.value:  # contradicts the upper bound
            if not self._said_again(upper=False):
                return
            self._hi = None  # the newer word wins over a bound gone stale
        elif self._doubt is False:
            self._doubt = None  # a word on this side agrees with the kept ones
        if self._lo is not None and bound.value < self._lo.value:
            return
        self._lo = bound

    def _lower_hi(self, bound: _Bound) -> None:
        lo = self._lo
        if lo is not None and lo.value >= bound.value:  # contradicts the lower bound
            if not self._said_again(upper=True):
                return
            if lo.from_date:  # the newer word wins, and a Date it proves wrong is ignored
                self._date_ignored_until = bound.at + HORIZON
                self._date_hi = None
            self._lo = None
        elif self._doubt is True:
            self._doubt = None  # a word on this side agrees with the kept ones
        if self._hi is not None and bound.value > self._hi.value:
            return
        self._hi = bound

    def _said_again(self, *, upper: bool) -> bool:
        """Whether a bound on side ``upper`` that contradicts the other side is the second word
        in a row to: if not, it is the first, and held in doubt."""
        if self._doubt is upper:
            self._doubt = None
            return True
        self._doubt = upper
        return False
