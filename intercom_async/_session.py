"""``Session``: what a client and the views ``with_options`` makes of it share.

One ``aiohttp.ClientSession`` (one connection pool), made on first use on the event loop the
client is first used in, unless the caller hands one over; the counters behind
``client.stats``; and the lifecycle: open until ``close()``, then closed for good, for the
client and every view of it at once.
"""

from __future__ import annotations

import asyncio

import aiohttp

from ._errors import ClientClosedError
from ._pacer import CLOSED_MESSAGE

__all__ = ["Session"]

WRONG_LOOP_MESSAGE = (
    "this IntercomClient belongs to the event loop it was first used in; "
    "make one client per event loop (in tests: one per test, or a fixture whose loop scope "
    "matches its scope)"
)


class Session:
    """The aiohttp session of a client and its views, made on first use, closed once.

    Args:
        session: the caller's ``aiohttp.ClientSession``, never closed here; ``None`` to make
            one of our own, with a pool of ``max_connections`` and ``timeout`` built in.
        max_connections: the size of our own pool.
        timeout: the attempt timeout built into our own session.
    """

    __slots__ = (
        "_loop",
        "_session",
        "closed",
        "max_connections",
        "owns_session",
        "rate_limited",
        "requests",
        "retries",
        "timeout",
    )

    def __init__(
        self,
        session: aiohttp.ClientSession | None,
        *,
        max_connections: int,
        timeout: aiohttp.ClientTimeout,
    ) -> None:
        self._session = session
        self._loop: asyncio.AbstractEventLoop | None = None
        self.owns_session = session is None
        self.max_connections = max_connections
        self.timeout = timeout
        self.closed = False
        self.requests = 0  # HTTP requests sent, retries included
        self.retries = 0
        self.rate_limited = 0  # answers with status 429

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The aiohttp session, once made (or the caller's)."""
        return self._session

    def pool_limit(self) -> int | None:
        """How many connections to Intercom the session's pool allows at once (``None``: no
        limit): ``max_connections`` for ours, the connector's ``limit`` and ``limit_per_host``
        for the caller's."""
        if self.owns_session:
            return self.max_connections
        assert self._session is not None
        connector = self._session.connector
        if connector is None:
            return None
        limits = [n for n in (connector.limit, connector.limit_per_host) if n]
        return min(limits) if limits else None

    def ensure(self) -> aiohttp.ClientSession:
        """The open session on the running loop, made if need be; else ``ClientClosedError``."""
        if self.closed:
            raise ClientClosedError(CLOSED_MESSAGE)
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise ClientClosedError(WRONG_LOOP_MESSAGE)
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.max_connections),
                timeout=self.timeout,
            )
        elif self._session.closed:
            raise ClientClosedError("the aiohttp session given to IntercomClient is closed")
        return self._session

    async def close(self) -> None:
        """Mark it closed and close our own aiohttp session (never the caller's)."""
        self.closed = True
        if self.owns_session and self._session is not None:
            await self._session.close()
