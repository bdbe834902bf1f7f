"""The request log: ``INTERCOM_ASYNC_LOG=info|debug`` logs one line per request.

As ``OPENAI_LOG`` and ``STRIPE_LOG`` do: set it, and every attempt a client sends is logged on
the ``intercom_async`` logger (method, route, status, request id, attempt, elapsed seconds,
seconds waited for its turn), whether the application configured ``logging`` or not; ``debug``
adds the path, each rate-limit wait, each retry and each call to the shared budget. It is read
when a client is made.

Where the lines go: if the application's logging would show them (a handler, other than a
``NullHandler``, on the ``intercom_async`` logger or one it propagates to, as
``logging.basicConfig`` sets up), there, in its format. Otherwise to standard error, through
one handler this module adds to the ``intercom_async`` logger, once per process; that handler
looks again at each line, so an application that configures logging later does not get each
line twice. The level of the ``intercom_async`` logger is lowered to the one asked for, if it
was higher. No line holds the token or a header: a call's events do not carry them.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

from ._events import Pacing, RateLimitWaitEvent, RequestEvent, ResponseEvent, RetryEvent
from ._observe import CallSink, CallStart, Sink

__all__ = ["LOG_ENV", "RequestLog", "enable_stderr_log", "request_log_from_env"]

LOG_ENV = "INTERCOM_ASYNC_LOG"
LEVELS = {"info": logging.INFO, "debug": logging.DEBUG}
logger = logging.getLogger("intercom_async")


def request_log_from_env(environ: Mapping[str, str] | None = None) -> RequestLog | None:
    """The request log ``INTERCOM_ASYNC_LOG`` asks for (its handler set up), or ``None`` when
    it is unset or blank; any other value than ``info`` or ``debug`` is a ``ValueError``."""
    value = (os.environ if environ is None else environ).get(LOG_ENV, "").strip().lower()
    if not value:
        return None
    if value not in LEVELS:
        raise ValueError(f"{LOG_ENV} must be 'info' or 'debug', not {value[:20]!r}")
    level = LEVELS[value]
    enable_stderr_log(level)
    return RequestLog(level)


class _StderrHandler(logging.Handler):
    """Writes to ``sys.stderr`` (as it is at each line) what the application's logging would
    not show."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if _shown_elsewhere(record):
            return
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


def _shown_elsewhere(record: logging.LogRecord) -> bool:
    """Whether a handler of the application's (not ours, not a ``NullHandler``) gets
    ``record``, on its logger or those it propagates to."""
    current: logging.Logger | None = logging.getLogger(record.name)
    while current is not None:
        for handler in current.handlers:
            if isinstance(handler, (_StderrHandler, logging.NullHandler)):
                continue
            if record.levelno >= handler.level:
                return True
        if not current.propagate:
            return False
        current = current.parent
    return False


def enable_stderr_log(level: int) -> None:
    """Let ``intercom_async`` records of ``level`` through, to standard error if nothing else
    shows them; idempotent."""
    if logger.getEffectiveLevel() > level:
        logger.setLevel(level)
    if not any(isinstance(handler, _StderrHandler) for handler in logger.handlers):
        logger.addHandler(_StderrHandler())


class _LogCall(CallSink):
    __slots__ = ("_debug",)

    def __init__(self, debug: bool) -> None:
        self._debug = debug

    async def request(self, event: RequestEvent) -> None:
        if self._debug:
            logger.debug(
                "%s %s path=%s attempt=%d: sending",
                event.method,
                event.route,
                event.path,
                event.attempt,
            )

    async def response(self, event: ResponseEvent) -> None:
        outcome = str(event.status) if event.status is not None else event.error_type or "-"
        line = "%s %s %s request_id=%s attempt=%d elapsed=%.3fs wait=%.3fs"
        args: tuple[object, ...] = (
            event.method,
            event.route,
            outcome,
            event.request_id or "-",
            event.attempt,
            event.elapsed,
            event.rate_limit_wait,
        )
        if self._debug:
            line += " path=%s"
            args += (event.path,)
            if event.error_type is not None and event.status is None:
                line += " error=%s"
                args += (event.error_type,)
        logger.info(line, *args)

    async def retry(self, event: RetryEvent) -> None:
        if self._debug:
            logger.debug(
                "%s %s path=%s attempt=%d: retrying in %.3fs (%s, %s)",
                event.method,
                event.route,
                event.path,
                event.attempt,
                event.wait,
                event.reason,
                event.error_type,
            )

    async def rate_limit_wait(self, event: RateLimitWaitEvent) -> None:
        if self._debug:
            logger.debug(
                "%s %s path=%s attempt=%d: waiting %.3fs for its turn (%s pacing)",
                event.method,
                event.route,
                event.path,
                event.attempt,
                event.seconds,
                event.pacing,
            )

    def rate_limit_waited(self, seconds: float, pacing: Pacing) -> None:
        pass


class RequestLog(Sink):
    """One ``INFO`` line per attempt; with ``level=logging.DEBUG``, the waits, retries and
    shared-budget calls too."""

    def __init__(self, level: int) -> None:
        self.level = level
        self._call = _LogCall(level <= logging.DEBUG)

    def call(self, start: CallStart) -> CallSink:
        return self._call

    def budget_call(self, seconds: float, outcome: str) -> None:
        if self.level <= logging.DEBUG:
            logger.debug("shared budget call: %s in %.3fs", outcome, seconds)
