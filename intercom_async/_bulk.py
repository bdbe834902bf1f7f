"""Bulk retrieval: many ids in, one ``TicketResult`` per id out, with bounded everything.

``concurrency`` workers pull ids from the caller's (sync or async) iterable one at a time, fetch
them through the client (so the client's retries and rate-limit pacing apply), and hand results
to the consumer through a queue of ``concurrency`` slots. Nothing grows with the number of ids:
at most ``concurrency`` requests are in flight, ``concurrency`` results wait in the queue, and in
``ordered`` mode at most ``2 * concurrency`` results wait for an earlier one.

When the consumer stops early (``break``, an exception, cancellation) the workers are cancelled
and awaited, and the ids iterator is closed if it can be (a generator's ``close()``, an async
generator's ``aclose()``), so that a database cursor behind it is released then, not when the
garbage collector gets to it. A worker that survives its cancellation (code that swallows it)
cannot hang the shutdown: no more ids are handed out, and no more results are queued.
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
from typing import Any

from attrs import frozen

from ._errors import ClientClosedError, IntercomError
from ._models import Ticket

__all__ = ["TicketId", "TicketIds", "TicketResult", "fetch_many"]

TicketId = str | int
"""A ticket id: Intercom's ``id`` of a ticket, as a str (``"1295"``) or an int."""
TicketIds = Iterable[TicketId] | AsyncIterable[TicketId]


@frozen
class TicketResult:
    """The outcome for one id of a bulk fetch.

    Attributes:
        id: the id as it was given.
        ticket: the ``Ticket``, or ``None`` when the fetch failed.
        error: the ``IntercomError`` it failed with, or ``None``.
        index: the id's position in the input (0 for the first).
    """

    id: TicketId
    ticket: Ticket | None
    error: IntercomError | None
    index: int

    @property
    def ok(self) -> bool:
        """Whether the ticket was fetched."""
        return self.error is None


class _Done:
    """A worker's last message: it stopped, after ``failure`` if that is set."""

    __slots__ = ("failure",)

    def __init__(self, failure: BaseException | None = None) -> None:
        self.failure = failure


class _Source:
    """Hands out ``(index, id)`` pairs from a sync or async iterable, one caller at a time."""

    _async: AsyncIterator[TicketId] | None
    _sync: Iterator[TicketId] | None

    def __init__(self, ids: TicketIds) -> None:
        if isinstance(ids, (str, bytes)):
            raise TypeError("ids must be an iterable of ids, not a single str; wrap it in a list")
        if isinstance(ids, AsyncIterable):
            self._async = aiter(ids)
            self._sync = None
        elif isinstance(ids, Iterable):
            self._async = None
            self._sync = iter(ids)
        else:
            raise TypeError(f"ids must be an iterable or async iterable, not {type(ids).__name__}")
        self._lock = asyncio.Lock()
        self._next_index = 0
        self._exhausted = False
        self.failure: Exception | None = None  # what the iterable raised, if it did

    async def next(self) -> tuple[int, TicketId] | None:
        async with self._lock:
            if self._exhausted:
                return None
            try:
                if self._async is not None:
                    item = await anext(self._async)
                else:
                    assert self._sync is not None
                    item = next(self._sync)
            except (StopIteration, StopAsyncIteration):
                self._exhausted = True
                return None
            except Exception as exc:  # raised once every id read before it has its result
                self._exhausted = True
                self.failure = exc
                return None
            index = self._next_index
            self._next_index += 1
            return index, item

    def stop(self) -> None:
        """Hand out no more ids."""
        self._exhausted = True

    async def close(self) -> None:
        """Close the ids iterator, if it has a ``close()`` or ``aclose()`` (generators do)."""
        if self._async is not None:
            aclose = getattr(self._async, "aclose", None)
            if aclose is not None:
                await aclose()
        else:
            close = getattr(self._sync, "close", None)
            if close is not None:
                close()


async def fetch_many(
    fetch: Callable[[TicketId], Awaitable[Ticket]],
    ids: TicketIds,
    *,
    concurrency: int,
    ordered: bool,
    on_result: Callable[[TicketResult], Any] | None,
) -> AsyncGenerator[TicketResult, None]:
    """Yield one ``TicketResult`` per id, fetching with ``fetch`` on ``concurrency`` workers."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be an int >= 1, not {concurrency!r}")
    source = _Source(ids)
    queue: asyncio.Queue[TicketResult | _Done] = asyncio.Queue(maxsize=concurrency)
    window = 2 * concurrency  # ordered mode: how far past the next result to yield workers go
    next_to_yield = 0
    advanced = asyncio.Condition()
    stopping = False

    def _within(index: int) -> bool:
        return index < next_to_yield + window

    async def one(index: int, ticket_id: TicketId) -> TicketResult:
        try:
            ticket = await fetch(ticket_id)
        except ClientClosedError:
            raise
        except IntercomError as error:
            return TicketResult(ticket_id, None, error, index)
        return TicketResult(ticket_id, ticket, None, index)

    async def worker() -> None:
        failure: BaseException | None = None
        try:
            while (item := await source.next()) is not None:
                index, ticket_id = item
                if ordered and index >= next_to_yield + window:
                    async with advanced:
                        await advanced.wait_for(partial(_within, index))
                result = await one(index, ticket_id)
                if stopping:
                    return
                await queue.put(result)
        except Exception as exc:  # a bug or a closed client: the consumer re-raises it
            failure = exc
        if not stopping:
            await queue.put(_Done(failure))

    workers = [
        asyncio.create_task(worker(), name=f"intercom_async.get_many worker {n}")
        for n in range(concurrency)
    ]
    running = len(workers)
    held: dict[int, TicketResult] = {}
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
        source.stop()
        for task in workers:
            task.cancel()
        while not queue.empty():  # a worker blocked on a full queue goes on, and then stops
            queue.get_nowait()
        await asyncio.gather(*workers, return_exceptions=True)
        await source.close()
