"""``IntercomClient``: the aiohttp session manager every request goes through.

A client is open from construction until ``aclose()`` (or the end of its ``async with``), then
closed for good; it owns one ``aiohttp.ClientSession`` (one connection pool), made on first use,
unless you hand it yours. Every endpoint goes through one request path (``request``): each
attempt waits for the rate-limit pacer, waits for a connection of the pool, sends, parses the
rate-limit headers once, reads the body (capped) into a ``Response``; then the sans-I/O core
decodes the JSON and structures the model. Every ``await`` on that path may be cancelled (a
caller's deadline, a ``break`` out of ``get_many``): the pacer is then told what became of the
request, and the pool slot is given back, so the client is left as it was. ``aclose()`` ends
every wait at once with ``ClientClosedError``. A call, its retries included, runs inside one
``asyncio.timeout`` of the policy's ``max_delay``.

``with_options`` makes a view, built explicitly: a client object with its own policy and timeout
over the same ``Session`` (``_session.py``: the aiohttp session, counters and lifecycle), pacer
and pool slots; its resources are bound by ``_bind_resources``, as the client's are.
"""

from __future__ import annotations

import asyncio
import hashlib
import json as jsonlib
import math
import os
import time
from collections.abc import Mapping
from functools import partial
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
import attrs
from aiohttp.http_exceptions import ContentEncodingError
from yarl import URL

from ._errors import (
    ApiError,
    ClientClosedError,
    IntercomError,
    ResponseDecodeError,
    TransportError,
    shorten,
)
from ._headers import AppInfo, check_headers, user_agent
from ._hooks import Hooks
from ._limits import LimitHeaders, RateLimit
from ._observe import NO_CALL, Call, build_observer
from ._pacer import CLOSED_MESSAGE, Pacer
from ._protocol import (
    USER_AGENT,
    Response,
    add_headers,
    api_error,
    build_headers,
    decode,
    resolve_base_url,
    validate_version,
)
from ._proxy import resolve_proxy
from ._quota import Quota, QuotaSource
from ._raw import RawResponse, current_call_info
from ._retry import RetryPolicy, retry_after_failure
from ._session import Session
from ._shared import SharedQuota
from ._sleep import Sleeper
from ._tickets import Tickets
from ._versions import is_lenient

__all__ = ["ClientStats", "IntercomClient"]

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
TOKEN_ENV = "INTERCOM_ACCESS_TOKEN"  # noqa: S105 - a variable name, not a secret
BASE_URL_ENV = "INTERCOM_BASE_URL"


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


