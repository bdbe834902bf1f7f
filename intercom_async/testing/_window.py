"""The fake's rate-limit window: fixed consecutive periods counted from the server's start."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from email.utils import formatdate

__all__ = ["UNMETERED_LIMIT", "RateWindow"]

# The limit reported when no limit is enforced; Remaining then stays at it.
UNMETERED_LIMIT = 10_000


class RateWindow:
    """Counts requests per window and writes the ``X-RateLimit-*`` headers.

    ``limit`` requests are allowed in each window of ``length`` seconds; ``None`` enforces
    nothing (the headers then report ``UNMETERED_LIMIT`` for both Limit and Remaining).
    ``X-RateLimit-Reset`` is the end of the current window rounded up: to a whole second when
    ``length`` is whole seconds, else to the millisecond, written with three decimals. ``Date``
    is ``clock``'s time, so that a fake whose clock runs off ours says so as a server would.
    """

    def __init__(
        self, limit: int | None, length: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.limit = limit
        self.length = float(length)
        self._clock = clock
        self._whole = self.length.is_integer()
        self.restart()

    def restart(self) -> None:
        """Start the first window now."""
        self._epoch = self._clock()
        self._index = 0
        self._count = 0

    def _roll(self) -> None:
        index = int((self._clock() - self._epoch) // self.length)
        if index != self._index:
            self._index = index
            self._count = 0

    @property
    def index(self) -> int:
        """Which window is the current one (0 for the first), as of the last ``admit``/``peek``."""
        return self._index

    def admit(self) -> tuple[bool, dict[str, str]]:
        """Count one request; whether the window allows it, and the headers to answer with."""
        self._roll()
        self._count += 1
        allowed = self.limit is None or self._count <= self.limit
        return allowed, self._headers()

    def peek(self) -> dict[str, str]:
        """The headers as the window stands, without counting a request."""
        self._roll()
        return self._headers()

    def _headers(self) -> dict[str, str]:
        end = self._epoch + (self._index + 1) * self.length
        # Rounded up, so that a client waiting until Reset finds the next window open.
        reset = str(math.ceil(end)) if self._whole else f"{math.ceil(end * 1000) / 1000:.3f}"
        if self.limit is None:
            limit = remaining = UNMETERED_LIMIT
        else:
            limit, remaining = self.limit, max(self.limit - self._count, 0)
        return {
            "Date": formatdate(self._clock(), usegmt=True),
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": reset,
        }
