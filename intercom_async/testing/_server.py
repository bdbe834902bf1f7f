"""``FakeIntercom``: an aiohttp server that answers like Intercom, on the routes of ``_routes``."""

from __future__ import annotations

import asyncio
import hmac
import math
import time
import uuid
from collections import deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from functools import partial
from types import TracebackType
from typing import Any

from aiohttp import web

from .._client import IntercomClient
from .._protocol import validate_version
from ._faults import Fault, FaultPlan
from ._log import BODY_KEPT, Entry, RecordedRequest, Redactor
from ._responses import (
    JSON,
    RATE_LIMIT_MESSAGE,
    default_error,
    error_response,
    html_response,
    reset_connection,
    truncated_response,
)
from ._routes import Call, Route, Routes
from ._store import TicketStore
from ._thread import LoopThread
from ._window import RateWindow

__all__ = ["FakeIntercom"]

_HOST = "127.0.0.1"
# How long close() lets answers in progress finish before cancelling them.
_SHUTDOWN_TIMEOUT = 1.0
# How many of the latest requests ``requests`` keeps, by default.
REQUEST_LOG_SIZE = 10_000


def _valid_version(value: str) -> bool:
    """Whether Intercom would take ``value`` as ``Intercom-Version``: the client's own rule."""
    try:
        validate_version(value)
    except ValueError:
        return False
    return True


def _check_token(token: object) -> str:
    # The messages never quote the token.
    if not isinstance(token, str):
        raise TypeError(f"token must be a str, not {type(token).__name__}")
    if not token.strip() or token != token.strip() or any(c in token for c in "\r\n\x00"):
        raise ValueError("token must be non-empty, without surrounding spaces or line breaks")
    return token


