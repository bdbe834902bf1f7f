"""Bulk retrieval: many ids in, one result per id out (a ``TicketResult`` for tickets), with
bounded everything; generic over what is fetched (``fetch_many``'s ``fetch`` and ``result``).

``concurrency`` workers pull ids from the caller's (sync or async) iterable one at a time, fetch
them through the client (so the client's retries and rate-limit pacing apply), and hand results
to the consumer through a queue of ``concurrency`` slots. Nothing grows with the number of ids:
at most ``concurrency`` requests are in flight, ``concurrency`` results wait in the queue, and in
``ordered`` mode at most ``2 * concurrency`` results wait for an earlier one.

When the consumer stops early (``break``, an exception, cancellation) the workers are cancelled
and awaited, and the ids iterator is closed if it can be (a generator's ``close()``, an async
generator's ``aclose()``), so that a database cursor behind it is released then, not when the
garbage collector gets to it. A worker that survives its cancellation (an ids source that
swallows it) cannot hang the shutdown: it queues no more results, and stops after the id it
has.

A 401 says the token is refused, for every id: once one comes back, no more requests are sent.
The ids taken after it get that ``AuthenticationError`` as their result, marked ``skipped``;
only the requests already in flight with it may still go out.
"""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
)
from functools import partial
from typing import Any, Generic, Protocol, TypeVar

from attrs import frozen

from ._errors import AuthenticationError, ClientClosedError, IntercomError
from ._models import Ticket
from ._raw import CallInfo, recording

__all__ = ["Keys", "MakeResult", "TicketId", "TicketIds", "TicketResult", "fetch_many"]

K = TypeVar("K")  # what identifies one thing to fetch (a ticket id)
V = TypeVar("V")  # what is fetched (a Ticket)
K_contra = TypeVar("K_contra", contravariant=True)
V_contra = TypeVar("V_contra", contravariant=True)
R = TypeVar("R", bound="_Indexed")  # the result of one key (a TicketResult)
R_co = TypeVar("R_co", covariant=True)

Keys = Iterable[K] | AsyncIterable[K]
"""What a bulk fetch reads its keys from: any iterable or async iterable."""

TicketId = str | int
"""A ticket id: Intercom's ``id`` of a ticket, as a str (``"1295"``) or an int."""
TicketIds = Keys[TicketId]


class _Indexed(Protocol):
    @property
    def index(self) -> int: ...


class MakeResult(Protocol[K_contra, V_contra, R_co]):
    """How a bulk fetch makes the result of one key: ``(key, value, error, index, skipped,
    request_id, attempts, elapsed)``, ``value`` or ``error`` being ``None`` (a
    ``TicketResult`` is made so); the last three are the call's ``CallInfo``."""

    def __call__(
        self,
        key: K_contra,
        value: V_contra | None,
        error: IntercomError | None,
        index: int,
        skipped: bool,
        request_id: str | None,
        attempts: int,
        elapsed: float,
        /,
    ) -> R_co: ...


@frozen
class TicketResult:
    """The outcome for one id of a bulk fetch.

    Attributes:
        id: the id as it was given.
        ticket: the ``Ticket``, or ``None`` when the fetch failed.
        error: the ``IntercomError`` it failed with, or ``None``.
        index: the id's position in the input (0 for the first).
        skipped: ``True`` when no request was sent for this id because the token had been
            refused (a 401) for an id before it; ``error`` is then that ``AuthenticationError``.
        request_id: Intercom's ``X-Request-Id`` of the last answer to this id's call (success
            or failure alike), or ``None`` when no answer came or it had none.
        attempts: the requests sent for this id (0 when none was: skipped, an invalid id).
        elapsed: seconds the call for this id took in all (waits and retries included).
    """

    id: TicketId
    ticket: Ticket | None
    error: IntercomError | None
    index: int
    skipped: bool = False
    request_id: str | None = None
    attempts: int = 0
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the ticket was fetched."""
        return self.error is None


class _Done:
    """A worker's last message: it stopped, after ``failure`` if that is set."""

    __slots__ = ("failure",)

    def __init__(self, failure: BaseException | None = None) -> None:
        self.failure = failure


