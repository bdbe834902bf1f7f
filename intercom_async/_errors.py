"""The exceptions intercom-async raises, all under one root::

    IntercomError                 Intercom or the network failed, or answered no
    ├── InvalidTicketIdError      an id that cannot be sent (empty, too long, not a str or int)
    ├── InvalidQueryError         a search query Intercom would refuse (names its JSON path)
    ├── UnsupportedVersionError   an endpoint the client's Intercom-Version lacks (search < 2.10)
    ├── TransportError            no answer: connection refused or reset, a timeout, a cut body
    ├── ResponseDecodeError       a 2xx answer that is not a ticket, or a page (names the JSON path)
    └── ApiError                  any other answer: non-2xx, redirects included
        ├── AuthenticationError   401
        ├── PermissionDeniedError 403
        ├── NotFoundError         404
        ├── RateLimitError        429
        └── ServerError           5xx

    RuntimeError
    └── ClientClosedError         a programming or lifecycle mistake: the client was closed
                                  (it cannot be reopened), or used from another event loop

``ClientClosedError`` is outside the ``IntercomError`` tree on purpose: a web handler that maps
``IntercomError`` to 502 ("upstream failed") should not map a closed client to it too.

``str()`` of each says what happened in one line and never holds the access token: the only
request detail kept is the method and path, and the path holds the ticket id, not the token.
``to_dict()`` gives the same as JSON-ready data, for an API's error body or a log record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from multidict import CIMultiDict

from ._models import ErrorDetail

__all__ = [
    "ApiError",
    "AuthenticationError",
    "ClientClosedError",
    "IntercomError",
    "InvalidQueryError",
    "InvalidTicketIdError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseDecodeError",
    "ServerError",
    "TransportError",
    "UnsupportedVersionError",
]


# ``str()`` of an error is at most this long, whatever the answer or the id: a hostile or broken
# server (or a 100 kB id) must not turn one failure into a megabyte of log line.
MESSAGE_LIMIT = 299
# A path (and so an id) quoted in a message keeps this many characters; the ``path`` attribute
# keeps it whole.
QUOTE_LIMIT = 64
# A reason phrase keeps this many: room for the pacer's own ("... nothing was sent").
REASON_LIMIT = 200


def one_line(text: str) -> str:
    """``text`` with its line breaks and runs of white space folded into single spaces."""
    return " ".join(text.split())


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text``, or its first ``limit`` characters and ``...`` when it is longer."""
    return text if len(text) <= limit else f"{text[:limit]}..."


def _fit(text: str, tail: str = "") -> str:
    """``text`` on one line, cut short so that with ``tail`` after it it fits the limit."""
    room = MESSAGE_LIMIT - len(tail)
    text = one_line(text[: 2 * MESSAGE_LIMIT] if len(text) > 2 * MESSAGE_LIMIT else text)
    return (text if len(text) <= room else f"{text[: room - 3]}...") + tail


class IntercomError(Exception):
    """Root of the exceptions that say Intercom, or the network to it, failed or answered no."""

    def to_dict(self) -> dict[str, object]:
        """This error as JSON-ready data: ``error`` (the class name), ``status`` (the HTTP
        status, or ``None`` when no answer came), ``code`` (Intercom's first error code, or
        ``None``), ``message`` (``str()`` of the error) and ``request_id`` (or ``None``).

        Never the access token (nor any header): safe to return from an endpoint or to log.
        """
        return {
            "error": type(self).__name__,
            "status": getattr(self, "status", None),
            "code": getattr(self, "code", None),
            "message": str(self),
            "request_id": getattr(self, "request_id", None),
        }

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only state survives pickling (to another process, a task queue...).
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(
    cls: type[IntercomError], args: tuple[object, ...], state: dict[str, object]
) -> IntercomError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ClientClosedError(RuntimeError):
    """The client was closed (``aclose()`` or leaving ``async with``) and refuses new work, or
    it was used from an event loop other than the one it was first used in.

    A ``RuntimeError``, not an ``IntercomError``: it is a mistake in the program's use of the
    client, not a failure of Intercom (see the tree above).
    """


class InvalidTicketIdError(IntercomError, ValueError):
    """A ticket id that cannot be sent: empty, blank, longer than 255 characters, or neither a
    str nor an int. Nothing was sent."""

    def __init__(self, message: str) -> None:
        super().__init__(_fit(message))


class InvalidQueryError(IntercomError, ValueError):
    """A search query Intercom would refuse: a wrong shape, key, field, operator or value, or
    more nesting or filters than Intercom allows. Nothing was sent.

    ``str()`` starts with the JSON path of what is wrong (``query.value[2].operator: ...``).

    Attributes:
        path (str): the JSON path of what is wrong, from ``query``.
    """

    def __init__(self, message: str, *, path: str = "query") -> None:
        super().__init__(_fit(f"{shorten(path, 2 * QUOTE_LIMIT)}: {message}"))
        self.path = path


class UnsupportedVersionError(IntercomError, ValueError):
    """An endpoint that the client's ``Intercom-Version`` does not have (search before 2.10).
    Nothing was sent; the message names the version to ask for.

    Attributes:
        version (str): the version the client sends.
        since (str): the first version that has the endpoint.
    """

    def __init__(self, message: str, *, version: str, since: str) -> None:
        super().__init__(_fit(message))
        self.version = version
        self.since = since


