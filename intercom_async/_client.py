"""``IntercomClient``: what you create and close, and the views ``with_options`` makes of it.

A client is open from construction until ``aclose()`` (or the end of its ``async with``), then
closed for good; it owns one ``aiohttp.ClientSession`` (one connection pool), made on first use,
unless you hand it yours. It checks its settings (``_settings.py``), holds them, and hands every
request to its ``Transport`` (``_transport.py``: pacing, the pool, retries within ``max_delay``,
the body, decoding). ``aclose()`` ends every wait at once with ``ClientClosedError``.

``with_options`` makes a view, built explicitly: a client object with its own policy, timeout
and headers over the same ``Session`` (``_session.py``: the aiohttp session, counters and
lifecycle), quota and pool slots (its ``Transport`` is a ``view`` of the client's); its
resources are bound by ``_bind_resources``, as the client's are.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
import attrs
from yarl import URL

from ._headers import AppInfo, check_headers, user_agent
from ._hooks import Hooks
from ._limits import RateLimit
from ._observe import build_observer
from ._pacer import Pacer
from ._protocol import USER_AGENT, build_headers, validate_version
from ._proxy import resolve_proxy
from ._quota import Quota, QuotaSource
from ._raw import RawResponse
from ._retry import RetryPolicy
from ._session import ClientStats, Session
from ._settings import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    TOKEN_ENV,
    Token,
    choose_base_url,
    client_timeout,
    positive_int,
    retry_policy,
)
from ._shared import SharedQuota
from ._tickets import Tickets
from ._transport import Transport
from ._versions import is_lenient

__all__ = ["ClientStats", "IntercomClient"]

T = TypeVar("T")


class IntercomClient:
    """An asyncio client for Intercom's REST API.

    Args:
        token: the access token; defaults to the ``INTERCOM_ACCESS_TOKEN`` environment variable,
            read now. No token at all is a ``ValueError``.
        region: ``"us"``, ``"eu"`` or ``"au"``: which Intercom data centre to talk to.
        base_url: an API root that overrides ``region`` (a proxy, a test server); defaults to
            the ``INTERCOM_BASE_URL`` environment variable, read now (unset or blank: the
            region's). Plain ``http://`` is refused for non-loopback hosts unless
            ``allow_insecure_http``; ``region`` is checked all the same.
        version: the ``Intercom-Version`` header: ``"2.9"`` by default, any version the 2.9
            description lists, any newer ``"N.M"``, or ``"Unstable"``.
        retry: the ``RetryPolicy``; ``RetryPolicy()`` by default. Its ``max_delay`` bounds each
            call as a whole: rate-limit waits, attempts and backoffs.
        timeout: seconds one attempt may take in all, 30 by default (or an
            ``aiohttp.ClientTimeout`` whose timeouts are each ``None`` or a positive finite
            number).
        session: an ``aiohttp.ClientSession`` to use; it is yours, and never closed by us. A
            request waits for a free connection of its connector (``limit``,
            ``limit_per_host``) before its timeout starts; only requests you make on the same
            session outside the client can make it wait within an attempt.
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
        hooks: a ``Hooks``: your callbacks on each attempt, answer, retry and rate-limit wait.
        tracer_provider, meter_provider: the OpenTelemetry providers to report to (with
            ``intercom-async[otel]``); the global ones by default.
        default_headers: headers added to every request (a gateway's, trace propagation);
            ``Authorization``, ``Intercom-Version``, ``Content-Type`` and ``Host`` are refused
            (use ``token=``, ``version=``...), as is a value with a line break.
        app_info: an ``AppInfo`` naming your application at the end of the ``User-Agent``.
        proxy: an ``http://`` or ``https://`` proxy URL (credentials in it are allowed, and
            never logged); by default ``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY`` and
            ``NO_PROXY`` are honoured for the session the client makes (not for a loopback
            ``base_url``). Plain ``http`` through a proxy needs ``allow_insecure_http``.
        proxy_auth: an ``aiohttp.BasicAuth`` for ``proxy``.
        trust_env: ``False`` ignores the proxy environment variables.

    Attributes:
        tickets: the ticket endpoints (``Tickets``): ``client.tickets.get("1295")``.

    Use it as ``async with IntercomClient() as client: ...`` or close it with ``await
    client.aclose()``. Once closed it refuses work with ``ClientClosedError`` (a
    ``RuntimeError``), as it does on an event loop other than the one it was first used in.
    ``with_options`` makes views of it with their own retry policy and timeout.
    """

    tickets: Tickets

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
        hooks: Hooks | None = None,
        tracer_provider: object | None = None,
        meter_provider: object | None = None,
        default_headers: Mapping[str, str] | None = None,
        app_info: AppInfo | None = None,
        proxy: str | URL | None = None,
        proxy_auth: aiohttp.BasicAuth | None = None,
        trust_env: bool = True,
    ) -> None:
        # From here on the token is only ever held wrapped, so that a traceback that shows this
        # frame's local variables (as error trackers do) shows no token.
        wrapped = Token(os.environ.get(TOKEN_ENV) if token is None else token)
        del token
        wrapped.checked()
        self._base_url = choose_base_url(region, base_url, allow_insecure_http=allow_insecure_http)
        self._version = validate_version(version)
        policy = retry_policy(retry) if retry is not None else RetryPolicy()
        attempt_timeout = client_timeout(timeout)
        positive_int(max_response_bytes, "max_response_bytes")
        positive_int(max_connections, "max_connections")
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            kind = type(session).__name__
            raise TypeError(f"session must be an aiohttp.ClientSession, not {kind}")
        extra = {} if default_headers is None else check_headers(default_headers, "default_headers")
        agent = user_agent(USER_AGENT, app_info)
        headers = build_headers(wrapped.checked(), self._version, extra=extra, user_agent=agent)
        proxy_setting = resolve_proxy(
            self._base_url,
            proxy,
            proxy_auth,
            trust_env=trust_env,
            own_session=session is None,
            allow_insecure_http=allow_insecure_http,
        )
        observer = build_observer(
            base_url=self._base_url,
            hooks=hooks,
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
        )
        self._session = Session(session, max_connections=max_connections, timeout=attempt_timeout)
        pacer = Pacer(max_requests_per_second)  # each call brings its policy's waits
        self._pacer = pacer  # the client's own; a shared quota paces through it too
        self._quota: Quota = pacer
        if quota is not None:
            if not callable(getattr(quota, "_quota_for", None)):
                raise TypeError(f"quota must be a RedisQuota, not {type(quota).__name__}")
            look_timeout = attempt_timeout.total or DEFAULT_TIMEOUT
            self._quota = quota._quota_for(pacer, wrapped.digest(), look_timeout=look_timeout)
            if isinstance(self._quota, SharedQuota):
                self._quota.observer = observer
        self._transport = Transport(
            self._session,
            self._quota,
            observer,
            base_url=self._base_url,
            headers=headers,
            lenient=is_lenient(self._version),
            max_response_bytes=max_response_bytes,
            proxy=proxy_setting,
            retry=policy,
            timeout=attempt_timeout,
        )
        self._parent: IntercomClient | None = None
        _bind_resources(self)

    def with_options(
        self,
        *,
        retry: RetryPolicy | None = None,
        timeout: float | aiohttp.ClientTimeout | None = None,
        headers: Mapping[str, str] | None = None,
        max_attempts: int | None = None,
    ) -> IntercomClient:
        """A view of this client with its own retry policy, attempt timeout and headers.

        The view shares everything else with this client: the session and its connection
        pool, the rate-limit pacing (or shared quota), ``stats`` and the lifecycle. Making one
        costs next to nothing, so make one per kind of call: a short, bounded one for a web
        handler, a patient one for a bulk job. This client is left unchanged.

        ```python
        quick = client.with_options(retry=RetryPolicy(max_attempts=2, max_delay=3), timeout=2)
        ticket = await quick.tickets.get("1295")  # done, or an error, within about 3 seconds
        ```

        Closing this client closes its views. A view owns nothing: its ``aclose()`` (and the
        end of ``async with`` on it) leaves the client and the other views open.

        Args:
            retry: the view's ``RetryPolicy`` (its ``max_delay`` bounds each call through the
                view); ``None`` keeps this client's.
            timeout: the view's attempt timeout, as for ``IntercomClient``; ``None`` keeps
                this client's.
            headers: headers added to (or replacing) this client's for the view's requests,
                checked as ``default_headers`` are.
            max_attempts: the view's ``max_attempts`` (of ``retry`` if given, else of this
                client's policy): ``with_options(max_attempts=1)`` turns retries off.
        """
        policy = self.retry if retry is None else retry_policy(retry)
        if max_attempts is not None:
            policy = attrs.evolve(policy, max_attempts=max_attempts)
        own = self.timeout if timeout is None else client_timeout(timeout)
        extra = None if headers is None else check_headers(headers, "headers")
        view = object.__new__(IntercomClient)
        view._base_url = self._base_url
        view._version = self._version
        view._session = self._session
        view._pacer = self._pacer
        view._quota = self._quota
        view._parent = self._parent or self
        view._transport = self._transport.view(policy, own, extra)
        _bind_resources(view)
        return view

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
        return self._transport.retry

    @property
    def timeout(self) -> aiohttp.ClientTimeout:
        """The timeout of one attempt."""
        return self._transport.timeout

    @property
    def closed(self) -> bool:
        """Whether the client (or, for a view, the client it came from) was closed."""
        return self._session.closed

    @property
    def rate_limit(self) -> RateLimit | None:
        """The app's rate limit as the last answer reported it (``None`` before any)."""
        return self._quota.last

    @property
    def stats(self) -> ClientStats:
        """Counters of what this client (with its views) did so far."""
        return ClientStats(
            requests=self._session.requests,
            retries=self._session.retries,
            rate_limited=self._session.rate_limited,
            rate_limit_waits=self._quota.waits,
        )

    async def __aenter__(self) -> IntercomClient:
        self._session.ensure()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client and, if it made its own, its session. Safe to call twice, and
        from any event loop: the closing runs on the client's own loop (where it runs, in
        another thread, or in a worker thread while it is idle), and when that loop has ended
        already, the sockets of its connections are closed all the same.

        Requests waiting for the rate-limit window or a retry fail at once with
        ``ClientClosedError``; so do those in flight on the client's own session. Its views
        are closed with it. On a view (``with_options``) this does nothing: close the client
        the view came from.
        """
        if self._parent is not None or self._session.closed:
            return
        self._session.closed = True
        await self._session.on_own_loop(self._close)

    async def _close(self) -> None:
        self._transport.sleeper.close()
        try:
            await self._quota.aclose()
        finally:
            await self._session.close()

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("an IntercomClient cannot be pickled (it holds the access token)")

    def __repr__(self) -> str:
        # getattr: a traceback may show a client whose __init__ raised half-way.
        session = getattr(self, "_session", None)
        state = "closed" if session is not None and session.closed else "open"
        if getattr(self, "_parent", None) is not None:
            state += " view"
        where = getattr(self, "_base_url", "(not set up)")
        return f"<IntercomClient {where} version={getattr(self, '_version', '?')} {state}>"

    # -- requests ----------------------------------------------------------------------------

    async def request(
        self, method: str, path: str, into: type[T], *, json: Any = None, route: str | None = None
    ) -> T:
        """The ``into`` model a 2xx answer to ``method path`` carries (the ``Requester``
        interface resources are bound to): the ``Transport``'s request path, then ``decode``
        (lenient for ``Preview`` and ``Unstable``). ``route`` is the path's template
        (``/tickets/{id}``), which names the call in traces, metrics and logs; ``None``: the
        path has no variable part, and names itself."""
        return await self._transport.request(method, path, into, json=json, route=route)

    async def request_raw(
        self, method: str, path: str, into: type[T], *, json: Any = None, route: str | None = None
    ) -> RawResponse[T]:
        """``request``, as a ``RawResponse[into]``: the answer as it came, what the call took,
        and ``parse()`` for the model."""
        return await self._transport.request_raw(method, path, into, json=json, route=route)


def _bind_resources(requester: IntercomClient) -> None:
    """Bind the resources (``client.tickets``...) to a client or view: the one place they are
    made, so that a view's resources use the view's policy. A new resource is added here."""
    requester.tickets = Tickets(requester)
