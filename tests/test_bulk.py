"""Bulk retrieval: one result per id, bounded concurrency and memory, cancellation."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp import web

from intercom_async import (
    AuthenticationError,
    IntercomClient,
    InvalidTicketIdError,
    NotFoundError,
    PermissionDeniedError,
    RetryPolicy,
    TicketId,
    TicketResult,
)

from .conftest import TOKEN, Handler, ScriptedServer, error_answer, ticket_answer


class InFlight:
    """A handler that answers after ``delay`` and tracks how many requests it holds at once."""

    def __init__(self, delay: float = 0.01) -> None:
        self.delay = delay
        self.now = 0
        self.peak = 0
        self.cancelled = 0

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            delay = self.delay
            if request.match_info["id"].startswith("slow"):
                delay *= 10
            await asyncio.sleep(delay)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.now -= 1
        return await ticket_answer()(request)


async def test_a_generator_is_read_lazily_with_bounded_concurrency(
    server: ScriptedServer, client: IntercomClient
) -> None:
    handler = InFlight()
    server.script(handler)
    pulled = 0

    def ids() -> Iterator[str]:
        nonlocal pulled
        for i in range(300):
            pulled += 1
            yield str(i)

    seen: Counter[str] = Counter()
    pulled_at_first_result = None
    async for result in client.tickets.get_many(ids(), concurrency=8):
        if pulled_at_first_result is None:
            pulled_at_first_result = pulled
        assert result.ok, result.error
        assert result.ticket is not None and result.ticket.id == result.id
        seen[str(result.id)] += 1

    assert seen == Counter(str(i) for i in range(300))
    assert handler.peak == 8
    assert pulled_at_first_result is not None and pulled_at_first_result <= 8 + 8 + 1


async def test_ordered_results_follow_the_input(
    server: ScriptedServer, client: IntercomClient
) -> None:
    server.script(InFlight())
    ids = [f"slow{i}" if i % 7 == 0 else str(i) for i in range(60)]

    results = [r async for r in client.tickets.get_many(ids, concurrency=5, ordered=True)]

    assert [r.id for r in results] == ids
    assert [r.index for r in results] == list(range(60))


async def test_completion_order_by_default(server: ScriptedServer, client: IntercomClient) -> None:
    server.script(InFlight(delay=0.02))
    results = [r.id async for r in client.tickets.get_many(["slow0", "1", "2"], concurrency=3)]
    assert results[-1] == "slow0"
    assert sorted(results) == ["1", "2", "slow0"]


async def test_failures_are_results_and_duplicates_are_fetched_each_time(
    server: ScriptedServer, client: IntercomClient
) -> None:
    not_found = error_answer(404, "not_found", "Ticket Not Found")
    found = ticket_answer()

    async def route(request: web.Request) -> web.StreamResponse:
        handler = not_found if request.match_info["id"] == "gone" else found
        return await handler(request)

    server.script(route)
    heard: list[TicketResult] = []

    results = await client.tickets.get_all(
        ["1", "gone", "1", "", 2], concurrency=2, on_result=heard.append
    )

    assert [r.id for r in results] == ["1", "gone", "1", "", 2]
    assert [r.ok for r in results] == [True, False, True, False, True]
    assert isinstance(results[1].error, NotFoundError) and results[1].ticket is None
    assert isinstance(results[3].error, InvalidTicketIdError)
    assert server.count("1") == 2
    assert sorted(r.index for r in heard) == [0, 1, 2, 3, 4]


async def test_async_iterables_of_ids(server: ScriptedServer, client: IntercomClient) -> None:
    async def ids() -> AsyncIterator[int]:
        for i in range(25):
            await asyncio.sleep(0)
            yield i

    results = [r async for r in client.tickets.get_many(ids(), concurrency=4, ordered=True)]
    assert [r.id for r in results] == list(range(25))
    assert all(r.ok for r in results)


def _workers() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("intercom_async.")]


async def test_breaking_out_cancels_what_is_in_flight(
    server: ScriptedServer, client: IntercomClient
) -> None:
    handler = InFlight(delay=0.5)
    server.script(handler)
    results = client.tickets.get_many((str(i) for i in range(1000)), concurrency=6)
    async with contextlib.aclosing(results):
        async for result in results:
            assert result.ok
            assert len(_workers()) == 6  # the workers, named as such
            break

    assert _workers() == []
    for _ in range(50):
        if handler.now == 0:
            break
        await asyncio.sleep(0.02)
    assert handler.now == 0
    assert handler.cancelled >= 5  # the connections in flight were closed, not left to finish
    assert server.count() <= 6 + 6
    await client.tickets.get("after")  # the client and its pool still work


async def test_cancelling_the_consumer_cancels_the_fetches(
    server: ScriptedServer, client: IntercomClient
) -> None:
    handler = InFlight(delay=5)
    server.script(handler)
    started = asyncio.Event()

    async def consume() -> None:
        async for _ in client.tickets.get_many(map(str, range(100)), concurrency=4):
            pass

    async def watch() -> None:
        while handler.now < 4:
            await asyncio.sleep(0.01)
        started.set()

    consumer = asyncio.create_task(consume())
    await asyncio.wait_for(watch(), 5)
    assert started.is_set()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert _workers() == []
    assert server.count() == 4
    for _ in range(50):  # the server sees the connections close and cancels its handlers
        if handler.now == 0:
            break
        await asyncio.sleep(0.02)
    assert handler.cancelled == 4


@pytest.mark.parametrize("concurrency", [0, -1, 1.5, True])
async def test_bad_concurrency(client: IntercomClient, concurrency: object) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        async for _ in client.tickets.get_many(["1"], concurrency=concurrency):  # type: ignore[arg-type]
            pass


@pytest.mark.parametrize(
    ("ids", "said"), [("1295", "not a single str"), (12, "not int"), (None, "not NoneType")]
)
async def test_ids_must_be_an_iterable_of_ids(
    client: IntercomClient, ids: object, said: str
) -> None:
    with pytest.raises(TypeError, match=f"^ids must be .*{said}"):
        await client.tickets.get_all(ids)  # type: ignore[arg-type]


async def test_a_closed_client_stops_the_iteration(server: ScriptedServer) -> None:
    client = IntercomClient(TOKEN, base_url=server.base_url, retry=RetryPolicy.no_wait())
    await client.aclose()
    with pytest.raises(Exception, match="closed"):
        await client.tickets.get_all(["1", "2"])


@pytest.mark.parametrize("ordered", [False, True])
async def test_ids_read_before_the_iterable_fails_still_get_their_results(
    server: ScriptedServer, client: IntercomClient, ordered: bool
) -> None:
    server.script(InFlight(delay=0.05))

    def ids() -> Iterator[str]:
        yield from map(str, range(10))
        raise RuntimeError("the ids file went away")

    seen: list[str] = []

    async def consume() -> None:
        async for result in client.tickets.get_many(ids(), concurrency=4, ordered=ordered):
            seen.append(str(result.id))

    with pytest.raises(RuntimeError, match="went away"):
        await consume()
    assert sorted(seen, key=int) == [str(i) for i in range(10)]


class Gate:
    """A handler that holds the answer for id ``held`` until released, and answers the rest."""

    def __init__(self, held: str) -> None:
        self.held = held
        self.release = asyncio.Event()

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["id"] == self.held:
            await self.release.wait()
        return await ticket_answer()(request)


@pytest.mark.parametrize("concurrency", [2, 3, 5])
async def test_in_order_the_workers_go_twice_the_concurrency_past_a_slow_result(
    server: ScriptedServer, client: IntercomClient, concurrency: int
) -> None:
    gate = Gate("slow")
    server.script(gate)
    ids = ["slow", *map(str, range(1, 40))]
    results = client.tickets.get_many(ids, concurrency=concurrency, ordered=True)
    first = asyncio.ensure_future(anext(results))
    await asyncio.sleep(0.3)
    # Results 1 to 2c-1 wait for the first; the workers stop short of the one after.
    assert [seen.ticket_id for seen in server.seen] == ids[: 2 * concurrency]
    assert not first.done()
    gate.release.set()
    assert (await first).id == "slow"
    rest = [result.id async for result in results]
    assert rest == ids[1:]


async def test_one_worker_fetches_one_at_a_time_in_order(
    server: ScriptedServer, client: IntercomClient
) -> None:
    handler = InFlight(delay=0.005)
    server.script(handler)
    ids = [f"slow{i}" if i % 3 == 0 else str(i) for i in range(12)]
    results = [r.id async for r in client.tickets.get_many(ids, concurrency=1)]
    assert results == ids  # one worker: completion order is input order
    assert handler.peak == 1


class Unruly:
    """An iterator that goes on after it has ended, or raised: ``get_many`` must not."""

    def __init__(self, fail_at: int | None) -> None:
        self.calls = 0
        self.fail_at = fail_at

    def __iter__(self) -> Unruly:
        return self

    def __next__(self) -> str:
        self.calls += 1
        if self.calls == self.fail_at:
            raise LookupError("the cursor broke")
        if self.calls == 4:
            raise StopIteration
        return str(self.calls)


async def test_no_id_is_read_after_the_ids_ended(
    server: ScriptedServer, client: IntercomClient
) -> None:
    ids = Unruly(fail_at=None)
    results = [r.id async for r in client.tickets.get_many(ids, concurrency=4)]
    assert sorted(results) == ["1", "2", "3"]
    assert ids.calls == 4


async def test_no_id_is_read_after_the_ids_failed(
    server: ScriptedServer, client: IntercomClient
) -> None:
    ids = Unruly(fail_at=3)
    got: list[TicketId] = []

    async def consume() -> None:
        async for result in client.tickets.get_many(ids, concurrency=4):
            got.append(result.id)

    with pytest.raises(LookupError, match="the cursor broke"):
        await consume()
    assert sorted(got) == ["1", "2"]  # those read before it, and no more
    assert ids.calls == 3


class Numbers:
    """An async iterator with no ``aclose()`` (not a generator)."""

    def __init__(self) -> None:
        self.n = 0

    def __aiter__(self) -> Numbers:
        return self

    async def __anext__(self) -> str:
        self.n += 1
        return str(self.n)


async def test_stopping_early_leaves_an_iterator_that_cannot_be_closed(
    server: ScriptedServer, client: IntercomClient
) -> None:
    async with contextlib.aclosing(client.tickets.get_many(Numbers())) as results:
        async for _result in results:
            break  # nothing to close, and nothing raised


async def test_ids_that_swallow_the_cancellation_do_not_hang_the_stop(
    server: ScriptedServer, client: IntercomClient
) -> None:
    async def stubborn() -> AsyncIterator[str]:
        n = 0
        while True:
            n += 1
            with contextlib.suppress(asyncio.CancelledError):  # a badly behaved source
                await asyncio.sleep(0.01)
            yield str(n)

    async with asyncio.timeout(5):
        async with contextlib.aclosing(
            client.tickets.get_many(stubborn(), concurrency=3)
        ) as results:
            async for _result in results:
                break
    assert _workers() == []


# -- a refused token (issue 16, defect 10) ----------------------------------------------------


def _refuse(refused: set[str], status: int = 401) -> Handler:
    unauthorized = error_answer(
        status, "unauthorized", "Access Token Invalid", headers={"X-Request-Id": "req-refused"}
    )
    found = ticket_answer()

    async def route(request: web.Request) -> web.StreamResponse:
        return await (unauthorized if request.match_info["id"] in refused else found)(request)

    return route


@pytest.mark.parametrize("ordered", [False, True])
async def test_after_a_401_no_more_ids_are_sent(
    server: ScriptedServer, client: IntercomClient, ordered: bool
) -> None:
    server.script(_refuse({"3", "5"}))
    heard: list[TicketResult] = []
    ids = (str(i) for i in range(1, 11))

    results = [
        r
        async for r in client.tickets.get_many(
            ids, concurrency=1, ordered=ordered, on_result=heard.append
        )
    ]

    assert [s.ticket_id for s in server.seen] == ["1", "2", "3"]
    assert [(r.id, r.index, r.ok, r.skipped) for r in results] == [
        ("1", 0, True, False),
        ("2", 1, True, False),
        ("3", 2, False, False),
        *((str(i), i - 1, False, True) for i in range(4, 11)),
    ]
    refusal = results[2].error
    assert isinstance(refusal, AuthenticationError) and refusal.status == 401
    assert all(r.error is refusal and r.ticket is None for r in results[3:])
    assert heard == results
    refused = results[2]
    assert (refused.request_id, refused.attempts) == ("req-refused", 1)
    assert refused.elapsed > 0
    assert {(r.request_id, repr(r.attempts), r.elapsed) for r in results[3:]} == {(None, "0", 0.0)}


async def test_ids_in_flight_when_the_401_comes_are_not_skipped(
    server: ScriptedServer, client: IntercomClient
) -> None:
    arrived = 0
    release = asyncio.Event()
    refuse = error_answer(401, "unauthorized", "Access Token Invalid")

    async def hold_then_refuse(request: web.Request) -> web.StreamResponse:
        nonlocal arrived
        arrived += 1
        if arrived == 3:
            release.set()
        await release.wait()
        return await refuse(request)

    server.script(hold_then_refuse)
    heard: list[TicketResult] = []
    ids = [str(i) for i in range(20)]
    results = await client.tickets.get_all(ids, concurrency=3, on_result=heard.append)

    assert server.count() == 3
    assert [r.skipped for r in results] == [False] * 3 + [True] * 17
    assert all(isinstance(r.error, AuthenticationError) for r in results)
    first = next(r.error for r in heard if not r.skipped)  # the first 401 to come back
    assert all(r.error is first for r in results[3:])


@pytest.mark.parametrize("status", [403, 404])
async def test_other_refusals_do_not_stop_the_fetch(
    server: ScriptedServer, client: IntercomClient, status: int
) -> None:
    server.script(_refuse({"2"}, status))
    results = await client.tickets.get_all(["1", "2", "3", "4"], concurrency=1)
    assert server.count() == 4
    assert [(r.ok, r.skipped) for r in results] == [
        (True, False),
        (False, False),
        (True, False),
        (True, False),
    ]
    assert isinstance(results[1].error, PermissionDeniedError if status == 403 else NotFoundError)


def test_a_result_is_not_skipped_unless_it_says_so() -> None:
    assert TicketResult("1", None, None, 0).skipped is False
