"""``client.tickets.search(query)``: ``POST /tickets/search`` as an async iterator of tickets.

The search resource of the "Adding an endpoint" walk-through (docs/index.md): the body comes
from ``_search_request`` (sans I/O), each page is one ``request("POST", SEARCH_PATH,
TicketList, json=body)`` of the requester, so it is paced, retried and bounded by
``max_delay`` like ``tickets.get``; the next page's request sends the cursor of the page
before. A retry resends the same request (the same cursor), so a 429 or a dropped connection
in the middle of a pagination loses no page and repeats no ticket.

Nothing is fetched ahead: a page is asked for when the tickets of the one before are used up,
so that leaving the loop sends nothing more, and a slow consumer (``get_many``) sets the pace.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from ._errors import ResponseDecodeError
from ._models import Ticket, TicketList
from ._query import Query, check_query
from ._raw import RawResponse
from ._requester import Requester
from ._search_request import SEARCH_PATH, search_body
from ._versions import SEARCH_SINCE, require_version

__all__ = ["TicketSearch"]

_ENDPOINT = "tickets.search (POST /tickets/search)"


class TicketSearch(AsyncIterator[Ticket]):
    """The tickets a search matches, page after page: what ``client.tickets.search`` returns.

    Iterate it with ``async for`` to get each ``Ticket`` (once, like a generator), or call
    ``pages()`` for the pages themselves (``TicketList``, with ``total_count``). The query,
    ``per_page`` and the client's version were checked when it was made; nothing is sent until
    the first ticket (or page) is asked for, and each page only when the one before is used
    up. Close it early with ``aclose()`` or ``contextlib.aclosing``; breaking out of the loop
    sends nothing more either way.

    A server that sends a cursor it sent before in the same pagination would have the search go
    round for ever: that is a ``ResponseDecodeError`` (``json_path``
    ``$.pages.next.starting_after``) once the tickets of the page that carried it are out.
    """

    def __init__(self, requester: Requester, query: Query, *, per_page: int) -> None:
        require_version(requester.version, SEARCH_SINCE, _ENDPOINT)
        body = search_body(query, per_page=per_page)  # raises for a bad query or per_page
        self._requester = requester
        self._query: dict[str, Any] = body["query"]  # checked and copied: yours may change
        self._per_page = per_page
        self._tickets: AsyncGenerator[Ticket, None] | None = None

    @property
    def query(self) -> dict[str, Any]:
        """The query as it is sent (checked, datetimes as Unix seconds): a copy."""
        return check_query(self._query)

    @property
    def per_page(self) -> int:
        """How many tickets each page asks for."""
        return self._per_page

    def __repr__(self) -> str:
        return f"<TicketSearch per_page={self._per_page} of {self._requester!r}>"

    async def pages(self) -> AsyncGenerator[TicketList, None]:
        """The pages of the search, from the first (a new pagination at each call).

        Each page is one request through the client's request path (pacing, retries,
        ``max_delay``); the next is asked for only when you ask for it.

        Raises:
            ApiError: for any answer but a 2xx, after the retries (a 400 for a query Intercom
                refuses).
            TransportError: when no answer came, after the retries.
            ResponseDecodeError: when an answer is not a page of tickets, or gives a cursor
                already seen in this pagination.
            ClientClosedError: when the client is closed.
        """
        async for _raw, page in self._paginate(raw=False):
            yield page

    async def raw_pages(self) -> AsyncGenerator[RawResponse[TicketList], None]:
        """``pages()``, each page as a ``RawResponse[TicketList]`` (status, headers,
        ``request_id``, attempts, elapsed; ``parse()`` gives the page): what
        ``client.tickets.with_raw_response.search`` iterates."""
        async for raw, _page in self._paginate(raw=True):
            assert raw is not None
            yield raw

    async def _paginate(
        self, *, raw: bool
    ) -> AsyncGenerator[tuple[RawResponse[TicketList] | None, TicketList], None]:
        cursor: str | None = None
        seen: set[str] = set()
        requester = self._requester
        while True:
            body = search_body(self._query, per_page=self._per_page, starting_after=cursor)
            if raw:
                answer = await requester.request_raw(
                    "POST", SEARCH_PATH, TicketList, json=body, route=SEARCH_PATH
                )
                page = answer.parse()
                yield answer, page
            else:
                page = await requester.request(
                    "POST", SEARCH_PATH, TicketList, json=body, route=SEARCH_PATH
                )
                yield None, page
            cursor = page.next_cursor
            if cursor is None:
                return
            if not cursor or cursor in seen:
                said = "an empty cursor" if not cursor else "a cursor it sent before"
                raise ResponseDecodeError(
                    f"POST {SEARCH_PATH}: the server gave {said} as the next page's "
                    "starting_after; stopping rather than asking for the same pages again",
                    status=200,
                    json_path="$.pages.next.starting_after",
                    expected="a ticket.list",
                )
            seen.add(cursor)

    async def ids(self) -> AsyncGenerator[str, None]:
        """The ids of the tickets found, as ``get_many`` takes them:
        ``client.tickets.get_many(client.tickets.search(q).ids())``. It iterates this search
        (``async for``), so use one or the other.

        Raises:
            ResponseDecodeError: for a result with no ``id``; else as ``pages()``.
        """
        async for ticket in self:
            if not ticket.id:
                raise ResponseDecodeError(
                    f"POST {SEARCH_PATH}: a ticket of the results has no id",
                    status=200,
                    json_path="$.tickets[].id",
                    expected="a ticket.list",
                )
            yield ticket.id

    async def _each_ticket(self) -> AsyncGenerator[Ticket, None]:
        async with contextlib.aclosing(self.pages()) as pages:
            async for page in pages:
                for ticket in page:
                    yield ticket

    async def __anext__(self) -> Ticket:
        if self._tickets is None:
            self._tickets = self._each_ticket()
        return await self._tickets.__anext__()

    async def aclose(self) -> None:
        """Stop the search: nothing more is sent, and the iteration ends."""
        if self._tickets is None:
            self._tickets = self._each_ticket()  # so that a later __anext__ ends at once
        await self._tickets.aclose()
