"""The fake's routes, in one table: method, path, and a small handler for each.

Every route gets the same treatment from ``FakeIntercom`` before its handler runs (the request
log, faults, the rate-limit window, auth, the version check): a handler only answers a request
that got through. To add an endpoint, add a handler to ``Routes`` and a line to ``table``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import attrs
from aiohttp import web

from ._data import encode, generate_ticket
from ._facts import SEARCH_SHAPE, shape_of
from ._query import QueryError
from ._responses import JSON, error_response
from ._search import answer_search, read_search
from ._store import TicketStore

__all__ = ["Call", "Route", "Routes"]

VERSION_TOO_OLD = "Requested resource is not available in current API version."


@attrs.frozen
class Call:
    """A request that got through the checks, as a handler sees it.

    Attributes:
        ticket_id: the decoded ``{id}`` of the path, if it has one.
        version: the ``Intercom-Version`` sent (valid), or ``None``.
        body: the request body.
        headers: the answer's headers so far (rate limit, ``X-Request-Id``), to answer with.
    """

    ticket_id: str | None
    version: str | None
    body: bytes
    headers: dict[str, str]


Handler = Callable[[Call], web.Response]


@attrs.frozen
class Route:
    """One endpoint: ``method`` and ``path`` (aiohttp's pattern), answered by ``handler``.

    ``cut`` gives the body that ``Fault.truncate()`` sends half of.
    """

    method: str
    path: str
    handler: Handler
    cut: Callable[[Call], bytes]

    @property
    def name(self) -> str:
        """``"POST /tickets/search"``: how ``FakeIntercom.inject_route`` names it."""
        return f"{self.method} {self.path}"

    def fault_keys(self, ticket_id: str | None) -> tuple[Hashable, ...]:
        """Where faults scripted for a request to this route are queued: its ticket id's queue
        (``inject``), then the route's own (``inject_route``)."""
        by_route = ("route", self.name)
        return (by_route,) if ticket_id is None else (ticket_id, by_route)


def _json(body: bytes, headers: dict[str, str]) -> web.Response:
    headers["Content-Type"] = JSON
    return web.Response(status=200, body=body, headers=headers)


def _placeholder() -> bytes:
    return encode(generate_ticket("0"))


class Routes:
    """The handlers of the fake's endpoints, over its tickets."""

    def __init__(self, store: TicketStore) -> None:
        self._store = store

    def table(self) -> tuple[Route, ...]:
        """Every route the fake serves."""
        return (
            Route("GET", "/tickets/{id}", self.get_ticket, self.ticket_body),
            Route("POST", "/tickets/search", self.search_tickets, self.search_body),
        )

    # -- GET /tickets/{id} -----------------------------------------------------------------

    def ticket_body(self, call: Call) -> bytes:
        found = None if call.ticket_id is None else self._store.body(call.ticket_id)
        return found or _placeholder()

    def get_ticket(self, call: Call) -> web.Response:
        assert call.ticket_id is not None  # the path has an {id}
        body = self._store.body(call.ticket_id, shape_of(call.version))
        if body is None:
            return error_response(404, "not_found", "Ticket Not Found", call.headers)
        return _json(body, call.headers)

    # -- POST /tickets/search --------------------------------------------------------------

    def search_body(self, call: Call) -> bytes:
        try:
            return answer_search(self._store, read_search(call.body), shape_of(call.version))
        except QueryError:
            return _placeholder()

    def search_tickets(self, call: Call) -> web.Response:
        if shape_of(call.version) < SEARCH_SHAPE:  # no header: the fake's default, 2.9
            return error_response(400, "intercom_version_invalid", VERSION_TOO_OLD, call.headers)
        try:
            request = read_search(call.body)
        except QueryError as exc:
            return error_response(400, "parameter_invalid", str(exc), call.headers)
        return _json(answer_search(self._store, request, shape_of(call.version)), call.headers)
