"""``Quota``: the one small interface between the client and whatever paces its requests.

The client holds one ``Quota`` and does not care which: its own ``Pacer`` (the app's window as
this process sees it), or the ``SharedQuota`` a ``RedisQuota`` makes (one budget for every
process of the app, with the pacer as its fallback). Each request ``acquire``s a ``Turn``
before it goes out and settles it exactly once: ``answered`` with what came back, or
``unanswered``.
"""

from __future__ import annotations

import math
from typing import Protocol

from ._limits import LimitHeaders, RateLimit
from ._observe import NO_CALL, Call
from ._pacer import Pacer
from ._ratelimit import Turn

__all__ = ["Quota", "QuotaSource"]


class Quota(Protocol):
    """What paces a client's requests."""

    @property
    def last(self) -> RateLimit | None:
        """The rate limit as the last answer reported it."""

    @property
    def waits(self) -> int:
        """Requests held back by the app's rate-limit window so far."""

    async def acquire(
        self, max_wait: float = math.inf, *, wait: bool = True, call: Call = NO_CALL
    ) -> Turn:
        """Wait until one more request may go; count it as sent.

        ``max_wait`` and ``wait`` are the request's own (its retry policy's ``max_delay`` and
        ``wait``): one the app's window would hold past ``max_wait`` seconds fails at once with
        ``RateLimitError`` (nothing sent); with ``wait=False`` it is never held back. ``call``
        (the request's observation) hears of each rate-limit wait, as it begins and ends."""

    def answered(self, turn: Turn, answer: LimitHeaders) -> None:
        """Settle ``turn`` with the answer its request got: its headers, parsed once."""

    def unanswered(self, turn: Turn, *, sent: bool) -> None:
        """Settle ``turn``, whose request got no answer (``sent``: it may have reached Intercom)."""

    async def aclose(self) -> None:
        """Fail every waiting request with ``ClientClosedError``, and release what is held."""


class QuotaSource(Protocol):
    """What ``IntercomClient(quota=...)`` takes: something that makes a client's ``Quota``."""

    def _quota_for(self, pacer: Pacer, app: str, *, look_timeout: float) -> Quota:
        """The ``Quota`` of one client: ``pacer`` is its own, ``app`` names its budget, and a
        request that looks at a new window is given up after ``look_timeout`` seconds."""
