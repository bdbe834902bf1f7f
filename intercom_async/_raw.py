"""What a call did besides its model: ``RawResponse`` and the ``CallInfo`` of a bulk fetch.

``client.tickets.with_raw_response.get(id)`` gives a ``RawResponse``: the status, headers,
request id, attempts and elapsed seconds of the call, and ``parse()`` for its model. It is
generic over the model, so that any endpoint's raw variant is one method
(``requester.request_raw(...)``) in its resource's ``...WithRawResponse`` class
(``_tickets.py``).

The bulk fetch records the same figures for each key, success or failure, without any change
to the fetch function: it ``records`` a ``CallInfo`` in the context of the call, and the
client's request path fills it in at the end of the call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Generic, TypeVar

import attrs

from ._protocol import Response

__all__ = ["CallInfo", "RawResponse", "current_call_info", "recording"]

T = TypeVar("T")


@attrs.define
class CallInfo:
    """The figures of one call: Intercom's ``request_id`` of its last answer (``None`` when
    none came or it had none), the ``attempts`` sent, and the ``elapsed`` seconds in all."""

    request_id: str | None = None
    attempts: int = 0
    elapsed: float = 0.0


_RECORDING: ContextVar[CallInfo | None] = ContextVar("intercom_async.call_info", default=None)


@contextmanager
def recording() -> Iterator[CallInfo]:
    """A ``CallInfo`` that the calls made in this context (the last to end) fill in."""
    info = CallInfo()
    token = _RECORDING.set(info)
    try:
        yield info
    finally:
        _RECORDING.reset(token)


def current_call_info() -> CallInfo | None:
    """The ``CallInfo`` a ``recording`` around this call waits for, if any."""
    return _RECORDING.get()


class RawResponse(Generic[T]):
    """A 2xx answer as it came, with what the call took, and its model on ``parse()``.

    Attributes:
        status: the HTTP status (2xx: any other is raised as its ``ApiError``, as ever).
        headers: the answer's headers (case-insensitive).
        request_id: Intercom's ``X-Request-Id`` (what its support asks for), or ``None``.
        attempts: the attempts the call sent (1 unless it was retried).
        elapsed: seconds the call took in all: rate-limit waits, attempts and backoffs.
        content: the body, as bytes.
    """

    __slots__ = ("_parse", "_parsed", "attempts", "content", "elapsed", "headers", "status")

    def __init__(
        self, response: Response, parse: Callable[[Response], T], *, attempts: int, elapsed: float
    ) -> None:
        self.status = response.status
        self.headers: Mapping[str, str] = response.headers
        self.content = response.body
        self.attempts = attempts
        self.elapsed = elapsed
        self._parse = (parse, response)
        self._parsed: list[T] = []

    @property
    def request_id(self) -> str | None:
        return self.headers.get("X-Request-Id")

    def parse(self) -> T:
        """The model the answer carries (decoded once, then the same object): a
        ``ResponseDecodeError`` if it is not one."""
        if not self._parsed:
            parse, response = self._parse
            self._parsed.append(parse(response))
        return self._parsed[0]

    def __repr__(self) -> str:
        return (
            f"<RawResponse {self.status} request_id={self.request_id} "
            f"attempts={self.attempts} elapsed={self.elapsed:.3f}s>"
        )