class _Source(Generic[K]):
    """Hands out ``(index, id)`` pairs from a sync or async iterable, one caller at a time."""

    def __init__(self, ids: Keys[K]) -> None:
        if isinstance(ids, (str, bytes)):
            raise TypeError("ids must be an iterable of ids, not a single str; wrap it in a list")
        self._iterator: AsyncIterator[K] | Iterator[K] | None
        if isinstance(ids, AsyncIterable):
            self._iterator = aiter(ids)
        elif isinstance(ids, Iterable):
            self._iterator = iter(ids)
        else:
            raise TypeError(f"ids must be an iterable or async iterable, not {type(ids).__name__}")
        self._opened = self._iterator  # to close, once read no more (None then)
        self._lock = asyncio.Lock()
        self._next_index = 0
        self.failure: Exception | None = None  # what the iterable raised, if it did

    async def next(self) -> tuple[int, K] | None:
        async with self._lock:
            iterator = self._iterator
            if iterator is None:
                return None
            try:
                if isinstance(iterator, AsyncIterator):
                    item = await anext(iterator)
                else:
                    item = next(iterator)
            except (StopIteration, StopAsyncIteration):
                self._iterator = None
                return None
            except Exception as exc:  # raised once every id read before it has its result
                self._iterator = None
                self.failure = exc
                return None
            index = self._next_index
            self._next_index += 1
            return index, item

    async def close(self) -> None:
        """Close the ids iterator, if it has a ``close()`` or ``aclose()`` (generators do)."""
        if isinstance(self._opened, AsyncIterator):
            aclose = getattr(self._opened, "aclose", None)
            if aclose is not None:
                await aclose()
        else:
            close = getattr(self._opened, "close", None)
            if close is not None:
                close()


async def fetch_many(
    fetch: Callable[[K], Awaitable[V]],
    ids: Keys[K],
    *,
    concurrency: int,
    ordered: bool,
    on_result: Callable[[R], Any] | None,
    result: MakeResult[K, V, R],
) -> AsyncGenerator[R, None]:
    """Yield one result (made by ``result``) per key, fetching with ``fetch`` on
    ``concurrency`` workers."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be an int >= 1, not {concurrency!r}")
    source = _Source(ids)
    queue: asyncio.Queue[R | _Done] = asyncio.Queue(maxsize=concurrency)
    window = 2 * concurrency  # ordered mode: how far past the next result to yield workers go
    next_to_yield = 0
    advanced = asyncio.Condition()
    stopping = False
    refused: AuthenticationError | None = None  # the first 401: the token is refused

    def _within(index: int) -> bool:
        return index < next_to_yield + window

    def made(key: K, value: V | None, error: IntercomError | None, index: int, info: CallInfo) -> R:
        return result(key, value, error, index, False, info.request_id, info.attempts, info.elapsed)

    async def one(index: int, key: K) -> R:
        nonlocal refused
        if refused is not None:
            return result(key, None, refused, index, True, None, 0, 0.0)
        with recording() as info:
            try:
                value = await fetch(key)
            except ClientClosedError:
                raise
            except AuthenticationError as error:
                refused = refused or error
                return made(key, None, error, index, info)
            except IntercomError as error:
                return made(key, None, error, index, info)
        return made(key, value, None, index, info)

    async def worker() -> None:
        failure: BaseException | None = None
        try:
            while (item := await source.next()) is not None:
                index, key = item
                if ordered and not _within(index):
                    async with advanced:
                        await advanced.wait_for(partial(_within, index))
                outcome = await one(index, key)
                if stopping:
                    return
                await queue.put(outcome)
        except Exception as exc:  # a bug or a closed client: the consumer re-raises it
            failure = exc
        if not stopping:
            await queue.put(_Done(failure))

    workers = [
        asyncio.create_task(worker(), name=f"intercom_async.get_many worker {n}")
        for n in range(concurrency)
    ]
    running = len(workers)
    held: dict[int, R] = {}
    try:
        while running:
            message = await queue.get()
            if isinstance(message, _Done):
                running -= 1
                if message.failure is not None:
                    raise message.failure
                continue
            if on_result is not None:
                on_result(message)
            if not ordered:
                yield message
                continue
            held[message.index] = message
            while next_to_yield in held:
                ready = held.pop(next_to_yield)
                next_to_yield += 1
                async with advanced:
                    advanced.notify_all()
                yield ready
        if source.failure is not None:
            raise source.failure
    finally:
        stopping = True
        for task in workers:
            task.cancel()
        while not queue.empty():  # a worker blocked on a full queue goes on, and then stops
            queue.get_nowait()
        await asyncio.gather(*workers, return_exceptions=True)
        await source.close()
