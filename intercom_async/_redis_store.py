"""``RedisStore``: the shared budget's ``Store`` on Redis, through redis-py's asyncio client.

Every change is one call of ``_budget.lua`` (loaded once, then run by its SHA), so that it is
atomic whatever the number of processes. The script touches one key, whose name has the app in
a hash tag (``{app}``), so it runs on a Redis Cluster too (``RedisCluster`` sends it to the
master of the key's slot). The access token never reaches Redis: the budget's key is named
after the app (``RedisQuota(app=...)``) or a keyed hash of the token.
"""

from __future__ import annotations

import asyncio
import re
from importlib import resources
from typing import Any, TypeAlias, cast

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import (
    AuthenticationError,
    AuthenticationWrongNumberOfArgsError,
    NoPermissionError,
    ResponseError,
)

from ._dead_loop import close_transport
from ._shared import SyncRequest, SyncResult

__all__ = ["AsyncRedis", "RedisStore", "credentials_refused"]

# What a store talks to: a client of one Redis (or of a Sentinel's master), or of a cluster.
AsyncRedis: TypeAlias = Redis | RedisCluster
# Redis refused the credentials (WRONGPASS, NOAUTH; NOPERM: the user may not run the script or
# touch the key): a configuration error, which trying again will not mend.
REFUSALS = (AuthenticationError, AuthenticationWrongNumberOfArgsError, NoPermissionError)
# The same in words: an error from a script, and what Redis says (and then hangs up) to a client
# that sends a long command without a password ("Protocol error: unauthenticated multibulk
# length": the budget's script has 15 arguments, more than Redis reads before AUTH).
REFUSED = re.compile(r"\b(?:WRONGPASS|NOAUTH|NOPERM)\b|^Protocol error: unauthenticated\b")

SCRIPT = resources.files(__package__).joinpath("_budget.lua").read_text(encoding="utf-8")
GRACE = 60.0  # seconds the budget's key outlives its window, its holds and its look


def _counts(counts: tuple[tuple[int, int], ...]) -> str:
    """Units by generation, as ``_budget.lua`` reads them: ``"gen units gen units ..."``."""
    return " ".join(f"{gen} {units}" for gen, units in counts)


def _reset(value: float | None) -> str:
    """A window's reset, to the millisecond: the script compares resets for equality, and keeps
    them as this same text (Lua's own ``tostring`` keeps 14 digits)."""
    return "" if value is None else f"{value:.3f}"


def _arg(value: float | int | str | None) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


async def _read_layout(client: RedisCluster) -> None:
    await client.initialize()


def _seen(future: asyncio.Future[None]) -> None:
    """Mark ``future``'s exception as retrieved: the call that awaited it may be gone."""
    if not future.cancelled():
        future.exception()


def _close_sockets(client: AsyncRedis) -> None:
    """Close the sockets of a Redis client's connections without their (closed) event loop,
    and leave the connections as redis-py leaves a closed one (no reader, no writer)."""
    pool: Any = getattr(client, "connection_pool", None)
    connections = [
        *getattr(pool, "_available_connections", ()),
        *getattr(pool, "_in_use_connections", ()),
    ]
    for connection in connections:
        writer = getattr(connection, "_writer", None)
        if writer is not None:
            close_transport(writer.transport)
            connection._reader = connection._writer = None


def credentials_refused(error: BaseException) -> bool:
    """Whether ``error`` is (or was caused by) Redis refusing the credentials: ``WRONGPASS``,
    ``NOAUTH``, ``NOPERM`` (a ``RedisCluster`` that cannot start wraps the refusal in one of its
    own errors)."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, REFUSALS):
            return True
        if isinstance(cause, ResponseError) and REFUSED.search(str(cause)):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


class RedisStore:
    """The budget at ``key`` on ``client``; ``owned``: the store made the client, and closes it."""

    def __init__(self, client: AsyncRedis, key: str, *, owned: bool) -> None:
        self._client = client
        self._key = key
        self._owned = owned
        self._layout: asyncio.Task[None] | None = None  # a cluster's first reading of it
        self._loop: asyncio.AbstractEventLoop | None = None  # where its connections live
        # (redis-py types register_script for Redis alone; RedisCluster's is the same method)
        self._script = cast("Redis", client).register_script(SCRIPT)

    @property
    def key(self) -> str:
        """The key of the budget's hash."""
        return self._key

    async def sync(self, request: SyncRequest) -> SyncResult:
        """One run of ``_budget.lua``."""
        self._loop = asyncio.get_running_loop()
        args: list[float | int | str | None] = [
            request.now,
            request.want,
            request.prefetch,
            request.look_timeout,
            _reset(request.reset),
            request.limit,
            request.remaining,
            request.reset_gen,
            request.held,
            _counts(request.refunds),
            request.released_gen,
            GRACE,
            " ".join(f"{gen} {_reset(reset) or '-'} {n}" for gen, reset, n in request.settled),
            request.learnt_gen,
            _counts(request.looks),
        ]
        if isinstance(self._client, RedisCluster):
            await self._cluster_ready(self._client)
        raw: Any = await self._script(keys=[self._key], args=[_arg(arg) for arg in args])
        code, granted, until, gen, look, early, end = raw
        return SyncResult(
            code=int(code),
            granted=int(granted),
            until=float(until),
            gen=int(gen),
            look=bool(int(look)),
            early=bool(int(early)),
            end=float(end) if end not in ("", b"") else None,
        )

    async def _cluster_ready(self, client: RedisCluster) -> None:
        """A ``RedisCluster`` reads the cluster's layout before its first command (redis-py 6
        and later read the command table too: a tenth of a second, or more). That reading goes
        on when a call is cancelled (the store's timeout), so that a slow one ends in time for a
        later call, rather than start over at each."""
        layout = self._layout
        if layout is None or (layout.done() and (layout.cancelled() or layout.exception())):
            self._layout = layout = asyncio.ensure_future(_read_layout(client))
            layout.add_done_callback(_seen)
        await asyncio.shield(layout)

    async def aclose(self) -> None:
        """Close the Redis client if the store made it. When the event loop its connections
        were made on is closed (the client is closed after its ``asyncio.run``), redis-py
        cannot close them: their sockets are closed here."""
        if self._owned:
            if self._loop is not None and self._loop.is_closed():
                _close_sockets(self._client)
            await self._client.aclose()

    async def reset(self) -> None:
        """Close the connections a failure may have left dead (a restarted Redis does); new ones
        come. Of a client the store made, every one; of the application's, only the idle ones:
        those in use (a subscriber, a command in flight) are the application's business. A
        ``RedisCluster`` mends its own (it drops a node's connections, or reconnects them, after
        an error), so its connections are left alone."""
        client = self._client
        if isinstance(client, Redis):
            await client.connection_pool.disconnect(inuse_connections=self._owned)

    def describe(self, error: BaseException) -> str:
        """What went wrong, in a few words (redis-py's messages name host and port only)."""
        text = " ".join(str(error).split())
        return f"{type(error).__name__}: {text}" if text else type(error).__name__

    def refused(self, error: BaseException) -> bool:
        """Whether ``error`` is Redis refusing the credentials (a configuration error)."""
        return credentials_refused(error)