class TransportError(IntercomError):
    """No usable answer came back: the connection failed, was cut, or timed out.

    The aiohttp (or asyncio) exception is the ``__cause__``. Retried by the retry policy, unless
    it is one that would fail the same way every time (``retryable`` is then ``False``): a
    certificate or TLS failure, a URL aiohttp cannot send to, a body in a ``Content-Encoding``
    it cannot decode.

    Attributes:
        method (str): the request's HTTP method.
        path (str): the request's path (``"/tickets/1295"``).
        retryable (bool): whether trying again could help.
        timed_out (bool): whether it failed for want of time: an attempt's ``timeout``, or the
            ``RetryPolicy.max_delay`` of the whole call (a 504 to a web app's own callers,
            where other transport failures are a 502).
    """

    def __init__(
        self,
        message: str,
        *,
        method: str = "GET",
        path: str = "",
        retryable: bool = True,
        timed_out: bool = False,
    ) -> None:
        super().__init__(_fit(message))
        self.method = method
        self.path = path
        self.retryable = retryable
        self.timed_out = timed_out

    def __str__(self) -> str:
        where = f"{self.method} {shorten(self.path)}: " if self.path else ""
        return _fit(f"{where}{self.args[0]}")


class ResponseDecodeError(IntercomError):
    """A successful (2xx) answer whose body is not what the endpoint sends (a ticket, a page).

    ``json_path`` names where it failed (``$`` for the whole body,
    ``$.ticket_parts.ticket_parts[3].created_at`` deep inside). Never retried: the same request
    would get the same body.

    Attributes:
        status (int): the HTTP status code of the answer.
        json_path (str): where in the body it failed.
        request_id (str | None): the ``X-Request-Id`` header, if there was one.
        headers (CIMultiDict[str]): the response headers (case-insensitive).
        expected (str): what the body should have been (``"a ticket"``, ``"a ticket.list"``).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        json_path: str = "$",
        expected: str = "a ticket",
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.json_path = json_path
        self.expected = expected
        self.request_id = request_id
        self.headers: CIMultiDict[str] = CIMultiDict(headers or {})

    def __str__(self) -> str:
        rid = f" (request_id={shorten(one_line(self.request_id))})" if self.request_id else ""
        where = f"response body is not {shorten(self.expected)} at "
        where += shorten(self.json_path, 2 * QUOTE_LIMIT)
        return _fit(f"HTTP {self.status}: {where}: {self.args[0]}", rid)


class ApiError(IntercomError):
    """Intercom (or something in front of it) answered with a non-2xx status.

    Attributes:
        status (int): the HTTP status code.
        reason (str): the HTTP reason phrase.
        request_id (str | None): Intercom's request id, from the body or the ``X-Request-Id``
            header.
        errors (list[ErrorDetail]): the entries of Intercom's ``error.list`` (empty when the
            body is not one).
        headers (CIMultiDict[str]): the response headers (case-insensitive).
        method (str): the request's HTTP method.
        path (str): the request's path (``"/tickets/1295"``).
    """

    # The answer's rate-limit headers as the request path parsed them (a ``LimitHeaders``),
    # for the retry policy; ``None`` on an error made elsewhere (it then reads ``headers``).
    _limits: object = None

    def __init__(
        self,
        status: int,
        *,
        reason: str = "",
        request_id: str | None = None,
        errors: Sequence[ErrorDetail] = (),
        headers: Mapping[str, str] | None = None,
        method: str = "GET",
        path: str = "",
    ) -> None:
        self.status = status
        self.reason = reason
        self.request_id = request_id
        self.errors: list[ErrorDetail] = list(errors)
        self.headers: CIMultiDict[str] = CIMultiDict(headers or {})
        self.method = method
        self.path = path
        super().__init__(str(self))

    @property
    def code(self) -> str | None:
        """The ``code`` of Intercom's first error (``"unauthorized"``, ``"not_found"``...)."""
        return self.errors[0].code if self.errors else None

    def __str__(self) -> str:
        head = f"HTTP {self.status}"
        if self.reason:
            head += f" {shorten(self.reason, REASON_LIMIT)}"
        if self.path:
            head = f"{self.method} {shorten(self.path)}: {head}"
        details = "; ".join(
            ": ".join(shorten(part, MESSAGE_LIMIT) for part in (e.code, e.message) if part)
            + (f" (field {shorten(e.field, MESSAGE_LIMIT)})" if e.field else "")
            for e in self.errors[:8]
        )
        if details:
            head += f": {details}"
        rid = f" (request_id={shorten(one_line(self.request_id))})" if self.request_id else ""
        return _fit(head, rid)


class AuthenticationError(ApiError):
    """401: the access token is missing, invalid or revoked."""


class PermissionDeniedError(ApiError):
    """403: the token is valid but lacks the scope for this request."""


class NotFoundError(ApiError):
    """404: no ticket has that id (or the token's app cannot see it)."""


class RateLimitError(ApiError):
    """429: the app's rate limit is spent.

    Retried by the policy after the wait the answer asks for (``Retry-After``, else
    ``X-RateLimit-Reset``).
    """


class ServerError(ApiError):
    """5xx: Intercom or a proxy in front of it failed. 500, 502, 503 and 504 are retried."""


_BY_STATUS: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


def api_error_class(status: int) -> type[ApiError]:
    """The most specific ``ApiError`` subclass for an HTTP status."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, ApiError)
