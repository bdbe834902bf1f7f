"""The events hooks receive: small frozen records of what a call did, public and typed.

A *call* is one logical request (``client.tickets.get("1295")``); it makes one or more
*attempts* (the first, then retries). Every event names the call by its ``method`` and
``route`` (the path's template, ``/tickets/{id}``, as in span names and metrics) and by its
``path`` (``/tickets/1295``). No event holds the access token, a header of the request, or
anything of a ticket's contents.
"""

from __future__ import annotations

from typing import Literal

import attrs

__all__ = [
    "Pacing",
    "RateLimitWaitEvent",
    "RequestEvent",
    "ResponseEvent",
    "RetryEvent",
    "RetryReason",
]

Pacing = Literal["local", "shared"]
"""What gave a request its turn: ``"local"``, the client's own pacer (the rate-limit window as
this process sees it), or ``"shared"``, the budget a ``RedisQuota`` keeps for every process."""

RetryReason = Literal["status", "timeout", "connection"]
"""Why a call is tried again: an answer with a retryable ``status`` (408, 429, 5xx), an attempt
that timed out, or one that got no answer (a refused or dropped connection)."""


@attrs.frozen(kw_only=True)
class RequestEvent:
    """An attempt is about to be sent (its turn taken, a connection slot free).

    Attributes:
        method: the HTTP method, ``"GET"``.
        route: the path's template, ``"/tickets/{id}"``.
        path: the path, ``"/tickets/1295"``.
        attempt: 1 for the first attempt, 2 for the first retry, and so on.
    """

    method: str
    route: str
    path: str
    attempt: int


@attrs.frozen(kw_only=True)
class ResponseEvent:
    """An attempt ended: with an answer (``status``), or without one (``status`` is ``None``).

    Attributes:
        method: the HTTP method.
        route: the path's template.
        path: the path.
        attempt: which attempt this was (1 for the first).
        status: the HTTP status of the answer; ``None`` when none came (a timeout, a dropped
            connection, a cancelled call).
        request_id: Intercom's ``X-Request-Id`` of the answer, when it had one: what Intercom's
            support asks for.
        error_type: why the attempt failed, as in OpenTelemetry's ``error.type``: the status
            (``"429"``) for an error answer, ``"timeout"``, or the exception's class name; ``None``
            for a success.
        elapsed: seconds from sending the request to the end of the answer.
        rate_limit_wait: seconds this attempt waited for its turn under the rate limit before
            it was sent (0 when it went at once).
    """

    method: str
    route: str
    path: str
    attempt: int
    status: int | None
    request_id: str | None
    error_type: str | None
    elapsed: float
    rate_limit_wait: float


@attrs.frozen(kw_only=True)
class RetryEvent:
    """The retry policy will try the call again, after ``wait`` seconds.

    Attributes:
        method: the HTTP method.
        route: the path's template.
        path: the path.
        attempt: the attempt that failed (1 for the first); the next one is ``attempt + 1``.
        reason: ``"status"``, ``"timeout"`` or ``"connection"`` (``RetryReason``).
        status: the status of the failed answer, for ``reason="status"``; else ``None``.
        error_type: as in ``ResponseEvent``.
        wait: seconds until the next attempt (a backoff, or what a 429 asked for).
    """

    method: str
    route: str
    path: str
    attempt: int
    reason: RetryReason
    status: int | None
    error_type: str
    wait: float


@attrs.frozen(kw_only=True)
class RateLimitWaitEvent:
    """An attempt is held back by the rate limit for ``seconds`` before it may go.

    Attributes:
        method: the HTTP method.
        route: the path's template.
        path: the path.
        attempt: the attempt that waits (1 for the first).
        seconds: how long it is to wait, as the pacer reckons it now.
        pacing: ``"local"`` or ``"shared"`` (``Pacing``): whose budget holds it back.
    """

    method: str
    route: str
    path: str
    attempt: int
    seconds: float
    pacing: Pacing
