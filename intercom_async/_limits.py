"""The rate-limit headers of an answer, parsed once, and the one rule of how long a 429 holds.

Every answer is read here exactly once, into a ``LimitHeaders``: its status, the window it
reports (``X-RateLimit-Limit``, ``-Remaining``, ``-Reset``, as a ``RateLimit``), the server's
``Date`` and the wait ``Retry-After`` asks for. The pacer (``Window``, ``ServerClock``), the
shared budget (``Outbox``) and the retry policy receive that value; none of them reads a header.

A server's answer is untrusted input: a count must be a sane int, a reset a time a datetime can
show, and no wait or reset holds a request more than ``MAX_SERVER_WAIT`` seconds. How long a 429
holds is ``LimitHeaders.hold``, and nowhere else.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from attrs import frozen

if TYPE_CHECKING:
    from ._errors import ApiError

__all__ = [
    "MAX_SERVER_WAIT",
    "NO_WORD_HOLD",
    "SKEW_TOLERANCE",
    "Hold",
    "LimitHeaders",
    "RateLimit",
    "clock_skew",
    "http_date",
    "retry_after",
    "retry_after_seconds",
]

# The longest wait a server's answer may impose (Retry-After, a 429's X-RateLimit-Reset), in
# seconds. Intercom's windows are about 10 seconds long; a longer ask is a hostile, buggy or stale
# answer, and it must not hold a client (or, through Redis, every process of an app) for longer.
MAX_SERVER_WAIT = 300.0

NO_WORD_HOLD = 1.0  # seconds a 429 with neither Retry-After nor X-RateLimit-Reset holds requests

# Past this, the server's clock (its Date header) is taken to differ from ours.
SKEW_TOLERANCE = 2.0

# Headers outside these bounds are not believed: a count must fit in an int a JSON number can
# hold exactly, a reset must be a time a datetime can show (before the year 10000).
_MAX_COUNT = 2**53
_MAX_TIMESTAMP = 253_402_300_799.0


@frozen
class RateLimit:
    """The app's rate-limit window as Intercom last reported it.

    Each attribute is ``None`` when its header was missing or not a sensible number (a count
    that is negative or not finite, a reset that is no time at all).

    Attributes:
        limit: requests allowed per window (``X-RateLimit-Limit``).
        remaining: requests left in the current window (``X-RateLimit-Remaining``).
        reset: Unix time at which the window resets (``X-RateLimit-Reset``).
    """

    limit: int | None
    remaining: int | None
    reset: float | None

    @property
    def reset_at(self) -> datetime | None:
        """``reset`` as a timezone-aware UTC ``datetime``."""
        return None if self.reset is None else datetime.fromtimestamp(self.reset, UTC)

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimit | None:
        """The rate limit the headers report, or ``None`` when they report none."""
        limit = _count(headers.get("X-RateLimit-Limit"))
        remaining = _count(headers.get("X-RateLimit-Remaining"))
        reset = _number(headers.get("X-RateLimit-Reset"))
        if reset is not None and not 0 <= reset <= _MAX_TIMESTAMP:
            reset = None
        if limit is None and remaining is None and reset is None:
            return None
        return cls(limit=limit, remaining=remaining, reset=reset)


@frozen
class Hold:
    """How long a 429 holds every request (``LimitHeaders.hold``): exactly one of ``seconds``
    and ``reset`` is set.

    Attributes:
        seconds: seconds from the answer: what ``Retry-After`` asked (at most
            ``MAX_SERVER_WAIT``), or ``NO_WORD_HOLD`` when the server said nothing.
        reset: else until the window's reset (server time), at most ``MAX_SERVER_WAIT`` past
            the server's time of the answer.
        capped: ``reset`` was further ahead than that, and is the cap.
        said: whether the server said how long (``Retry-After`` or ``X-RateLimit-Reset``).
    """

    seconds: float | None
    reset: float | None
    capped: bool = False
    said: bool = True

    def wait(self, server_now: float) -> float:
        """The hold in seconds from ``server_now`` (the server's time now), 0 when over."""
        if self.seconds is not None:
            return self.seconds
        assert self.reset is not None
        return min(max(0.0, self.reset - server_now), MAX_SERVER_WAIT)


@frozen
class LimitHeaders:
    """What one answer says of the rate limit, parsed once from its status and headers.

    Attributes:
        status: the answer's HTTP status.
        rate_limit: the window the ``X-RateLimit-*`` headers report, or ``None``.
        date: the server's ``Date`` as a Unix time, or ``None``.
        retry_after: the seconds ``Retry-After`` asks to wait from the answer (0 to
            ``MAX_SERVER_WAIT``), or ``None`` without a usable one.
    """

    status: int
    rate_limit: RateLimit | None = None
    date: float | None = None
    retry_after: float | None = None

    @classmethod
    def parse(cls, status: int, headers: Mapping[str, str], now: float) -> LimitHeaders:
        """Read an answer's headers; ``now`` is our Unix time when it came."""
        raw_date = headers.get("Date")
        date = None if raw_date is None else _http_date(raw_date)
        raw_wait = headers.get("Retry-After")
        wait = None if raw_wait is None else _retry_after(raw_wait, date, now)
        return cls(status, RateLimit.from_headers(headers), date, wait)

    @property
    def reset(self) -> float | None:
        """The window's reset (``X-RateLimit-Reset``), server time."""
        return None if self.rate_limit is None else self.rate_limit.reset

    @property
    def remaining(self) -> int | None:
        """``X-RateLimit-Remaining``."""
        return None if self.rate_limit is None else self.rate_limit.remaining

    @property
    def limit(self) -> int | None:
        """``X-RateLimit-Limit``."""
        return None if self.rate_limit is None else self.rate_limit.limit

    def skew(self, now: float) -> float:
        """The server's clock minus ours by its ``Date``, ``now`` being ours (see
        ``clock_skew``)."""
        return _skew(self.date, now)

    def reset_within(self, server_now: float) -> tuple[float | None, bool]:
        """The reset, believed no further than ``MAX_SERVER_WAIT`` past ``server_now``: the
        reset (or that cap), and whether it was cut."""
        reset = self.reset
        if reset is None:
            return None, False
        latest = server_now + MAX_SERVER_WAIT
        return (latest, True) if reset > latest else (reset, False)

    def hold(self, server_now: float) -> Hold:
        """How long this answer, as a 429, holds every request: the one rule.

        ``Retry-After`` when usable; else until the window's reset, no further than
        ``MAX_SERVER_WAIT`` past ``server_now`` (the server's time of the answer, as the caller
        reckons it); else, when the server said neither, ``NO_WORD_HOLD`` seconds.
        """
        if self.retry_after is not None:
            return Hold(self.retry_after, None)
        reset, capped = self.reset_within(server_now)
        if reset is None:
            return Hold(NO_WORD_HOLD, None, said=False)
        return Hold(None, reset, capped=capped)


def limits_of(error: ApiError, now: float) -> LimitHeaders:
    """The ``LimitHeaders`` of the answer ``error`` reports: the one parsed when it came, or,
    for an error made elsewhere (by hand, in a test), parsed from its headers, ``now`` being
    our Unix time."""
    parsed = error._limits
    if isinstance(parsed, LimitHeaders):
        return parsed
    return LimitHeaders.parse(error.status, error.headers, now)


def _number(value: str | None) -> float | None:
    """A header's value as a finite float, or ``None``."""
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _count(value: str | None) -> int | None:
    """A header's value as a count of requests (an int from 0 to 2**53), or ``None``."""
    number = _number(value)
    if number is None or not 0 <= number <= _MAX_COUNT:
        return None
    return int(number)


def http_date(value: str | None) -> float | None:
    """An HTTP-date header (``Date``, ``Retry-After``) as a Unix time, or ``None``."""
    if value is None:
        return None
    return _http_date(value)


# Every answer's ``Date`` is read (the server's clock), and it changes once a second: parsing
# it is a quarter of what the pacing costs per answer, a cache hit next to nothing.
@functools.lru_cache(maxsize=16)
def _http_date(value: str) -> float | None:
    try:
        moment = parsedate_to_datetime(value)
        if moment.tzinfo is None:  # "-0000": a time in UTC with no zone said
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _skew(date: float | None, now: float) -> float:
    if date is None:
        return 0.0
    skew = date + 0.5 - now
    return skew if abs(skew) > SKEW_TOLERANCE else 0.0


def clock_skew(headers: Mapping[str, str], now: float) -> float:
    """The server's clock minus ours, from its ``Date`` header; 0 when within the tolerance.

    ``Date`` has whole seconds, so the server's time is taken as the middle of that second.
    """
    return _skew(http_date(headers.get("Date")), now)


def _retry_after(value: str, date: float | None, now: float) -> float | None:
    seconds = _number(value)
    if seconds is None:
        moment = http_date(value)
        if moment is None:
            return None
        seconds = moment - _skew(date, now) - now
    return min(max(0.0, seconds), MAX_SERVER_WAIT)


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """The seconds ``Retry-After`` asks to wait (0 to ``MAX_SERVER_WAIT``), or ``None`` without
    a usable one.

    It is a number of seconds or an HTTP-date; a date is read on the server's clock (by its
    ``Date`` header) and turned into a wait on ours, ``now`` being our current Unix time.
    """
    value = headers.get("Retry-After")
    if value is None:
        return None
    return _retry_after(value, http_date(headers.get("Date")), now)


def retry_after_seconds(headers: Mapping[str, str], now: float) -> float | None:
    """How long a 429 with these headers asked us to wait, by ``LimitHeaders.hold``: from
    ``Retry-After`` or ``X-RateLimit-Reset`` (on the server's clock, by its ``Date``).

    ``None`` when neither header says anything usable; never more than ``MAX_SERVER_WAIT``.
    """
    limits = LimitHeaders.parse(429, headers, now)
    server_now = now + limits.skew(now)
    hold = limits.hold(server_now)
    return hold.wait(server_now) if hold.said else None
