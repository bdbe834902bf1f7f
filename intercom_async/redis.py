"""One Intercom rate-limit budget for many processes, kept in Redis: ``RedisQuota``.

```python
from intercom_async import IntercomClient
from intercom_async.redis import RedisQuota

async with IntercomClient(quota=RedisQuota("redis://localhost:6379/0")) as client:
    ...  # every process that does the same shares one budget for the app
```

Needs the ``redis`` extra: ``pip install 'intercom-async[redis]'`` (redis-py's asyncio client).
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

try:
    from redis.asyncio import Redis, RedisCluster
    from redis.asyncio.connection import parse_url
except ImportError as error:  # pragma: no cover - exercised without the extra installed
    raise ImportError(
        "intercom_async.redis needs redis-py: pip install 'intercom-async[redis]'"
    ) from error

from ._redis_store import AsyncRedis, RedisStore
from ._shared import SharedQuota, SyncRequest

if TYPE_CHECKING:
    from ._pacer import Pacer

__all__ = ["RedisQuota"]

_APP = re.compile(r"[A-Za-z0-9._:/@+=-]{1,200}")
DEFAULT_PREFIX = "intercom-async"
# After a window's reset one request, from any process, goes to look at the new window; if its
# answer has not come in this long (or its process died), another may go.
LOOK_TIMEOUT = 2.0


class RedisQuota:
    """A rate-limit budget shared through Redis by every client of one Intercom app.

    Pass it to one client: ``IntercomClient(quota=RedisQuota(...))``. Every client, in any
    process, whose ``RedisQuota`` names the same budget takes its units from it: together they
    send no more than the app's window has left, one 429 holds them all until it is over, and
    after a reset they send the window's limit between them, not one burst each.

    Redis is a help, never a single point of failure: when it is unreachable (at start, or
    later), stalls past ``timeout``, or fails, the client paces itself from the headers alone, as
    a client without a ``RedisQuota`` does, logs one WARNING, and goes back to the shared budget
    (with one more WARNING) once Redis answers again.

    Args:
        redis: a ``redis.asyncio.Redis`` client (one from a ``Sentinel``'s ``master_for()``
            too) or a ``redis.asyncio.RedisCluster``: yours, it is not closed with the quota,
            and of its connections only idle ones are ever closed; or a URL to make one from
            (``"redis://localhost:6379/0"``, ``"rediss://..."``, ``"unix:///run/redis.sock"``),
            closed with the client.
        app: the budget's name. By default it is a keyed hash of the access token, so that the
            clients of one token share one budget; give the same ``app`` to clients of tokens
            of one Intercom app. Letters, digits and ``._:/@+=-``, at most 200.
        timeout: seconds a call to Redis may take before Redis is taken to be down.
        key_prefix: the start of the budget's key in Redis (``"<prefix>:{<app>}:budget"``).

    The access token never goes to Redis, in a key or a value.
    """

    def __init__(
        self,
        redis: AsyncRedis | str,
        *,
        app: str | None = None,
        timeout: float = 0.25,
        key_prefix: str = DEFAULT_PREFIX,
    ) -> None:
        if isinstance(redis, str):
            _check_url(redis)
        elif not isinstance(redis, (Redis, RedisCluster)):
            kind = f"{type(redis).__module__}.{type(redis).__qualname__}"
            raise TypeError(
                "redis must be a redis.asyncio.Redis, a redis.asyncio.RedisCluster or a URL, "
                f"not a {kind}"
                + (" (redis-py's synchronous clients will not do)" if _synchronous(redis) else "")
            )
        if app is not None and (not isinstance(app, str) or not _APP.fullmatch(app)):
            raise ValueError(
                f"app must be 1 to 200 letters, digits or ._:/@+=- characters, not {app!r}"
            )
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not (timeout > 0 and math.isfinite(timeout))
        ):
            raise ValueError(
                f"timeout must be a positive finite number of seconds, not {timeout!r}"
            )
        if not isinstance(key_prefix, str) or not key_prefix or "{" in key_prefix:
            raise ValueError(f"key_prefix must be a non-empty str without braces: {key_prefix!r}")
        self._redis = redis
        self._app = app
        self._timeout = float(timeout)
        self._prefix = key_prefix
        self._bound = False
        self._bound_key: str | None = None  # the budget's key, once the quota serves a client

    @property
    def app(self) -> str | None:
        """The budget's name, if one was given (else it comes from the token)."""
        return self._app

    def key(self, app: str) -> str:
        """The Redis key of the budget named ``app``."""
        return f"{self._prefix}:{{{app}}}:budget"

    def __repr__(self) -> str:
        where = _redacted(self._redis) if isinstance(self._redis, str) else repr(self._redis)
        return f"<RedisQuota {where} app={self._app or '(from the token)'}>"

    def _quota_for(self, pacer: Pacer, app: str, *, look_timeout: float) -> SharedQuota:
        """The ``Quota`` of the client that ``pacer`` belongs to; ``app`` names the budget
        unless this quota has a name of its own."""
        if self._bound:
            raise ValueError("a RedisQuota serves one IntercomClient: make one for each client")
        self._bound = True
        if isinstance(self._redis, str):
            client = Redis.from_url(
                self._redis,
                socket_timeout=self._timeout,
                socket_connect_timeout=self._timeout,
            )
            owned = True
        else:
            client, owned = self._redis, False
        name = self._app or app
        store = RedisStore(client, self.key(name), owned=owned)
        self._bound_key = store.key
        look_timeout = min(look_timeout, LOOK_TIMEOUT)
        return SharedQuota(
            pacer, store, timeout=self._timeout, look_timeout=look_timeout, name=store.key
        )

    async def _check(self, limit: float) -> None:
        """Call Redis once as the client will, asking for nothing (as it does when Redis comes
        back), on a connection of its own if the quota was given a URL; raise what Redis raised
        (``credentials_refused`` tells a refusal of the credentials), or ``TimeoutError`` after
        ``limit`` seconds. Once it serves a client."""
        if self._bound_key is None:
            raise RuntimeError("a RedisQuota is checked once it serves a client")
        if isinstance(self._redis, str):
            client: AsyncRedis = Redis.from_url(
                self._redis, socket_timeout=limit, socket_connect_timeout=limit
            )
            store = RedisStore(client, self._bound_key, owned=True)
        else:
            store = RedisStore(self._redis, self._bound_key, owned=False)
        try:
            async with asyncio.timeout(limit):
                await store.sync(SyncRequest(time.time(), 0, 0, LOOK_TIMEOUT))
        finally:
            await store.aclose()


def _synchronous(value: object) -> bool:
    """Whether ``value`` is one of redis-py's synchronous clients (``redis.Redis``, ...)."""
    module = type(value).__module__
    return module.startswith("redis.") and not module.startswith("redis.asyncio")


def _check_url(url: str) -> None:
    """A ``ValueError`` (that quotes no password) unless redis-py can connect to ``url``."""
    try:
        scheme = urlsplit(url).scheme
        parse_url(url)
    except ValueError:  # (redis-py's message may quote a piece of the password: not shown)
        raise ValueError(
            f"redis URL {_redacted(url)!r} is not valid: redis-py cannot read it"
        ) from None
    if scheme not in ("redis", "rediss", "unix") or not url.startswith(f"{scheme}://"):
        raise ValueError(
            f"redis must be a redis://, rediss:// or unix:// URL, not {_redacted(url)!r}"
        )


def _redacted(url: str) -> str:
    """``url`` as ``scheme://host:port/path``: no user, password or query (which may hold one)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        return f"{parts.scheme}://{host}{parts.path}"
    except ValueError:
        return "<a URL that does not parse>"
