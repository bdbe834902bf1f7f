"""The fake's request log: what came in and what was answered, with the token taken out."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

__all__ = ["BODY_KEPT", "REDACTED", "Entry", "RecordedRequest", "Redactor"]

REDACTED = "<redacted>"
BODY_KEPT = 64 * 1024  # characters of a request body the log keeps
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization"})


@attrs.frozen
class RecordedRequest:
    """One request the fake received.

    Attributes:
        method: the HTTP method (``"GET"``).
        path: the path as sent, still percent-encoded, without the query string
            (``"/tickets/..%2Fadmins"``).
        ticket_id: the decoded ``{id}`` of a ``/tickets/{id}`` path, else ``None``.
        headers: the request headers; ``Authorization`` reads ``"Bearer <redacted>"`` and the
            access token appears nowhere.
        time: ``time.time()`` when the request arrived.
        status: the status answered, or ``None`` when the connection was dropped or the body
            cut short (``Fault.reset()``, ``Fault.truncate()``, a client that gave up).
        route: the route that took it (``"GET /tickets/{id}"``, ``"POST /tickets/search"``),
            or ``None`` for a path the fake does not serve.
        body: the request body as text (the first 64 KiB; ``""`` for none), redacted.
        window: which of the fake's rate-limit windows counted it (0 for the first after the
            fake started), or ``None`` when it was not counted (a fault answered it).
    """

    method: str
    path: str
    ticket_id: str | None
    headers: dict[str, str]
    time: float
    status: int | None
    route: str | None = None
    body: str = ""
    window: int | None = None


@attrs.define
class Entry:
    """The mutable record kept while a request is answered; ``freeze()`` it to hand it out."""

    method: str
    path: str
    ticket_id: str | None
    headers: dict[str, str]
    time: float
    status: int | None = None
    route: str | None = None
    body: str = ""
    window: int | None = None

    def freeze(self) -> RecordedRequest:
        """A frozen copy."""
        return RecordedRequest(
            self.method,
            self.path,
            self.ticket_id,
            dict(self.headers),
            self.time,
            self.status,
            self.route,
            self.body,
            self.window,
        )


class Redactor:
    """Takes one access token out of whatever is about to be stored."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "<Redactor>"

    def text(self, value: str) -> str:
        """``value`` with every occurrence of the token replaced by ``<redacted>``."""
        return value.replace(self._token, REDACTED) if self._token in value else value

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """A plain dict of ``headers`` (repeated names joined with ``", "``), redacted.

        ``Authorization`` (and ``Proxy-Authorization``) keep their scheme only:
        ``"Bearer <redacted>"``.
        """
        result: dict[str, str] = {}
        for name, value in headers.items():
            if name.lower() in _SECRET_HEADERS:
                scheme, _, credentials = value.strip().partition(" ")
                value = f"{scheme} {REDACTED}" if credentials and scheme.isalpha() else REDACTED
            else:
                value = self.text(value)
            name = self.text(name)
            result[name] = f"{result[name]}, {value}" if name in result else value
        return result