def _base_url(region: str, base_url: str | None, *, allow_insecure_http: bool) -> str:
    """``resolve_base_url``, with ``base_url`` from ``INTERCOM_BASE_URL`` when not given; a bad
    value there is a ``ValueError`` that names the variable."""
    from_env = os.environ.get(BASE_URL_ENV, "").strip() if base_url is None else ""
    if not from_env:
        return resolve_base_url(region, base_url, allow_insecure_http=allow_insecure_http)
    resolve_base_url(region, None)  # a bad region, in its own words
    try:
        return resolve_base_url(region, from_env, allow_insecure_http=allow_insecure_http)
    except ValueError as exc:
        raise ValueError(f"{BASE_URL_ENV}: {exc}") from None


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
        wrapped = _Token(os.environ.get(TOKEN_ENV) if token is None else token)
        del token
        wrapped.checked()
        self._base_url = _base_url(region, base_url, allow_insecure_http=allow_insecure_http)
        self._version = validate_version(version)
        self._retry = _retry_policy(retry) if retry is not None else RetryPolicy()
        self._timeout = _client_timeout(timeout)
        if not isinstance(max_response_bytes, int) or max_response_bytes < 1:
            raise ValueError("max_response_bytes must be a positive int")
        self._max_response_bytes = max_response_bytes
        if not isinstance(max_connections, int) or max_connections < 1:
            raise ValueError("max_connections must be a positive int")
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            kind = type(session).__name__
            raise TypeError(f"session must be an aiohttp.ClientSession, not {kind}")
        extra = {} if default_headers is None else check_headers(default_headers, "default_headers")
        agent = user_agent(USER_AGENT, app_info)
        self._headers = build_headers(
            wrapped.checked(), self._version, extra=extra, user_agent=agent
        )
        self._json_headers = add_headers(self._headers, {"Content-Type": "application/json"})
        self._proxy = resolve_proxy(
            self._base_url,
            proxy,
            proxy_auth,
            trust_env=trust_env,
            own_session=session is None,
            allow_insecure_http=allow_insecure_http,
        )
        self._observer = build_observer(
            base_url=self._base_url,
            hooks=hooks,
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
        )
        self._session = Session(session, max_connections=max_connections, timeout=self._timeout)
        # A request takes a connection slot before its timeout starts, so that waiting for a
        # free connection never counts as the attempt's time: as many slots as the pool has
        # connections to Intercom (ours: max_connections; yours: its connector's limits).
        limit = self._session.pool_limit()
        self._slots = asyncio.Semaphore(limit) if limit else None
        self._per_request = self._request_options()
        pacer = Pacer(max_requests_per_second)  # each call brings its policy's waits
        self._pacer = pacer  # the client's own; a shared quota paces through it too
        self._quota: Quota = pacer
        if quota is not None:
            if not callable(getattr(quota, "_quota_for", None)):
                raise TypeError(f"quota must be a RedisQuota, not {type(quota).__name__}")
            look_timeout = self._timeout.total or DEFAULT_TIMEOUT
            self._quota = quota._quota_for(pacer, wrapped.digest(), look_timeout=look_timeout)
            if isinstance(self._quota, SharedQuota):
                self._quota.observer = self._observer
        self._sleeper = Sleeper(CLOSED_MESSAGE)
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
        policy = self._retry if retry is None else _retry_policy(retry)
        if max_attempts is not None:
            policy = attrs.evolve(policy, max_attempts=max_attempts)
        view = self._view(policy, self._timeout if timeout is None else _client_timeout(timeout))
        if headers is not None:
            extra = check_headers(headers, "headers")
            view._headers = add_headers(self._headers, extra)
            view._json_headers = add_headers(self._json_headers, extra)
        return view

    def _view(self, retry: RetryPolicy, timeout: aiohttp.ClientTimeout) -> IntercomClient:
        """A view: what the client shares (settings, ``Session``, quota, pacer, pool slots,
        sleeper), each named here, with ``retry`` and ``timeout`` its own; resources bound to
        it by ``_bind_resources``, as for the client."""
        view = object.__new__(IntercomClient)
        view._base_url = self._base_url
        view._version = self._version
        view._max_response_bytes = self._max_response_bytes
        view._headers = self._headers
        view._json_headers = self._json_headers
        view._proxy = self._proxy
        view._observer = self._observer
        view._session = self._session
        view._slots = self._slots
        view._pacer = self._pacer
        view._quota = self._quota
        view._sleeper = self._sleeper
        view._parent = self._parent or self
        view._retry = retry
        view._timeout = timeout
        view._per_request = view._request_options()
        _bind_resources(view)
        return view

    def _request_options(self) -> dict[str, Any]:
        """What each request passes to aiohttp besides the URL and headers: the attempt's
        timeout, unless it is the one built into our own session, and the proxy."""
        options: dict[str, Any] = {}
        if not self._session.owns_session:
            options = {"timeout": self._timeout, "raise_for_status": False}
        elif self._timeout is not self._session.timeout:
            options = {"timeout": self._timeout}
        proxy, proxy_auth = self._proxy
        if proxy is not None:
            options["proxy"] = proxy
            if proxy_auth is not None:
                options["proxy_auth"] = proxy_auth
        return options

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
    def timeout(self) -> aiohttp.ClientTimeout:
        """The timeout of one attempt."""
        return self._timeout

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
        self._sleeper.close()
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
        interface resources are bound to): ``_request``, then ``decode`` (lenient for
        ``Preview`` and ``Unstable``). ``route`` is the path's template (``/tickets/{id}``),
        which names the call in traces, metrics and logs; ``None``: the path has no variable
        part, and names itself."""
        response = await self._request(method, path, json=json, route=route)
        return decode(response, into, lenient=is_lenient(self._version))

    async def request_raw(
        self, method: str, path: str, into: type[T], *, json: Any = None, route: str | None = None
    ) -> RawResponse[T]:
        """``request``, as a ``RawResponse[into]``: the answer as it came, what the call took,
        and ``parse()`` for the model."""
        call = _Call()
        response = await self._request(method, path, json=json, route=route, call=call)
        lenient = is_lenient(self._version)
        return RawResponse(
            response,
            partial(_decode, into=into, lenient=lenient),
            attempts=call.attempts,
            elapsed=call.elapsed,
        )

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        route: str | None = None,
        call: _Call | None = None,
    ) -> Response:
        """``_retried``, observed: the call's observation (hooks, OpenTelemetry, the request
        log) begins and ends here, and its figures go to ``call`` and to the ``CallInfo`` a
        bulk fetch records, whether it succeeds or fails."""
        if call is None:
            call = _Call()
        info = current_call_info()
        started = time.perf_counter()
        try:
            call.observed = self._observer.call(method, route or path, path)
            response = await self._retried(method, path, json, call)
        except BaseException as error:
            status = error.status if isinstance(error, ApiError) else None
            call.observed.ended(status=status, error=error)
            raise
        finally:
            call.elapsed = time.perf_counter() - started
            if info is not None:
                info.request_id, info.attempts = call.request_id, call.attempts
                info.elapsed = call.elapsed
        call.observed.ended(status=response.status)
        return response

    async def _retried(self, method: str, path: str, json: Any, call: _Call) -> Response:
        """Send ``method path`` under the retry policy, all of it within ``max_delay``; the
        2xx ``Response`` (a non-2xx is raised as its ``ApiError``, after the retries).

        ``json`` is sent as the JSON body, serialized once, so that a retry resends the same
        bytes."""
        body = None if json is None else jsonlib.dumps(json, separators=(",", ":")).encode()
        policy = self._retry
        started = time.monotonic()
        deadline = asyncio.timeout(policy.max_delay)
        try:
            async with deadline:
                try:
                    return await self._attempt(method, path, body, call)
                except IntercomError as error:
                    return await retry_after_failure(
                        policy,
                        error,
                        started,
                        partial(self._attempt, method, path, body, call),
                        what=f"{method} {shorten(path)}",
                        on_retry=partial(self._count_retry, call),
                        sleep=partial(self._back_off, call),
                    )
        except TimeoutError as exc:
            if not deadline.expired():
                raise
            raise TransportError(
                f"gave up {call.stage} after the retry policy's max_delay of {policy.max_delay:g}s",
                method=method,
                path=path,
                timed_out=True,
            ) from exc

    async def _back_off(self, call: _Call, seconds: float) -> None:
        call.stage = _BETWEEN_ATTEMPTS
        error, call.retry_error = call.retry_error, None
        if error is not None:
            await call.observed.retrying(error, seconds)  # before the backoff
        await self._sleeper.sleep(seconds)

    def _count_retry(self, call: _Call, error: IntercomError, wait: float) -> None:
        self._session.retries += 1
        call.retry_error = error

    async def _attempt(self, method: str, path: str, body: bytes | None, call: _Call) -> Response:
        """``_send``, with the end of each attempt sent told to the call's observation."""
        try:
            response = await self._send(method, path, body, call)
        except IntercomError as error:
            if call.sending:
                call.sending = False
                status = error.status if isinstance(error, ApiError) else None
                await call.observed.attempt_ended(
                    status=status, error=error, request_id=call.request_id
                )
            raise
        if call.sending:
            call.sending = False
            await call.observed.attempt_ended(status=response.status, request_id=call.request_id)
        return response

    async def _send(self, method: str, path: str, body: bytes | None, call: _Call) -> Response:
        # A closed client fails at once, not after its turn.
        session = self._session.ensure()
        call.stage = _FOR_TURN
        observed = call.observed
        turn = await self._quota.acquire(
            self._retry.max_delay, wait=self._retry.wait, call=observed
        )
        # From here until the pacer hears what became of this request, every way out settles it.
        stage = _WAITING
        try:
            if self._slots is not None:
                call.stage = _FOR_CONNECTION
                await self._slots.acquire()
            try:
                session = self._session.ensure()  # the waits may have outlasted the client
                if observed is not NO_CALL:
                    observed.turn_taken("shared" if turn.shared is not None else "local")
                    await observed.attempt_started()
                    session = self._session.ensure()  # and so may a hook
                call.attempts += 1
                call.sending = True
                call.request_id = None
                stage = _SENT
                call.stage = _FOR_ANSWER
                self._session.requests += 1
                async with session.request(
                    method,
                    URL(self._base_url + path, encoded=True),
                    headers=self._headers if body is None else self._json_headers,
                    data=body,
                    allow_redirects=False,
                    **self._per_request,
                ) as answer:
                    stage = _ANSWERED
                    status, headers = answer.status, answer.headers
                    call.request_id = headers.get("X-Request-Id")
                    limits = LimitHeaders.parse(status, headers, time.time())  # once per answer
                    self._quota.answered(turn, limits)
                    if status == 429:
                        self._session.rate_limited += 1
                    content = await self._read_body(answer)
                    reason = answer.reason or ""
            finally:
                if self._slots is not None:
                    self._slots.release()
        except (TimeoutError, aiohttp.ClientError) as exc:
            if self._session.closed:
                raise ClientClosedError(CLOSED_MESSAGE) from exc
            raise TransportError(
                _describe(exc),
                method=method,
                path=path,
                retryable=_retryable(exc),
                timed_out=isinstance(exc, TimeoutError),
            ) from exc
        except RuntimeError as exc:  # aiohttp's "Session is closed", "Connector is closed"
            if self._session.closed or session.closed:
                raise ClientClosedError(CLOSED_MESSAGE) from exc
            raise
        finally:
            if stage is not _ANSWERED:
                self._quota.unanswered(turn, sent=stage is _SENT)
        response = Response(
            status, headers, content, reason=reason, method=method, path=path, limits=limits
        )
        if not 200 <= status < 300:
            raise api_error(response)  # inside the attempt: the retry policy sees it
        return response

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


