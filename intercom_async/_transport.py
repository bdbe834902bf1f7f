"""``Transport``: the request path every endpoint goes through, for a client or one of its views.

``request(method, path, into, json=...)`` is ``_request`` (the call's observation) around
``_retried`` (the attempts, inside one ``asyncio.timeout`` of the policy's ``max_delay``, under
the retry policy), then ``decode`` (``_protocol.py``: the JSON, then ``structure(data, into)``).
Each attempt (``_attempt``, ``_send``) takes a turn from the quota, waits for a slot of the
connection pool, sends (a JSON body as JSON, the same bytes on a retry), parses the rate-limit
headers once for the quota, reads the body (capped, ``_read_body``) into a ``Response``, or
raises the ``ApiError`` of a non-2xx for the retry policy to judge.

Every ``await`` on that path may be cancelled (a caller's deadline, a ``break`` out of
``get_many``): the quota is then told what became of the request and the pool slot is given
back, so the client is left as it was. The observer hears of the call in the caller's task.

A ``Transport`` holds what a request needs: shared by a client and its views, the ``Session``,
the quota, the pool slots, the sleeper, the observer, the base URL and ``max_response_bytes``;
each view's own, its retry policy, attempt timeout, headers and aiohttp options (``view``).
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import time
from collections.abc import Mapping
from functools import partial
from typing import Any, TypeVar

import aiohttp
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
from ._limits import LimitHeaders
from ._observe import NO_CALL, Call, Observer
from ._pacer import CLOSED_MESSAGE
from ._protocol import Response, add_headers, api_error, decode
from ._quota import Quota
from ._raw import RawResponse, current_call_info
from ._retry import RetryPolicy, retry_after_failure
from ._session import Session
from ._sleep import Sleeper

__all__ = ["Transport"]

T = TypeVar("T")


class Transport:
    """The request path of a client (or a view): what a request needs, and the request."""

    __slots__ = (
        "base_url",
        "headers",
        "json_headers",
        "lenient",
        "max_response_bytes",
        "observer",
        "per_request",
        "proxy",
        "quota",
        "retry",
        "session",
        "sleeper",
        "slots",
        "timeout",
    )

    def __init__(
        self,
        session: Session,
        quota: Quota,
        observer: Observer,
        *,
        base_url: str,
        headers: dict[str, str],
        lenient: bool,
        max_response_bytes: int,
        proxy: tuple[URL | None, aiohttp.BasicAuth | None],
        retry: RetryPolicy,
        timeout: aiohttp.ClientTimeout,
    ) -> None:
        self.session = session
        self.quota = quota
        self.observer = observer
        self.sleeper = Sleeper(CLOSED_MESSAGE)
        # A request takes a connection slot before its timeout starts, so that waiting for a
        # free connection never counts as the attempt's time: as many slots as the pool has
        # connections to Intercom (ours: max_connections; yours: its connector's limits).
        limit = session.pool_limit()
        self.slots = asyncio.Semaphore(limit) if limit else None
        self.base_url = base_url
        self.lenient = lenient  # decode leniently (Preview, Unstable)
        self.max_response_bytes = max_response_bytes
        self.proxy = proxy
        self.headers = headers
        self.json_headers = add_headers(headers, {"Content-Type": "application/json"})
        self.retry = retry
        self.timeout = timeout
        self.per_request = self._request_options()

    def view(
        self,
        retry: RetryPolicy,
        timeout: aiohttp.ClientTimeout,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Transport:
        """A view's transport: what this one shares (``Session``, quota, pool slots, sleeper,
        observer, settings), each named here, with ``retry``, ``timeout`` and its headers
        (``extra_headers`` set over these) its own."""
        view = object.__new__(Transport)
        view.session = self.session
        view.quota = self.quota
        view.observer = self.observer
        view.sleeper = self.sleeper
        view.slots = self.slots
        view.base_url = self.base_url
        view.lenient = self.lenient
        view.max_response_bytes = self.max_response_bytes
        view.proxy = self.proxy
        view.headers, view.json_headers = self.headers, self.json_headers
        if extra_headers is not None:
            view.headers = add_headers(self.headers, extra_headers)
            view.json_headers = add_headers(self.json_headers, extra_headers)
        view.retry = retry
        view.timeout = timeout
        view.per_request = view._request_options()
        return view

    def _request_options(self) -> dict[str, Any]:
        """What each request passes to aiohttp besides the URL and headers: the attempt's
        timeout, unless it is the one built into our own session, and the proxy."""
        options: dict[str, Any] = {}
        if not self.session.owns_session:
            options = {"timeout": self.timeout, "raise_for_status": False}
        elif self.timeout is not self.session.timeout:
            options = {"timeout": self.timeout}
        proxy, proxy_auth = self.proxy
        if proxy is not None:
            options["proxy"] = proxy
            if proxy_auth is not None:
                options["proxy_auth"] = proxy_auth
        return options

    async def request(
        self, method: str, path: str, into: type[T], *, json: Any = None, route: str | None = None
    ) -> T:
        """The ``into`` model a 2xx answer to ``method path`` carries: ``_request``, then
        ``decode``."""
        response = await self._request(method, path, json=json, route=route)
        return decode(response, into, lenient=self.lenient)

    async def request_raw(
        self, method: str, path: str, into: type[T], *, json: Any = None, route: str | None = None
    ) -> RawResponse[T]:
        """``request``, as a ``RawResponse[into]``: the answer as it came, what the call took,
        and ``parse()`` for the model."""
        call = _Call()
        response = await self._request(method, path, json=json, route=route, call=call)
        return RawResponse(
            response,
            partial(_decode, into=into, lenient=self.lenient),
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
            call.observed = self.observer.call(method, route or path, path)
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
        policy = self.retry
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
        await self.sleeper.sleep(seconds)

    def _count_retry(self, call: _Call, error: IntercomError, wait: float) -> None:
        self.session.retries += 1
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
        session = self.session.ensure()
        call.stage = _FOR_TURN
        observed = call.observed
        turn = await self.quota.acquire(self.retry.max_delay, wait=self.retry.wait, call=observed)
        # From here until the pacer hears what became of this request, every way out settles it.
        stage = _WAITING
        try:
            if self.slots is not None:
                call.stage = _FOR_CONNECTION
                await self.slots.acquire()
            try:
                session = self.session.ensure()  # the waits may have outlasted the client
                if observed is not NO_CALL:
                    observed.turn_taken("shared" if turn.shared is not None else "local")
                    await observed.attempt_started()
                    session = self.session.ensure()  # and so may a hook
                call.attempts += 1
                call.sending = True
                call.request_id = None
                stage = _SENT
                call.stage = _FOR_ANSWER
                self.session.requests += 1
                async with session.request(
                    method,
                    URL(self.base_url + path, encoded=True),
                    headers=self.headers if body is None else self.json_headers,
                    data=body,
                    allow_redirects=False,
                    **self.per_request,
                ) as answer:
                    stage = _ANSWERED
                    status, headers = answer.status, answer.headers
                    call.request_id = headers.get("X-Request-Id")
                    limits = LimitHeaders.parse(status, headers, time.time())  # once per answer
                    self.quota.answered(turn, limits)
                    if status == 429:
                        self.session.rate_limited += 1
                    content = await self._read_body(answer)
                    reason = answer.reason or ""
            finally:
                if self.slots is not None:
                    self.slots.release()
        except (TimeoutError, aiohttp.ClientError) as exc:
            if self.session.closed:
                raise ClientClosedError(CLOSED_MESSAGE) from exc
            raise TransportError(
                _describe(exc),
                method=method,
                path=path,
                retryable=_retryable(exc),
                timed_out=isinstance(exc, TimeoutError),
            ) from exc
        except RuntimeError as exc:  # aiohttp's "Session is closed", "Connector is closed"
            if self.session.closed or session.closed:
                raise ClientClosedError(CLOSED_MESSAGE) from exc
            raise
        finally:
            if stage is not _ANSWERED:
                self.quota.unanswered(turn, sent=stage is _SENT)
        response = Response(
            status, headers, content, reason=reason, method=method, path=path, limits=limits
        )
        if not 200 <= status < 300:
            raise api_error(response)  # inside the attempt: the retry policy sees it
        return response

    async def _read_body(self, response: aiohttp.ClientResponse) -> bytes:
        cap = self.max_response_bytes
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
            f"response body larger than max_response_bytes ({self.max_response_bytes} bytes); "
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