class FakeIntercom:
    """A fake Intercom API on ``127.0.0.1``, for your tests.

    It serves ``GET /tickets/{id}`` and ``POST /tickets/search`` (API 2.10 and later) with
    Bearer auth, ``Intercom-Version`` checks, Intercom's ``error.list`` errors and
    ``X-RateLimit-*`` headers on every answer; it can misbehave on cue (``inject``,
    ``inject_route``, ``random_faults``) and it records every request (``requests``). Without an
    ``Intercom-Version`` header it answers as version 2.9 does.

    Args:
        token: the one access token it accepts.
        tickets: a number ``N`` to serve generated tickets ``"1"`` to ``"N"``
            (``generate_ticket(id, parts=parts, seed=seed)``), or an iterable of ticket dicts,
            each with an ``"id"``.
        seed: the seed of the generated tickets.
        parts: ticket parts per generated ticket.
        rate_limit: requests allowed per window; ``None`` enforces no limit (the headers then
            report a limit of 10000 that is never used up).
        window: the rate-limit window in seconds. Windows follow one another from the
            server's start.
        clock_offset: seconds the fake's clock runs ahead of this machine's (negative: behind).
            Its ``Date`` and ``X-RateLimit-Reset`` headers are on its own clock, as a real
            server's are on its; use it to test how a client copes with clocks that disagree.
        request_log_size: how many of the latest requests ``requests`` keeps (10,000 by
            default), so that a long run does not grow; ``None`` keeps every one.

    Memory stays bounded however long it runs: besides the request log, it keeps the bodies of
    the generated tickets most recently asked for (8 MB of them), and makes the others again.

    Use it as ``async with FakeIntercom(tickets=10) as fake: ...``, or ``await fake.start()``
    and ``await fake.close()``; or mount ``fake.app`` in a server of your own. From sync code
    (FastAPI's ``TestClient``), use ``with FakeIntercom(tickets=10) as fake: ...``: the fake
    then runs on an event loop in a thread of its own, and answers whatever this thread does.
    """

    def __init__(
        self,
        *,
        token: str = "test-token",  # noqa: S107 - a fake's token, not a secret
        tickets: int | Iterable[Mapping[str, Any]] = 0,
        seed: int | str = 0,
        parts: int = 20,
        rate_limit: int | None = None,
        window: float = 10.0,
        clock_offset: float = 0.0,
        request_log_size: int | None = REQUEST_LOG_SIZE,
    ) -> None:
        self._token = _check_token(token)
        self._redactor = Redactor(token)
        if isinstance(parts, bool) or not isinstance(parts, int) or parts < 0:
            raise ValueError(f"parts must be an int >= 0, not {parts!r}")
        if rate_limit is not None and (
            isinstance(rate_limit, bool) or not isinstance(rate_limit, int) or rate_limit < 1
        ):
            raise ValueError(f"rate_limit must be an int >= 1 or None, not {rate_limit!r}")
        if (
            isinstance(window, bool)
            or not isinstance(window, (int, float))
            or not (window > 0 and math.isfinite(window))
        ):
            raise ValueError(f"window must be a positive number of seconds, not {window!r}")
        if (
            isinstance(clock_offset, bool)
            or not isinstance(clock_offset, (int, float))
            or not math.isfinite(clock_offset)
        ):
            raise ValueError(
                f"clock_offset must be a finite number of seconds, not {clock_offset!r}"
            )
        if request_log_size is not None and (
            isinstance(request_log_size, bool)
            or not isinstance(request_log_size, int)
            or request_log_size < 1
        ):
            raise ValueError(
                f"request_log_size must be an int >= 1 or None, not {request_log_size!r}"
            )
        if isinstance(tickets, bool):
            raise TypeError("tickets must be an int or an iterable of ticket dicts, not a bool")
        if isinstance(tickets, int) and tickets < 0:
            raise ValueError(f"tickets must be >= 0, not {tickets}")
        generated = tickets if isinstance(tickets, int) else 0
        self._store = TicketStore(generated=generated, parts=parts, seed=seed)
        if not isinstance(tickets, int):
            for ticket in tickets:
                self.add_ticket(ticket)
        offset = float(clock_offset)
        self._window = RateWindow(rate_limit, window, clock=lambda: time.time() + offset)
        self._faults = FaultPlan()
        self._log: deque[Entry] = deque(maxlen=request_log_size)
        self._received = 0
        self._routes = Routes(self._store).table()
        self._app = web.Application()
        for route in self._routes:
            self._app.router.add_route(route.method, route.path, partial(self._handle, route))
        self._app.router.add_route("*", "/{path:.*}", partial(self._handle, None))
        self._app.on_startup.append(self._on_startup)
        self._runner: web.AppRunner | None = None
        self._thread: LoopThread | None = None  # when run by ``with``
        self._base_url: str | None = None
        self._closed = False

    # -- set-up --------------------------------------------------------------------------

    def add_ticket(self, data: Mapping[str, Any]) -> str:
        """Serve ``data`` (a ticket as JSON-ready data) at ``/tickets/{data["id"]}``.

        A ticket with the same id is replaced. ``data`` is serialised now: changing it later
        changes nothing. It is sent as it is whatever ``Intercom-Version`` asks for, and search
        reads its fields (``updated_at``, ``ticket_state``...) from it. Returns the id as a str.
        """
        if not isinstance(data, Mapping):
            raise TypeError(f"a ticket must be a mapping, not {type(data).__name__}")
        ticket_id = data.get("id")
        if isinstance(ticket_id, bool) or not isinstance(ticket_id, (str, int)):
            raise ValueError('a ticket needs an "id" (a str or an int)')
        key = str(ticket_id)
        if not key:
            raise ValueError('a ticket needs a non-empty "id"')
        self._store.add(key, data)
        return key

    def inject(self, ticket_id: str, fault: Fault, times: int | None = 1) -> None:
        """Answer the next ``times`` requests for ``ticket_id`` with ``fault`` (``None``: all).

        Faults injected for one id queue up: the second starts when the first is used up.
        """
        self._faults.inject(str(ticket_id), fault, times)

    def inject_route(self, route: str, fault: Fault, times: int | None = 1) -> None:
        """Answer the next ``times`` requests to ``route`` with ``fault`` (``None``: all).

        ``route`` is ``"METHOD /path"`` as the fake's table has it: ``"POST /tickets/search"``,
        or ``"GET /tickets/{id}"`` for every ticket id (a fault injected for one id comes
        first). Faults injected for one route queue up.
        """
        names = [known.name for known in self._routes]
        if route not in names:
            raise ValueError(f"unknown route {route!r}: the fake serves {', '.join(names)}")
        self._faults.inject(("route", route), fault, times)

    def random_faults(
        self, probability: float, *, seed: int = 0, kinds: Sequence[Fault] | None = None
    ) -> None:
        """Give each request (any path) a fault with ``probability``; ``0`` turns this off.

        The fault is drawn from ``kinds`` (by default 500, 503, a 502 HTML page, a reset and
        a truncated body). The same seed and the same order of requests give the same faults.
        A fault scripted with ``inject`` wins over the random one.
        """
        self._faults.set_random(probability, seed, kinds)

    # -- what happened -------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests received so far, oldest first (a new list of frozen copies): every
        one, or the latest ``request_log_size`` of them."""
        return [entry.freeze() for entry in self._log]

    def clear_requests(self) -> None:
        """Forget the requests received so far."""
        self._log.clear()

    # -- running -------------------------------------------------------------------------

    @property
    def app(self) -> web.Application:
        """The ``aiohttp.web.Application``, to run yourself if you prefer."""
        return self._app

    @property
    def base_url(self) -> str:
        """``"http://127.0.0.1:<port>"`` once started."""
        if self._base_url is None:
            raise RuntimeError("FakeIntercom is not started: await fake.start() first")
        return self._base_url

    async def start(self) -> None:
        """Listen on ``127.0.0.1`` on a free port. A fake starts once."""
        if self._runner is not None or self._closed:
            raise RuntimeError("a FakeIntercom starts once; make a new one")
        runner = web.AppRunner(
            self._app,
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=_SHUTDOWN_TIMEOUT,
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, _HOST, 0).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._base_url = f"http://{_HOST}:{runner.addresses[0][1]}"

    async def close(self) -> None:
        """Stop listening and drop open connections. Safe to call twice."""
        if self._thread is not None:
            raise RuntimeError(
                "this FakeIntercom runs on a thread of its own (with FakeIntercom(...)); "
                "it stops at the end of the with block"
            )
        self._closed = True
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeIntercom:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __enter__(self) -> FakeIntercom:
        """Start the fake on an event loop in a thread of its own (for sync code)."""
        if self._runner is not None or self._closed:
            raise RuntimeError("a FakeIntercom starts once; make a new one")
        thread = LoopThread(name="FakeIntercom")
        try:
            thread.run(self.start())
        except BaseException:
            thread.stop()
            raise
        self._thread = thread
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        try:
            thread.run(self.close())
        finally:
            thread.stop()

    def client(self, **kwargs: Any) -> IntercomClient:
        """An ``IntercomClient`` for this fake: its ``base_url`` and token, then ``kwargs``."""
        options: dict[str, Any] = {"token": self._token, "base_url": self.base_url}
        options.update(kwargs)
        return IntercomClient(**options)

    def __repr__(self) -> str:
        where = self._base_url or ("closed" if self._closed else "not started")
        return f"<FakeIntercom {where} requests={self._received}>"

    # -- answering -----------------------------------------------------------------------

    async def _on_startup(self, app: web.Application) -> None:
        self._window.restart()

    async def _handle(self, route: Route | None, request: web.Request) -> web.StreamResponse:
        """Every request, whatever its route: log, fault, window, auth, version, then the
        route's handler (none: 404)."""
        ticket_id = request.match_info.get("id") if route is not None else None
        entry = Entry(
            method=request.method,
            path=self._redactor.text(request.rel_url.raw_path),
            ticket_id=None if ticket_id is None else self._redactor.text(ticket_id),
            headers=self._redactor.headers(request.headers),
            time=time.time(),
            route=None if route is None else route.name,
        )
        self._log.append(entry)
        self._received += 1
        body = await request.read() if request.can_read_body else b""
        entry.body = self._redactor.text(body.decode("utf-8", "replace"))[:BODY_KEPT]
        keys: tuple[Hashable, ...] = () if route is None else route.fault_keys(ticket_id)
        request_id = str(uuid.uuid4())
        call = Call(ticket_id, request.headers.get("Intercom-Version"), body, {})
        fault = self._faults.next(keys)
        if fault is not None and fault.kind != "slow":
            headers = self._window.peek()
            headers["X-Request-Id"] = request_id
            return await self._fault_answer(request, fault, route, call, headers, entry)
        if fault is not None:
            await asyncio.sleep(fault.seconds)
        allowed, headers = self._window.admit()
        entry.window = self._window.index
        headers["X-Request-Id"] = request_id
        response = self._answer(request, route, call, allowed, headers)
        entry.status = response.status
        return response

    async def _fault_answer(
        self,
        request: web.Request,
        fault: Fault,
        route: Route | None,
        call: Call,
        headers: dict[str, str],
        entry: Entry,
    ) -> web.StreamResponse:
        if fault.kind == "reset":
            return reset_connection(request)
        if fault.kind == "truncate":
            return await truncated_response(request, self._cut(route, call), headers)
        assert fault.code is not None
        entry.status = fault.code
        if fault.kind == "html":
            return html_response(fault.code, headers)
        if fault.body is not None:
            headers["Content-Type"] = JSON
            return web.Response(status=fault.code, body=fault.body, headers=headers)
        return error_response(fault.code, *default_error(fault.code), headers)

    def _cut(self, route: Route | None, call: Call) -> bytes:
        """The body a truncated answer sends half of: what the route would have answered."""
        route = route or self._routes[0]
        return route.cut(call)

    def _answer(
        self,
        request: web.Request,
        route: Route | None,
        call: Call,
        allowed: bool,
        headers: dict[str, str],
    ) -> web.Response:
        if not allowed:
            return error_response(429, "rate_limit_exceeded", RATE_LIMIT_MESSAGE, headers)
        if not self._authorized(request.headers.get("Authorization")):
            return error_response(401, "unauthorized", "Access Token Invalid", headers)
        version = call.version
        if version is not None and not _valid_version(version):
            message = f"Intercom-Version '{version}' is not a valid API version"
            return error_response(400, "intercom_version_invalid", message, headers)
        if route is None:
            return error_response(404, "not_found", "Resource Not Found", headers)
        return route.handler(Call(call.ticket_id, version, call.body, headers))

    def _authorized(self, value: str | None) -> bool:
        if value is None:
            return False
        scheme, _, credentials = value.strip().partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            credentials.strip().encode("utf-8", "surrogateescape"), self._token.encode()
        )
