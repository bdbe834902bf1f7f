"""``client.tickets``: the ticket endpoints of a client."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any

from ._bulk import TicketId, TicketIds, TicketResult, fetch_many
from ._models import Ticket, TicketList
from ._protocol import ticket_path
from ._query import Query
from ._raw import RawResponse
from ._requester import Requester
from ._search import TicketSearch
from ._search_request import DEFAULT_PER_PAGE

__all__ = ["Tickets", "TicketsWithRawResponse"]

TICKET_ROUTE = "/tickets/{id}"


class Tickets:
    """The tickets API of one ``IntercomClient`` (reach it as ``client.tickets``)."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def __repr__(self) -> str:
        return f"<Tickets of {self._requester!r}>"

    @property
    def with_raw_response(self) -> TicketsWithRawResponse:
        """The same endpoints, each giving a ``RawResponse`` (status, headers, request id,
        attempts, elapsed, ``parse()``): ``await client.tickets.with_raw_response.get(id)``."""
        return TicketsWithRawResponse(self._requester)

    async def get(self, ticket_id: TicketId) -> Ticket:
        """Fetch one ticket: ``GET /tickets/{ticket_id}``.

        ``ticket_id`` is Intercom's ``id`` of the ticket (not the ``ticket_id`` the Inbox
        shows), a non-empty str or an int. Transient failures are retried by the client's
        ``RetryPolicy``.

        Raises:
            InvalidTicketIdError: (a ``ValueError``) for an empty id or one that is not a str
                or an int.
            ApiError: for any answer but a 2xx, as its subclass for the status
                (``NotFoundError``, ``AuthenticationError``...), after the retries.
            TransportError: when no answer came, after the retries.
            ResponseDecodeError: when the answer is not a ticket.
            ClientClosedError: when the client is closed.
        """
        path = ticket_path(ticket_id)
        return await self._requester.request("GET", path, Ticket, route=TICKET_ROUTE)

    def search(self, query: Query, *, per_page: int = DEFAULT_PER_PAGE) -> TicketSearch:
        """The tickets that match ``query``: ``POST /tickets/search`` (API 2.10 and later).

        ``query`` is Intercom's dict (``{"field": "updated_at", "operator": ">", "value":
        1700000000}``, or ``AND``/``OR`` groups of those), or one built with ``where``,
        ``all_of``, ``any_of`` and ``updated_since``. ``per_page`` (1 to 150) is how many
        tickets each request asks for.

        Returns a ``TicketSearch``: ``async for ticket in client.tickets.search(q)`` follows the
        pages (``pages.next.starting_after``) as you go, each page paced, retried and bounded
        by ``max_delay`` like ``get``; ``.pages()`` gives the pages, with ``total_count``.
        Nothing is sent until you iterate, and nothing more once you stop. A search result may
        lack fields a ``get`` gives (the parts): fetch it again when you need them.

        Raises (now, before anything is sent):
            UnsupportedVersionError: (a ``ValueError``) when the client's version is older than
                2.10; it names the version to use.
            InvalidQueryError: (a ``ValueError``) for a query Intercom would refuse, naming the
                JSON path of what is wrong.
            TypeError, ValueError: for a ``per_page`` that is not an int from 1 to 150.
        """
        return TicketSearch(self._requester, query, per_page=per_page)

    def get_many(
        self,
        ids: TicketIds,
        *,
        concurrency: int = 32,
        ordered: bool = False,
        on_result: Callable[[TicketResult], Any] | None = None,
    ) -> AsyncGenerator[TicketResult, None]:
        """Fetch many tickets concurrently, yielding one ``TicketResult`` per id.

        ``ids`` is any iterable or async iterable of ids, read lazily (a generator of a
        million ids is fine); an id given twice is fetched twice. At most ``concurrency``
        requests are in flight, and memory does not grow with the number of ids.

        A failure is a result, not an exception: ``result.error`` holds the ``IntercomError``
        (an invalid id included) and the other ids go on. Results come in completion order, or
        in input order with ``ordered=True``. ``on_result`` is called with each result as it
        completes (for a progress bar). Every request goes through the client's rate-limit
        pacing and retry policy.

        Leaving the loop early cancels what is in flight; to have that happen at once rather
        than when the generator is collected, wrap it in ``contextlib.aclosing``.

        Raises:
            ValueError: for a bad ``concurrency`` (from the iteration, as all of these).
            TypeError: for ``ids`` that are not iterable.
            ClientClosedError: when the client is closed.
        """
        return fetch_many(
            self.get,
            ids,
            concurrency=concurrency,
            ordered=ordered,
            on_result=on_result,
            result=TicketResult,
        )

    async def get_all(
        self,
        ids: TicketIds,
        *,
        concurrency: int = 32,
        on_result: Callable[[TicketResult], Any] | None = None,
    ) -> list[TicketResult]:
        """``get_many`` gathered into a list in input order: for a few hundred ids at most."""
        return [
            result
            async for result in self.get_many(
                ids, concurrency=concurrency, ordered=True, on_result=on_result
            )
        ]


class TicketsWithRawResponse:
    """``client.tickets.with_raw_response``: the ticket endpoints, each giving a
    ``RawResponse`` of its model instead of the model."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    async def get(self, ticket_id: TicketId) -> RawResponse[Ticket]:
        """``client.tickets.get``, as a ``RawResponse[Ticket]``."""
        path = ticket_path(ticket_id)
        return await self._requester.request_raw("GET", path, Ticket, route=TICKET_ROUTE)

    def search(
        self, query: Query, *, per_page: int = DEFAULT_PER_PAGE
    ) -> AsyncGenerator[RawResponse[TicketList], None]:
        """``client.tickets.search(...).pages()``, each page as a ``RawResponse[TicketList]``
        (``request_id``, attempts, elapsed; ``parse()`` gives the page). The query, ``per_page``
        and the client's version are checked now, before anything is sent.

        ```python
        async for raw in client.tickets.with_raw_response.search(query):
            page = raw.parse()
            print(raw.request_id, raw.attempts, len(page.tickets))
        ```
        """
        return TicketSearch(self._requester, query, per_page=per_page).raw_pages()
