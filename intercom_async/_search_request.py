"""The request of ``POST /tickets/search``, sans I/O: its path and its body, page by page.

A search is paged by a cursor: the first request has no ``starting_after``, and each next one
sends the ``pages.next.starting_after`` of the answer before, until an answer has no ``next``.
"""

from __future__ import annotations

from typing import Any

from ._query import Query, check_query

__all__ = ["DEFAULT_PER_PAGE", "MAX_PER_PAGE", "SEARCH_PATH", "search_body"]

SEARCH_PATH = "/tickets/search"
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 150  # the most Intercom documents for its search endpoints


def search_body(
    query: Query, *, per_page: int = DEFAULT_PER_PAGE, starting_after: str | None = None
) -> dict[str, Any]:
    """The JSON body of one page's request: ``{"query": ..., "pagination": {"per_page": n,
    "starting_after": cursor}}``, ``starting_after`` left out for the first page.

    ``query`` is checked (``check_query``), and its datetimes become Unix seconds.

    Raises:
        InvalidQueryError: (a ``ValueError``) for a query Intercom would refuse.
        TypeError: ``per_page`` is not an int, or ``starting_after`` not a str.
        ValueError: ``per_page`` is not from 1 to 150, or ``starting_after`` is empty.
    """
    if isinstance(per_page, bool) or not isinstance(per_page, int):
        raise TypeError(f"per_page must be an int, not {type(per_page).__name__}")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ValueError(f"per_page must be from 1 to {MAX_PER_PAGE}, not {per_page}")
    pagination: dict[str, Any] = {"per_page": per_page}
    if starting_after is not None:
        if not isinstance(starting_after, str):
            raise TypeError(
                f"starting_after must be a str (a page's cursor), not "
                f"{type(starting_after).__name__}"
            )
        if not starting_after:
            raise ValueError("starting_after must be a page's cursor, not an empty string")
        pagination["starting_after"] = starting_after
    return {"query": check_query(query), "pagination": pagination}
