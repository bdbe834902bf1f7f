"""``Hooks``: the application's callbacks on a call's requests, answers, retries and waits.

The request path awaits each hook inline, in the order given, at the point where its event
happens (before the request goes out, after its answer, before the backoff, before the wait):
so a hook sees the events of one call in order, and what it takes is part of the call's time
(and of its ``max_delay``). Keep hooks quick; hand slow work to a queue or a task of your own.
A hook that raises an ``Exception`` is logged on the ``intercom_async`` logger (with its
traceback) and the call goes on; a cancellation still cancels.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

import attrs

from ._events import RateLimitWaitEvent, RequestEvent, ResponseEvent, RetryEvent
from ._observe import CallSink, CallStart, Sink

__all__ = ["HookSink", "Hooks"]

logger = logging.getLogger("intercom_async")

E = TypeVar("E")
Hook = Callable[[E], Awaitable[object] | None]
Hooks_ = tuple[Hook[E], ...]


def _as_hooks(value: Hook[E] | Iterable[Hook[E]]) -> tuple[Hook[E], ...]:
    hooks: tuple[object, ...] = (value,) if callable(value) else tuple(value)
    for hook in hooks:
        if not callable(hook):
            raise TypeError(f"a hook must be callable, not {type(hook).__name__}")
    return hooks  # type: ignore[return-value]  # checked just above


# One converter per event type: mypy's attrs plugin types __init__ from a converter, and
# takes no generic one.
def _request_hooks(
    value: Hook[RequestEvent] | Iterable[Hook[RequestEvent]],
) -> Hooks_[RequestEvent]:
    return _as_hooks(value)


def _response_hooks(
    value: Hook[ResponseEvent] | Iterable[Hook[ResponseEvent]],
) -> Hooks_[ResponseEvent]:
    return _as_hooks(value)


def _retry_hooks(value: Hook[RetryEvent] | Iterable[Hook[RetryEvent]]) -> Hooks_[RetryEvent]:
    return _as_hooks(value)


def _wait_hooks(
    value: Hook[RateLimitWaitEvent] | Iterable[Hook[RateLimitWaitEvent]],
) -> Hooks_[RateLimitWaitEvent]:
    return _as_hooks(value)


@attrs.frozen
class Hooks:
    """Callbacks on what a client's calls do, for ``IntercomClient(hooks=...)``.

    Each is an async function (a plain function works too) that takes one event, or a list of
    them, called in order:

    ```python
    from intercom_async import Hooks, RetryEvent

    async def count_retry(event: RetryEvent) -> None:
        print(f"{event.route}: retry after attempt {event.attempt} ({event.reason})")

    hooks = Hooks(on_retry=count_retry)
    ```

    Attributes:
        on_request: each attempt, as it is about to be sent (``RequestEvent``).
        on_response: each attempt, when it ended, with an answer or without one
            (``ResponseEvent``: status, request id, elapsed seconds).
        on_retry: each time the retry policy will try a call again (``RetryEvent``).
        on_rate_limit_wait: each time an attempt starts waiting for its turn under the rate
            limit (``RateLimitWaitEvent``: how long, and whose budget).

    A hook that raises is logged on the ``intercom_async`` logger and does not break the
    call. Hooks run inline: what they take is part of the call's time.
    """

    on_request: Hooks_[RequestEvent] = attrs.field(default=(), converter=_request_hooks)
    on_response: Hooks_[ResponseEvent] = attrs.field(default=(), converter=_response_hooks)
    on_retry: Hooks_[RetryEvent] = attrs.field(default=(), converter=_retry_hooks)
    on_rate_limit_wait: Hooks_[RateLimitWaitEvent] = attrs.field(default=(), converter=_wait_hooks)

    def __bool__(self) -> bool:
        return bool(self.on_request or self.on_response or self.on_retry or self.on_rate_limit_wait)


async def _run(hooks: tuple[Hook[E], ...], event: E) -> None:
    for hook in hooks:
        try:
            result = hook(event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            name = getattr(hook, "__qualname__", type(hook).__qualname__)
            logger.exception("hook %s raised on %s; the call goes on", name, type(event).__name__)


class _HookCall(CallSink):
    __slots__ = ("_hooks",)

    def __init__(self, hooks: Hooks) -> None:
        self._hooks = hooks

    async def request(self, event: RequestEvent) -> None:
        if self._hooks.on_request:
            await _run(self._hooks.on_request, event)

    async def response(self, event: ResponseEvent) -> None:
        if self._hooks.on_response:
            await _run(self._hooks.on_response, event)

    async def retry(self, event: RetryEvent) -> None:
        if self._hooks.on_retry:
            await _run(self._hooks.on_retry, event)

    async def rate_limit_wait(self, event: RateLimitWaitEvent) -> None:
        if self._hooks.on_rate_limit_wait:
            await _run(self._hooks.on_rate_limit_wait, event)


class HookSink(Sink):
    """The sink that calls a ``Hooks``'s callbacks; one listener serves every call."""

    def __init__(self, hooks: Hooks) -> None:
        self._call = _HookCall(hooks)

    def call(self, start: CallStart) -> CallSink:
        return self._call
