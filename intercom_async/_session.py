"""``Session``: what a client and the views ``with_options`` makes of it share.

One ``aiohttp.ClientSession`` (one connection pool), made on first use on the event loop the
client is first used in, unless the caller hands one over; the counters behind
``client.stats`` (a ``ClientStats``); and the lifecycle: open until ``close()``, then closed
for good, for the client and every view of it at once.

A client may be closed from an event loop other than its own (another thread's, or a second
``asyncio.run``): ``on_own_loop`` runs the closing where the connections live, and when that
loop is closed already, ``close()`` closes their sockets itself, which aiohttp cannot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp
import attrs

from ._dead_loop import close_transport
from ._errors import ClientClosedError
from ._pacer import CLOSED_MESSAGE

__all__ = ["ClientStats", "Session"]

WRONG_LOOP_MESSAGE = (
    "this IntercomClient belongs to the event loop it was first used in; "
    "make one client per event loop (in tests: one per test, or a fixture whose loop scope "
    "matches its scope)"
)


@attrs.frozen
class ClientStats:
    """What a client has done so far (for progress bars and summaries).

    Attributes:
        requests: HTTP requests sent, retries included.
        retries: retries the retry policy made.
        rate_limited: answers with status 429.
        rate_limit_waits: requests held back until the rate-limit window reset.
    """

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    rate_limit_waits: int = 0


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
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop the session belongs to, once it is used."""
        return self._loop

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

    async def on_own_loop(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``work()`` on the session's event loop, whichever loop calls: on it if it runs
        (in another thread), in a worker thread if it is idle; here if it is this loop, none
        yet, or closed. Cancelling the caller does not cut ``work`` short."""
        owner = self._loop
        if owner is None or owner.is_closed() or owner is asyncio.get_running_loop():
            await work()
        elif owner.is_running():
            future = asyncio.run_coroutine_threadsafe(work(), owner)
            await asyncio.shield(asyncio.wrap_future(future))
        else:
            await asyncio.shield(asyncio.to_thread(owner.run_until_complete, work()))

    async def close(self) -> None:
        """Mark it closed and close our own aiohttp session (never the caller's)."""
        self.closed = True
        if self.owns_session and self._session is not None:
            if self._loop is not None and self._loop.is_closed():
                _close_sockets(self._session)
            await self._session.close()


def _close_sockets(session: aiohttp.ClientSession) -> None:
    """Close the sockets of the connections of a session whose event loop is closed (aiohttp
    leaves a closed loop's alone): the pool's connections are looked for where aiohttp keeps
    them."""
    connector = session.connector
    pooled: Any = getattr(connector, "_conns", {})
    protocols = [protocol for entries in pooled.values() for protocol, _ in entries]
    protocols += list(getattr(connector, "_acquired", ()))
    for protocol in protocols:
        close_transport(getattr(protocol, "transport", None))
