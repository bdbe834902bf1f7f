"""``client.tickets``: the ticket endpoints of a client."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any

from ._bulk import TicketId, TicketIds, TicketResult, fetch_many
from ._models import Ticket
from ._protocol import ticket_path
from ._requester import Requester

__all__ = ["Tickets"]


class Tickets:
    """The tickets API of one ``IntercomClient`` (reach it as ``client.tickets``)."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def __repr__(self) -> str:
        return f"<Tickets of {self._requester!r}>"

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
        return await self._requester.request("GET", ticket_path(ticket_id), Ticket)

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
