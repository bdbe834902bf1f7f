"""``Fault``: a misbehaviour of the fake on cue, and the plan of which request gets one."""

from __future__ import annotations

import json
import math
import random
from collections import deque
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Literal

import attrs

__all__ = ["DEFAULT_RANDOM_KINDS", "Fault", "FaultKind", "FaultPlan"]

FaultKind = Literal["status", "reset", "truncate", "slow", "html"]
_KINDS = ("status", "reset", "truncate", "slow", "html")


def _error_status(code: int) -> int:
    if isinstance(code, bool) or not isinstance(code, int) or not 400 <= code <= 599:
        raise ValueError(f"a fault status must be an int from 400 to 599, not {code!r}")
    return code


@attrs.frozen(repr=False)
class Fault:
    """One way the fake misbehaves instead of answering a request normally.

    Make one with a constructor: ``Fault.status(503)``, ``Fault.reset()``,
    ``Fault.truncate()``, ``Fault.slow(2.0)`` or ``Fault.html()``; then script it with
    ``FakeIntercom.inject`` or draw it at random with ``FakeIntercom.random_faults``.

    Attributes:
        kind: ``"status"``, ``"reset"``, ``"truncate"``, ``"slow"`` or ``"html"``.
        code: the HTTP status of a ``status`` or ``html`` fault.
        body: the exact body of a ``status`` fault, or ``None`` for Intercom's ``error.list``.
        seconds: how long a ``slow`` fault holds the answer back.
    """

    kind: FaultKind = attrs.field(validator=attrs.validators.in_(_KINDS))
    code: int | None = None
    body: bytes | None = None
    seconds: float = 0.0

    @classmethod
    def status(cls, code: int, body: Mapping[str, Any] | str | bytes | None = None) -> Fault:
        """Answer with HTTP ``code`` (400-599) and rate-limit headers, as Intercom would.

        The body is Intercom's ``error.list`` with a code that fits the status (503
        ``service_unavailable``, 500 ``server_error``, 429 ``rate_limit_exceeded``, 404
        ``not_found``...) unless ``body`` is given: a mapping is sent as JSON, a str or bytes
        as they are, always with ``Content-Type: application/json``.
        """
        if isinstance(body, Mapping):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        if body is not None and not isinstance(body, bytes):
            raise TypeError(f"body must be a mapping, str or bytes, not {type(body).__name__}")
        return cls("status", code=_error_status(code), body=body)

    @classmethod
    def reset(cls) -> Fault:
        """Close the connection without answering.

        aiohttp's client sends an idempotent request (a ``GET``) once more by itself when the
        server drops the connection, so script at least two resets for a client to notice.
        """
        return cls("reset")

    @classmethod
    def truncate(cls) -> Fault:
        """Answer 200 with a ``Content-Length`` for the whole ticket, send half, and hang up."""
        return cls("truncate")

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Wait ``seconds`` before handling the request as usual."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise TypeError(f"seconds must be a number, not {type(seconds).__name__}")
        if not (seconds >= 0 and math.isfinite(seconds)):
            raise ValueError(f"seconds must be a finite number >= 0, not {seconds!r}")
        return cls("slow", seconds=float(seconds))

    @classmethod
    def html(cls, status: int = 502) -> Fault:
        """Answer with an HTML error page (``text/html``), as a proxy in front of Intercom does."""
        return cls("html", code=_error_status(status))

    def __repr__(self) -> str:
        if self.kind == "status":
            return f"Fault.status({self.code}{'' if self.body is None else ', body=...'})"
        if self.kind == "slow":
            return f"Fault.slow({self.seconds})"
        if self.kind == "html":
            return f"Fault.html({self.code})"
        return f"Fault.{self.kind}()"


DEFAULT_RANDOM_KINDS: tuple[Fault, ...] = (
    Fault.status(500),
    Fault.status(503),
    Fault.html(502),
    Fault.reset(),
    Fault.truncate(),
)


@attrs.define
class _Scripted:
    fault: Fault
    left: int | None  # None: for ever


class FaultPlan:
    """Which fault (if any) the next request gets: scripted first, else random.

    Scripted faults queue up under a key: a ticket id, or a route's own key.
    """

    def __init__(self) -> None:
        self._scripted: dict[Hashable, deque[_Scripted]] = {}
        self._rng = random.Random(0)
        self._probability = 0.0
        self._kinds: tuple[Fault, ...] = DEFAULT_RANDOM_KINDS

    def inject(self, key: Hashable, fault: Fault, times: int | None) -> None:
        """Queue ``fault`` for the next ``times`` requests under ``key`` (``None``: all)."""
        if not isinstance(fault, Fault):
            raise TypeError(f"fault must be a Fault, not {type(fault).__name__}")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)):
            raise TypeError(f"times must be an int or None, not {type(times).__name__}")
        if times is not None and times < 1:
            raise ValueError(f"times must be >= 1 or None, not {times}")
        self._scripted.setdefault(key, deque()).append(_Scripted(fault, times))

    def set_random(self, probability: float, seed: int, kinds: Sequence[Fault] | None) -> None:
        """Give each request a fault from ``kinds`` with ``probability``, drawn from ``seed``."""
        if isinstance(probability, bool) or not isinstance(probability, (int, float)):
            raise TypeError(f"probability must be a number, not {type(probability).__name__}")
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"probability must be between 0 and 1, not {probability!r}")
        chosen = DEFAULT_RANDOM_KINDS if kinds is None else tuple(kinds)
        if not chosen or not all(isinstance(kind, Fault) for kind in chosen):
            raise ValueError("kinds must be a non-empty sequence of Fault")
        self._probability = float(probability)
        self._kinds = chosen
        self._rng = random.Random(seed)

    def next(self, keys: Sequence[Hashable]) -> Fault | None:
        """The fault for the request that just arrived, or ``None`` to answer it normally:
        the first scripted under ``keys``, in their order, else the random one.

        The random draw happens for every request, scripted or not, so the sequence of random
        faults depends only on the seed and the order of requests.
        """
        drawn = None
        if self._probability and self._rng.random() < self._probability:
            drawn = self._rng.choice(self._kinds)
        key = next((key for key in keys if self._scripted.get(key)), None)
        if key is None:
            return drawn
        queue = self._scripted[key]
        head = queue[0]
        if head.left is not None:
            head.left -= 1
            if head.left == 0:
                queue.popleft()
                if not queue:  # used-up faults are not kept
                    del self._scripted[key]
        return head.fault
