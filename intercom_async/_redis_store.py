"""``RedisStore``: the shared budget's ``Store`` on Redis, through redis-py's asyncio client.

Every change is one call of ``_budget.lua`` (loaded once, then run by its SHA), so that it is
atomic whatever the number of processes. The access token never reaches Redis: the budget's key
is named after the app (``RedisQuota(app=...)``) or a keyed hash of the token.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from redis.asyncio import Redis

from ._shared import SyncRequest, SyncResult

__all__ = ["RedisStore"]

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


class RedisStore:
    """The budget at ``key`` on ``client``; ``owned``: close the client with the store."""

    def __init__(self, client: Redis, key: str, *, owned: bool) -> None:
        self._client = client
        self._key = key
        self._owned = owned
        self._script = client.register_script(SCRIPT)

    @property
    def key(self) -> str:
        """The key of the budget's hash."""
        return self._key

    async def sync(self, request: SyncRequest) -> SyncResult:
        """One run of ``_budget.lua``."""
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
        ]
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

    async def aclose(self) -> None:
        """Close the Redis client if the store made it."""
        if self._owned:
            await self._client.aclose()

    async def reset(self) -> None:
        """Close the pool's connections (a restarted Redis leaves them dead); new ones come."""
        await self._client.connection_pool.disconnect()

    def describe(self, error: BaseException) -> str:
        """What went wrong, in a few words (redis-py's messages name host and port only)."""
        text = " ".join(str(error).split())
        return f"{type(error).__name__}: {text}" if text else type(error).__name__
