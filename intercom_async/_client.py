"""``IntercomClient``: the aiohttp session manager every request goes through.

A client is open from construction until ``aclose()`` (or the end of its ``async with``), then
closed for good; it owns one ``aiohttp.ClientSession`` (one connection pool), made on first use,
unless you hand it yours. Each request: wait for the rate-limit pacer, wait for a connection of
the pool, send, read the body (capped), hand status, headers and body to the sans-I/O core to
decipher. Every ``await`` on that path may be cancelled (a caller's deadline, a ``break`` out of
``get_many``): the pacer is then told what became of the request, and the pool slot is given
back, so the client is left as it was. ``aclose()`` ends every wait at once with
``ClientClosedError``.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import time
from functools import partial
from types import TracebackType
from typing import Any

import aiohttp
import attrs
from aiohttp.http_exceptions import ContentEncodingError
from yarl import URL

from ._errors import ClientClosedError, IntercomError, ResponseDecodeError, TransportError
from ._models import Ticket
from ._pacer import CLOSED_MESSAGE, Pacer
from ._protocol import (
    RateLimit,
    build_headers,
    decipher_ticket,
    resolve_base_url,
    validate_version,
)
from ._quota import Quota, QuotaSource
from ._retry import RetryPolicy, retry_after_failure
from ._sleep import Sleeper
from ._tickets import Tickets

__all__ = ["ClientStats", "IntercomClient"]

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
TOKEN_ENV = "INTERCOM_ACCESS_TOKEN"  # noqa: S105 - a variable name, not a secret


class _Token:
    """The access token, wrapped so that no repr (nor a traceback's locals) shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: object) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "<access token, redacted>"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("the access token is not picklable")

    def digest(self) -> str:
        """A keyed hash of the token: a name for what its clients share, that reveals nothing."""
        key = b"intercom-async shared budget"
        return hashlib.blake2b(self.checked().encode(), key=key, digest_size=16).hexdigest()

    def checked(self) -> str:
        """The token, if it is one a request can carry; else a ``ValueError`` that hides it."""
        if self._value is None:
            raise ValueError(f"no Intercom access token: pass token=... or set {TOKEN_ENV}")
        if not isinstance(self._value, str):
            raise TypeError(f"token must be a str, not {type(self._value).__name__}")
        if not self._value.strip():
            raise ValueError(f"no Intercom access token: the token given is blank (or {TOKEN_ENV})")
        if "\r" in self._value or "\n" in self._value or "\x00" in self._value:
            raise ValueError("the access token contains a line break or NUL character")
        return self._value.strip()  # spaces around a pasted token are not part of it


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


class IntercomClient:
    """An asyncio client for Intercom's REST API.

    Args:
        token: the access token; defaults to the ``INTERCOM_ACCESS_TOKEN`` environment variable,
            read now. No token at all is a ``ValueError``.
        region: ``"us"``, ``"eu"`` or ``"au"``: which Intercom data centre to talk to.
        base_url: an API root that overrides ``region`` (a proxy, a test server). Plain
            ``http://`` is refused for non-loopback hosts unless ``allow_insecure_http``.
        version: the ``Intercom-Version`` header: ``"2.9"`` by default, any version the 2.9
            description lists, any newer ``"N.M"``, or ``"Unstable"``.
        retry: the ``RetryPolicy``; ``RetryPolicy()`` by default.
        timeout: seconds one attempt may take in all, 30 by default (or an
            ``aiohttp.ClientTimeout`` whose timeouts are each ``None`` or a positive finite
            number).
        session: an ``aiohttp.ClientSession`` to use; it is yours, and never closed by us.
        max_requests_per_second: a local cap on top of Intercom's own limit, for apps whose quota
            several processes share: a positive finite number, or ``None``.
        max_response_bytes: a larger body is not read: a 2xx answer that large is a
            ``ResponseDecodeError``, an error answer is reported by its status alone;
            32 MiB by default.
        max_connections: the size of the connection pool the client makes for itself (unused
            when you pass ``session``).
        allow_insecure_http: allow ``http://`` to a non-loopback ``base_url``.
        quota: a ``RedisQuota`` (``intercom_async.redis``): one rate-limit budget shared by
            every client of the app, in any process. By default the client paces itself from
            the headers alone.

    Attributes:
        tickets: the ticket endpoints (``Tickets``): ``client.tickets.get("1295")``.

    Use it as ``async with IntercomClient() as client: ...`` or close it with ``await
    client.aclose()``. Once closed it refuses work with ``ClientClosedError``.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        region: str = "us",
        base_url: str | None = None,
        version: str = "2.9",
        retry: RetryPolicy | None = None,
        timeout: float | aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        session: aiohttp.ClientSession | None = None,
        max_requests_per_second: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_connections: int = 100,
        allow_insecure_http: bool = False,
        quota: QuotaSource | None = None,
    ) -> None:
        # From here on the token is only ever held wrapped, so that a traceback that shows this
        # frame's local variables (as error trackers do) shows no token.
        wrapped = _Token(os.environ.get(TOKEN_ENV) if token is None else token)
        del token
        wrapped.checked()
        self._base_url = resolve_base_url(region, base_url, allow_insecure_http=allow_insecure_http)
        self._version = validate_version(version)
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise TypeError(f"retry must be a RetryPolicy, not {type(retry).__name__}")
        self._retry = retry if retry is not None else RetryPolicy()
        self._timeout = _client_timeout(timeout)
        if not isinstance(max_response_bytes, int) or max_response_bytes < 1:
            raise ValueError("max_response_bytes must be a positive int")
        self._max_response_bytes = max_response_bytes
        if not isinstance(max_connections, int) or max_connections < 1:
            raise ValueError("max_connections must be a positive int")
        self._max_connections = max_connections
        self._headers = build_headers(wrapped.checked(), self._version)
        self._session = session
        self._owns_session = session is None
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the session lives on
        # Our own pool has max_connections connections; a request takes one before its timeout
        # starts, so that waiting for a free connection never counts as the attempt's time.
        self._slots = asyncio.Semaphore(max_connections) if session is None else None
        # A session of ours has the timeout built in; one of yours gets it on each request.
        self._per_request: dict[str, Any] = (
            {} if session is None else {"timeout": self._timeout, "raise_for_status": False}
        )
        self._closed = False
        pacer = Pacer(
            max_requests_per_second, max_wait=self._retry.max_delay, wait=self._retry.wait
        )
        self._pacer = pacer  # the client's own; a shared quota paces through it too
        self._quota: Quota = pacer
        if quota is not None:
            if not callable(getattr(quota, "_quota_for", None)):
                raise TypeError(f"quota must be a RedisQuota, not {type(quota).__name__}")
            look_timeout = self._timeout.total or DEFAULT_TIMEOUT
            self._quota = quota._quota_for(pacer, wrapped.digest(), look_timeout=look_timeout)
        self._sleeper = Sleeper(CLOSED_MESSAGE)
        self._requests = 0
        self._retries = 0
        self._rate_limited = 0
        self.tickets = Tickets(self)

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self._base_url

    @property
    def version(self) -> str:
        """The ``Intercom-Version`` every request sends."""
        return self._version

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy."""
        return self._retry

    @property
    def closed(self) -> bool:
        """Whether the client was closed."""
        return self._closed

    @property
    def rate_limit(self) -> RateLimit | None:
        """The app's rate limit as the last answer reported it (``None`` before any)."""
        return self._quota.last

    @property
    def stats(self) -> ClientStats:
        """Counters of what this client did so far."""
        return ClientStats(
            requests=self._requests,
            retries=self._retries,
            rate_limited=self._rate_limited,
            rate_limit_waits=self._quota.waits,
        )

    async def __aenter__(self) -> IntercomClient:
        self._ensure_session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client and, if it made its own, its session. Safe to call twice.

        Requests waiting for the rate-limit window or a retry fail at once with
        ``ClientClosedError``; so do those in flight on the client's own session.
        """
        if self._closed:
            return
        self._closed = True
        self._sleeper.close()
        try:
            await self._quota.aclose()
        finally:
            if self._owns_session and self._session is not None:
                await self._session.close()

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("an IntercomClient cannot be pickled (it holds the access token)")

    def __repr__(self) -> str:
        # getattr: a traceback may show a client whose __init__ raised half-way.
        state = "closed" if getattr(self, "_closed", False) else "open"
        where = getattr(self, "_base_url", "(not set up)")
        return f"<IntercomClient {where} version={getattr(self, '_version', '?')} {state}>"

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ClientClosedError(CLOSED_MESSAGE)
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise ClientClosedError(
                "this IntercomClient belongs to the event loop it was first used in; "
                "make one client per event loop"
            )
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                timeout=self._timeout,
            )
        elif self._session.closed:
            raise ClientClosedError("the aiohttp session given to IntercomClient is closed")
        return self._session

    # -- requests ----------------------------------------------------------------------------

    async def _get_ticket(self, path: str) -> Ticket:
        """``GET`` a ticket path under the retry policy."""
        started = time.monotonic()
        try:
            return await self._attempt(path)
        except IntercomError as error:
            return await retry_after_failure(
                self._retry,
                error,
                started,
                partial(self._attempt, path),
                what=f"GET {path}",
                on_retry=self._count_retry,
                sleep=self._sleeper.sleep,
            )

    def _count_retry(self, error: IntercomError, wait: float) -> None:
        self._retries += 1

    async def _attempt(self, path: str) -> Ticket:
        session = self._ensure_session()  # a closed client fails at once, not after its turn
        turn = await self._quota.acquire()
        # From here until the pacer hears what became of this request, every way out settles it.
        stage = _WAITING
        try:
            if self._slots is not None:
                await self._slots.acquire()
            try:
                session = self._ensure_session()  # the waits may have outlasted the client
                stage = _SENT
                self._requests += 1
                async with session.get(
                    URL(self._base_url + path, encoded=True),
                    headers=self._headers,
                    allow_redirects=False,
                    **self._per_request,
                ) as response:
                    stage = _ANSWERED
                    self._quota.answered(turn, response.status, response.headers)
                    if response.status == 429:
                        self._rate_limited += 1
                    body = await self._read_body(response)
                    status, reason = response.status, response.reason or ""
                    headers = response.headers
            finally:
                if self._slots is not None:
                    self._slots.release()
        except (TimeoutError, aiohttp.ClientError) as exc:
            if self._closed:
                raise ClientClosedError(CLOSED_MESSAGE) from exc
            raise TransportError(_describe(exc), path=path, retryable=_retryable(exc)) from exc
        except RuntimeError as exc:  # aiohttp's "Session is closed", "Connector is closed"
            if self._closed or session.closed:
                raise ClientClosedError(CLOSED_MESSAGE) from exc
            raise
        finally:
            if stage is not _ANSWERED:
                self._quota.unanswered(turn, sent=stage is _SENT)
        return decipher_ticket(status, headers, body, reason=reason, path=path)

    async def _read_body(self, response: aiohttp.ClientResponse) -> bytes:
        cap = self._max_response_bytes
        length = response.content_length
        if length is not None and length <= cap and "Content-Encoding" not in response.headers:
            return await response.read()
        size = 0
        chunks = []
        if length is None or length <= cap:
            async for chunk in response.content.iter_any():
                size += len(chunk)
                if size > cap:
                    break
                chunks.append(chunk)
        if size <= cap and (length is None or length <= cap):
            return b"".join(chunks)
        if 200 <= response.status < 300:
            raise self._too_large(response)
        return b""  # an error answer is reported by its status alone

    def _too_large(self, response: aiohttp.ClientResponse) -> ResponseDecodeError:
        return ResponseDecodeError(
            f"response body larger than max_response_bytes ({self._max_response_bytes} bytes); "
            "not read",
            status=response.status,
            request_id=response.headers.get("X-Request-Id"),
            headers=response.headers,
        )


# Where a request stands when it fails: the pacer hears whether it may have reached Intercom.
_WAITING = "waiting"
_SENT = "sent"
_ANSWERED = "answered"


def _client_timeout(timeout: object) -> aiohttp.ClientTimeout:
    """``timeout`` as an ``aiohttp.ClientTimeout``, or a ``ValueError`` that says what is wrong."""
    if isinstance(timeout, aiohttp.ClientTimeout):
        for name in ("total", "connect", "sock_read", "sock_connect"):
            value = getattr(timeout, name)
            if value is not None and not _positive_finite(value):
                raise ValueError(
                    f"timeout.{name} must be None or a positive finite number of seconds, "
                    f"not {value!r}"
                )
        return timeout
    if not _positive_finite(timeout):
        raise ValueError(f"timeout must be a positive finite number of seconds, not {timeout!r}")
    assert isinstance(timeout, (int, float))
    return aiohttp.ClientTimeout(total=float(timeout))


def _positive_finite(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value > 0
        and math.isfinite(value)
    )


def _retryable(exc: BaseException) -> bool:
    """Whether a failure to get an answer could go differently next time.

    Not a certificate or TLS failure, a URL aiohttp cannot send to, nor a body in an encoding
    it cannot decode (that last is found as a ``ContentEncodingError`` among the causes).
    """
    if isinstance(exc, (aiohttp.ClientSSLError, aiohttp.InvalidURL)):
        return False
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            break
        if isinstance(seen, ContentEncodingError):
            return False
        seen = seen.__cause__ or seen.__context__
    return True


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
