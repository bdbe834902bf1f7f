"""What a request path tells about itself, and who listens: hooks, OpenTelemetry, a request log.

The request path holds one ``Observer`` (built once per client by ``build_observer``) and
tells it what happens at a few fixed points, through a ``Call`` per logical call::

    call = observer.call("GET", "/tickets/{id}", "/tickets/1295")   # the call starts
    try:
        call.turn_taken("local")                  # after each acquire (its turn)
        await call.attempt_started()              # before each send
        await call.attempt_ended(status=200, request_id="req_1")   # after its answer (finally)
        await call.retrying(error, wait=1.5)      # when the policy will try again
    finally:
        call.ended(status=200)                    # the call ends (finally)

and, from inside the pacer or shared budget, ``await call.rate_limit_wait_started(seconds,
pacing)`` / ``call.rate_limit_wait_ended()`` around a rate-limit wait, and
``observer.budget_call(seconds, outcome)`` after each call to Redis.

Each listener is a ``Sink``: for a call it gives a ``CallSink`` (or ``None``: nothing to do for
this one), which receives the events. ``Call`` keeps the count of attempts and the timings, and
builds each event once for all of them. With no sink listening, ``observer.call`` returns one
shared ``Call`` whose methods return at once: that is all an unobserved request pays
(``benchmarks/observe_cost.py`` measures it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping

import attrs

from ._errors import ApiError, TransportError
from ._events import (
    Pacing,
    RateLimitWaitEvent,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    RetryReason,
)

__all__ = [
    "NO_CALL",
    "Call",
    "CallEnd",
    "CallSink",
    "CallStart",
    "Observer",
    "Sink",
    "build_observer",
    "error_type",
    "retry_reason",
]


@attrs.frozen
class CallStart:
    """A call begins: what every sink is told of it."""

    method: str
    route: str
    path: str


@attrs.frozen(kw_only=True)
class CallEnd:
    """A call ended: ``attempts`` sent, the last ``status`` (``None`` if no answer), why it
    failed (``error_type``, ``None`` for a success), and its ``elapsed`` seconds in all."""

    method: str
    route: str
    path: str
    attempts: int
    status: int | None
    error_type: str | None
    elapsed: float


class CallSink:
    """What one listener does for one call; every method here does nothing."""

    __slots__ = ()

    async def request(self, event: RequestEvent) -> None:
        """An attempt is about to be sent."""

    async def response(self, event: ResponseEvent) -> None:
        """An attempt ended, with an answer or without."""

    async def retry(self, event: RetryEvent) -> None:
        """The call will be tried again."""

    async def rate_limit_wait(self, event: RateLimitWaitEvent) -> None:
        """An attempt starts waiting for its turn."""

    def rate_limit_waited(self, seconds: float, pacing: Pacing) -> None:
        """That wait is over, after ``seconds``."""

    def turn(self, attempt: int, pacing: Pacing) -> None:
        """An attempt got its turn from ``pacing``."""

    def ended(self, end: CallEnd) -> None:
        """The call is over (whatever is still open of it is to be closed now)."""


class Sink:
    """A listener: hooks, OpenTelemetry, the request log."""

    def call(self, start: CallStart) -> CallSink | None:
        """The listener of one call, or ``None`` when there is nothing to do for it."""
        return None

    def budget_call(self, seconds: float, outcome: str) -> None:
        """A call to the shared budget's store took ``seconds``; ``outcome`` is ``"ok"``,
        ``"timeout"``, ``"error"`` or ``"cancelled"`` (cut short by the client closing)."""


class Call:
    """One logical call as the request path reports it; fans each event out to its sinks."""

    __slots__ = (
        "_attempt",
        "_clock",
        "_ended",
        "_method",
        "_path",
        "_route",
        "_sent",
        "_sent_at",
        "_sinks",
        "_started",
        "_wait_pacing",
        "_wait_started",
        "_waited",
    )

    def __init__(
        self, sinks: tuple[CallSink, ...], start: CallStart, clock: Callable[[], float]
    ) -> None:
        self._sinks = sinks
        self._method = start.method
        self._route = start.route
        self._path = start.path
        self._clock = clock
        self._started = clock()
        self._attempt = 1  # the attempt under way, or the next one
        self._sent = 0  # attempts sent so far
        self._sent_at: float | None = None
        self._waited = 0.0  # seconds the attempt under way waited for its turn
        self._wait_started: float | None = None
        self._wait_pacing: Pacing = "local"
        self._ended = False

    def turn_taken(self, pacing: Pacing) -> None:
        """The attempt got its turn (from the local pacer, or the shared budget)."""
        for sink in self._sinks:
            sink.turn(self._attempt, pacing)

    async def rate_limit_wait_started(self, seconds: float, pacing: Pacing) -> None:
        """The attempt is held back ``seconds`` by the rate limit (``pacing``'s)."""
        self._wait_started = self._clock()
        self._wait_pacing = pacing
        event = RateLimitWaitEvent(
            method=self._method,
            route=self._route,
            path=self._path,
            attempt=self._attempt,
            seconds=seconds,
            pacing=pacing,
        )
        for sink in self._sinks:
            await sink.rate_limit_wait(event)

    def rate_limit_wait_ended(self) -> None:
        """The wait begun by ``rate_limit_wait_started`` is over (or was cut short)."""
        if self._wait_started is None:
            return
        seconds = max(0.0, self._clock() - self._wait_started)
        self._wait_started = None
        self._waited += seconds
        for sink in self._sinks:
            sink.rate_limit_waited(seconds, self._wait_pacing)

    async def attempt_started(self) -> None:
        """The attempt is about to be sent."""
        self._sent += 1
        self._sent_at = self._clock()
        event = RequestEvent(
            method=self._method, route=self._route, path=self._path, attempt=self._attempt
        )
        for sink in self._sinks:
            await sink.request(event)

    async def attempt_ended(
        self,
        *,
        status: int | None = None,
        error: BaseException | None = None,
        request_id: str | None = None,
    ) -> None:
        """The attempt ended: with an answer of ``status`` (and its ``X-Request-Id``), or with
        ``error`` (no answer, or one that failed)."""
        elapsed = 0.0 if self._sent_at is None else max(0.0, self._clock() - self._sent_at)
        self._sent_at = None
        event = ResponseEvent(
            method=self._method,
            route=self._route,
            path=self._path,
            attempt=self._attempt,
            status=status,
            request_id=request_id,
            error_type=error_type(status, error),
            elapsed=elapsed,
            rate_limit_wait=self._waited,
        )
        self._waited = 0.0
        for sink in self._sinks:
            await sink.response(event)

    async def retrying(self, error: BaseException, wait: float) -> None:
        """The retry policy will try again after ``wait`` seconds, the last attempt having
        failed with ``error``."""
        status = error.status if isinstance(error, ApiError) else None
        event = RetryEvent(
            method=self._method,
            route=self._route,
            path=self._path,
            attempt=self._attempt,
            reason=retry_reason(error),
            status=status,
            error_type=error_type(status, error) or type(error).__name__,
            wait=wait,
        )
        self._attempt += 1
        for sink in self._sinks:
            await sink.retry(event)

    def ended(self, *, status: int | None = None, error: BaseException | None = None) -> None:
        """The call is over: a success (its ``status``) or a failure (``error``). Call it in a
        ``finally``; a second call does nothing."""
        if self._ended:
            return
        self._ended = True
        self.rate_limit_wait_ended()  # a wait cut short by a cancellation
        end = CallEnd(
            method=self._method,
            route=self._route,
            path=self._path,
            attempts=self._sent,
            status=status,
            error_type=error_type(status, error),
            elapsed=max(0.0, self._clock() - self._started),
        )
        for sink in self._sinks:
            sink.ended(end)


class _NoCall(Call):
    """The call nobody listens to: every method returns at once."""

    __slots__ = ()

    def __init__(self) -> None:
        pass

    def turn_taken(self, pacing: Pacing) -> None:
        pass

    async def rate_limit_wait_started(self, seconds: float, pacing: Pacing) -> None:
        pass

    def rate_limit_wait_ended(self) -> None:
        pass

    async def attempt_started(self) -> None:
        pass

    async def attempt_ended(
        self,
        *,
        status: int | None = None,
        error: BaseException | None = None,
        request_id: str | None = None,
    ) -> None:
        pass

    async def retrying(self, error: BaseException, wait: float) -> None:
        pass

    def ended(self, *, status: int | None = None, error: BaseException | None = None) -> None:
        pass


NO_CALL: Call = _NoCall()


class Observer:
    """The sinks of one client; ``call`` starts the observation of one logical call."""

    __slots__ = ("_clock", "_sinks")

    def __init__(
        self, sinks: Iterable[Sink] = (), *, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self._sinks = tuple(sinks)
        self._clock = clock

    @property
    def sinks(self) -> tuple[Sink, ...]:
        return self._sinks

    def call(self, method: str, route: str, path: str) -> Call:
        """Observe a call of ``method`` on ``path``, whose template is ``route``."""
        if not self._sinks:
            return NO_CALL
        start = CallStart(method, route, path)
        listening = []
        for sink in self._sinks:
            listener = sink.call(start)
            if listener is not None:
                listening.append(listener)
        return Call(tuple(listening), start, self._clock) if listening else NO_CALL

    def budget_call(self, seconds: float, outcome: str) -> None:
        """A call to the shared budget's store (Redis) took ``seconds``: ``outcome`` is
        ``"ok"``, ``"timeout"``, ``"error"`` or ``"cancelled"``."""
        for sink in self._sinks:
            sink.budget_call(seconds, outcome)


def retry_reason(error: BaseException) -> RetryReason:
    """Why ``error`` is retried: an answer's status, a timeout, or a connection that failed."""
    if isinstance(error, ApiError):
        return "status"
    if isinstance(error, TransportError) and error.timed_out:
        return "timeout"
    if isinstance(error, TimeoutError):
        return "timeout"
    return "connection"


def error_type(status: int | None, error: BaseException | None) -> str | None:
    """OpenTelemetry's ``error.type`` of an outcome: the status of an error answer (``"503"``),
    ``"timeout"``, ``"cancelled"``, else the exception's class (for a ``TransportError``, that
    of the network error behind it); ``None`` for a success."""
    if status is not None and status >= 400:
        return str(status)
    if error is None:
        return None
    if isinstance(error, asyncio.CancelledError):
        return "cancelled"
    if isinstance(error, TimeoutError) or (isinstance(error, TransportError) and error.timed_out):
        return "timeout"
    if isinstance(error, TransportError) and error.__cause__ is not None:
        error = error.__cause__
    kind = type(error)
    module = kind.__module__
    if module == "builtins":
        return kind.__qualname__
    if module.startswith("intercom_async"):  # by its public name
        return f"intercom_async.{kind.__qualname__}"
    if module.startswith("aiohttp."):
        return f"aiohttp.{kind.__qualname__}"
    return f"{module}.{kind.__qualname__}"


def build_observer(
    *,
    base_url: str,
    hooks: object | None = None,
    tracer_provider: object | None = None,
    meter_provider: object | None = None,
    environ: Mapping[str, str] | None = None,
) -> Observer:
    """The observer of a client: its ``hooks`` (a ``Hooks``), OpenTelemetry when
    ``opentelemetry-api`` is installed (the given providers, else the global ones), and the
    request log when ``INTERCOM_ASYNC_LOG`` (in ``environ``, ``os.environ`` by default) asks
    for it. A bad ``INTERCOM_ASYNC_LOG`` or ``hooks`` is a ``ValueError`` / ``TypeError``."""
    from ._hooks import Hooks, HookSink
    from ._reqlog import request_log_from_env

    sinks: list[Sink] = []
    log = request_log_from_env(environ)
    if log is not None:
        sinks.append(log)
    if hooks is not None:
        if not isinstance(hooks, Hooks):
            raise TypeError(f"hooks must be a Hooks, not {type(hooks).__name__}")
        if hooks:
            sinks.append(HookSink(hooks))
    otel = _otel_sink(base_url, tracer_provider, meter_provider)
    if otel is not None:
        sinks.append(otel)
    return Observer(sinks)


def _otel_sink(
    base_url: str, tracer_provider: object | None, meter_provider: object | None
) -> Sink | None:
    """OpenTelemetry's sink, or ``None`` when ``opentelemetry-api`` is not installed."""
    try:
        from ._otel import OtelSink
    except ImportError as exc:
        if not (exc.name or "").startswith("opentelemetry"):
            raise
        if tracer_provider is not None or meter_provider is not None:
            raise ImportError(
                "tracer_provider= and meter_provider= need opentelemetry-api: "
                "pip install 'intercom-async[otel]'"
            ) from exc
        return None
    return OtelSink(base_url, tracer_provider=tracer_provider, meter_provider=meter_provider)
