"""``Requester``: the small interface every resource (``client.tickets``...) is bound to.

A resource turns its arguments into a method, a path and maybe a JSON body, and asks its
requester for the model the answer carries; it knows nothing else of the client. The
``IntercomClient`` and each of its views (``with_options``) are requesters: each request goes
through the client's one request path (pacing, pool, retries under the view's policy, the call's
``max_delay``), then one JSON decoding step and one ``structure(data, into)`` step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from ._raw import RawResponse

__all__ = ["Requester"]

T = TypeVar("T")


class Requester(Protocol):
    """What a resource needs of the client it belongs to."""

    @property
    def version(self) -> str:
        """The ``Intercom-Version`` every request sends (an endpoint may need a newer one)."""

    async def request(
        self, method: str, path: str, into: type[T], *, json: Any = None, route: str | None = None
    ) -> T:
        """Send ``method path`` (with ``json`` as its JSON body, if not ``None``) under the
        client's pacing and retry policy, and return the ``into`` model the 2xx answer carries.

        ``path`` is already percent-encoded (``"/tickets/1295"``). ``route`` is its template
        (``"/tickets/{id}"``): what names the call in traces, metrics and logs, so that no id
        gets there; a resource whose path holds an id must pass it (``None``: the path is its
        own route, as ``/tickets/search``). Raises what the client's request path raises:
        ``ApiError`` (by status), ``TransportError``, ``ResponseDecodeError``,
        ``ClientClosedError``.
        """

    async def request_raw(
        self, method: str, path: str, into: type[T], *, json: Any = None, route: str | None = None
    ) -> RawResponse[T]:
        """``request``, as a ``RawResponse[into]`` (status, headers, request id, attempts,
        elapsed; ``parse()`` gives the model): what a resource's ``with_raw_response`` calls."""