class _Call:
    """Where one call (its attempts and the waits between them) stands: what it was waiting
    for when its ``max_delay`` ran out; its observation, and its figures so far."""

    __slots__ = (
        "attempts",
        "elapsed",
        "observed",
        "request_id",
        "retry_error",
        "sending",
        "stage",
    )

    def __init__(self) -> None:
        self.stage = _FOR_TURN
        self.observed: Call = NO_CALL
        self.attempts = 0  # attempts sent
        self.sending = False  # an attempt was sent, and its end is not yet told
        self.request_id: str | None = None  # of the last answer
        self.retry_error: IntercomError | None = None  # the policy will retry after it
        self.elapsed = 0.0


def _decode(response: Response, *, into: type[T], lenient: bool) -> T:
    return decode(response, into, lenient=lenient)


_FOR_TURN = "waiting for its turn under the rate limit"
_FOR_CONNECTION = "waiting for a free connection"
_FOR_ANSWER = "waiting for the answer"
_BETWEEN_ATTEMPTS = "between attempts"

# Where a request stands when it fails: the pacer hears whether it may have reached Intercom.
_WAITING = "waiting"
_SENT = "sent"
_ANSWERED = "answered"


def _bind_resources(requester: IntercomClient) -> None:
    """Bind the resources (``client.tickets``...) to a client or view: the one place they are
    made, so that a view's resources use the view's policy. A new resource is added here."""
    requester.tickets = Tickets(requester)


def _retry_policy(retry: object) -> RetryPolicy:
    if not isinstance(retry, RetryPolicy):
        raise TypeError(f"retry must be a RetryPolicy, not {type(retry).__name__}")
    return retry


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
