"""Where the server's clock stands against ours, learnt from its answers (sans-I/O).

``X-RateLimit-Reset`` is a time on Intercom's clock. To wait for it on ours, the pacer needs the
offset between the two (server time minus local time). No header gives it exactly, but every
answer bounds it:

- its ``Date`` (whole seconds, truncated) was stamped while the request was at the server, at
  some local moment between ``sent`` and ``received``: ``offset >= date - received``;
- its ``X-RateLimit-Reset`` had not yet come at the server: ``offset < reset - sent``.

``ServerClock`` keeps the tightest lower and upper bound learnt in the last ``HORIZON`` seconds
(so that a clock stepped by NTP is forgotten) and answers one question: by what local time has
the server's clock surely reached a given time? It answers from the lower bound, so that a
window is never taken to be over before it is; with no ``Date`` at all it trusts our clock.

A pacer that took a window to be over and then heard the server still counting it calls
``early``: the lower bound was wrong (a ``Date`` rounded rather than truncated, or stamped by
another clock than the window's). From then on the estimate also keeps a margin below the upper
bound, which the early answer has just tightened; the margin doubles with each early window, so
that a few probes find the true offset, and is forgotten with the upper bound.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ._protocol import http_date

__all__ = ["FIRST_MARGIN", "HORIZON", "ServerClock"]

HORIZON = 300.0  # seconds a bound is kept unless a tighter one renews it
FIRST_MARGIN = 0.05  # seconds kept below the upper bound after the first early window


class ServerClock:
    """Bounds on the offset between the server's clock and ours (server minus local)."""

    __slots__ = ("_early", "_hi", "_hi_at", "_lo", "_lo_at")

    def __init__(self) -> None:
        self._lo = -math.inf  # offset >= lo
        self._lo_at = -math.inf  # the local time lo was learnt
        self._hi = math.inf  # offset < hi
        self._hi_at = -math.inf
        self._early = 0  # windows taken to be over too early, while hi has been kept

    @property
    def offset(self) -> float:
        """The offset the pacer goes by: the lower bound, kept under the upper bound."""
        estimate = self._lo if self._lo > -math.inf else 0.0
        if self._hi == math.inf:
            return estimate
        if self._early == 0 and self._lo > self._hi and self._lo_at > self._hi_at:
            return estimate  # a newer lower bound beyond the upper one: that one went stale
        margin = FIRST_MARGIN * 2.0 ** (self._early - 1) if self._early else 0.0
        return min(estimate, self._hi - margin)

    def local(self, server_time: float) -> float:
        """The local time by which the server's clock has surely reached ``server_time``."""
        return server_time - self.offset

    def answered(
        self, headers: Mapping[str, str], reset: float | None, sent: float, received: float
    ) -> None:
        """Learn from an answer to a request sent at ``sent`` that arrived at ``received``."""
        if received - self._lo_at > HORIZON:
            self._lo, self._lo_at = -math.inf, -math.inf
        if received - self._hi_at > HORIZON:
            self._hi, self._hi_at, self._early = math.inf, -math.inf, 0
        date = http_date(headers.get("Date"))
        if date is not None and date - received >= self._lo:
            self._lo, self._lo_at = date - received, received
        if reset is not None and reset - sent <= self._hi:
            self._hi, self._hi_at = reset - sent, received

    def early(self) -> None:
        """A window taken to be over was not: keep a (wider) margin below the upper bound."""
        self._early += 1
