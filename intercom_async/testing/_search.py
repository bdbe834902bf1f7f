"""``POST /tickets/search`` on the fake's tickets: the request read, the page cut, the answer.

Results come in a fixed order, the order of the ticket ids (``"1"``, ``"2"``, ... ``"10"``,
then ids that are not numbers, by text), and a cursor (``pages.next.starting_after``) is the
last id served, opaque to the client. So a page starts just after the last ticket of the page
before, whatever changed in between: a ticket changed between two pages (``add_ticket``) is
served at most once, and never makes another be served twice or missed. A ticket is matched
against the query with its data at the time its page is served.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping

import attrs

from ._facts import Shape
from ._query import QueryError, compile_query
from ._store import TicketStore, order_key

__all__ = ["DEFAULT_PER_PAGE", "MAX_PER_PAGE", "SearchRequest", "answer_search", "read_search"]

DEFAULT_PER_PAGE = 20  # as the description of /tickets/search says
MAX_PER_PAGE = 150  # the maximum Intercom documents for its search endpoints


@attrs.frozen
class SearchRequest:
    """A search request that passed the checks."""

    query: object
    per_page: int
    after: tuple[int, int, str] | None  # the order key of the last ticket served
    page: int  # the number of the page asked for, from 1


def _cursor(ticket_id: str, page: int) -> str:
    raw = json.dumps([page, ticket_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_cursor(text: str) -> tuple[str, int]:
    try:
        page, ticket_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise QueryError("pagination.starting_after is not a cursor this search gave") from None
    if isinstance(page, bool) or not isinstance(page, int) or page < 2:
        raise QueryError("pagination.starting_after is not a cursor this search gave")
    if not isinstance(ticket_id, str):
        raise QueryError("pagination.starting_after is not a cursor this search gave")
    return ticket_id, page


def read_search(body: bytes) -> SearchRequest:
    """The search request in ``body``, or ``QueryError`` (the fake answers it with a 400)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise QueryError("the body is not JSON") from None
    if not isinstance(data, Mapping):
        raise QueryError("the body must be a JSON object with a query")
    if "query" not in data:
        raise QueryError("query is a required parameter")
    compile_query(data["query"])  # checked now: refused before anything is served
    paging = data.get("pagination")
    if paging is None:
        paging = {}
    if not isinstance(paging, Mapping):
        raise QueryError("pagination must be an object")
    per_page = paging.get("per_page", DEFAULT_PER_PAGE)
    if per_page is None:
        per_page = DEFAULT_PER_PAGE
    if isinstance(per_page, bool) or not isinstance(per_page, int):
        raise QueryError("pagination.per_page must be an integer")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise QueryError(f"pagination.per_page must be between 1 and {MAX_PER_PAGE}")
    starting_after = paging.get("starting_after")
    if starting_after is None:
        return SearchRequest(data["query"], per_page, None, 1)
    if not isinstance(starting_after, str):
        raise QueryError("pagination.starting_after must be a string")
    ticket_id, page = _read_cursor(starting_after)
    return SearchRequest(data["query"], per_page, order_key(ticket_id), page)


def answer_search(store: TicketStore, request: SearchRequest, shape: Shape) -> bytes:
    """The ``ticket.list`` body for ``request``, its tickets in ``shape``."""
    test = compile_query(request.query)
    total = 0
    if request.after is not None:  # count what came before the cursor, without serving it
        for ticket_id in store.ids_after(None):
            if order_key(ticket_id) > request.after:
                break
            total += test(store.facts(ticket_id))
    page: list[str] = []
    more = False
    for ticket_id in store.ids_after(request.after):
        if test(store.facts(ticket_id)):
            total += 1
            if len(page) < request.per_page:
                page.append(ticket_id)
            else:
                more = True
    pages: dict[str, object] = {
        "type": "pages",
        "page": request.page,
        "per_page": request.per_page,
        "total_pages": math.ceil(total / request.per_page),
    }
    if more:
        cursor = _cursor(page[-1], request.page + 1)
        pages["next"] = {"per_page": request.per_page, "starting_after": cursor}
    head = json.dumps({"type": "ticket.list", "total_count": total, "pages": pages})
    bodies = b",".join(store.body(ticket_id, shape) or b"null" for ticket_id in page)
    return head[:-1].encode() + b',"tickets":[' + bodies + b"]}"
