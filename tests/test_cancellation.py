"""Cancellation at every point where a request can wait, and the client left as it was.

A request suspends at six points: waiting for the rate-limit window, for the local cap's slot,
for a pooled connection, for the answer (sending), for the body, and in a retry's backoff. For
each, ``get`` and ``get_many`` (with and without ``max_requests_per_second``) are cancelled there
by ``task.cancel()`` and by an ``asyncio.timeout`` deadline, as a web app's request handler would
be. Then the client must be as it was: nothing counted in flight, nobody queued, every pooled
connection free, and the next request goes out at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import aclosing
from typing import Any

import pytest
from aiohttp import web

from intercom_async import IntercomClient, RetryPolicy

from .conftest import TOKEN, load

Point = str
POINTS: list[Point] = ["window", "cap", "pool", "send", "body", "backoff"]
HOW = ["cancel", "deadline"]


class Server:
    """Answers by the ticket id's first word: ``ok``, ``spent`` (the window is used up for half
    a minute), ``hang`` (no answer until released), ``halfbody`` (headers, part of the body,
    then nothing until released), ``busy`` (503)."""

    def __init__(self) -> None:
        self.base_url = ""
        self.release = asyncio.Event()
        self.arrived: dict[str, asyncio.Event] = {}
        self.seen: list[tuple[str, float]] = []
        self.body = _ticket_body()

    def arrival(self, ticket_id: str) -> asyncio.Event:
        return self.arrived.setdefault(ticket_id, asyncio.Event())

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket_id = request.match_info["id"]
        self.seen.append((ticket_id, time.monotonic()))
        self.arrival(ticket_id).set()
        kind = ticket_id.split("-")[0]
        headers = {"Content-Type": "application/json"}
        if kind == "spent":
            headers.update(
                {
                    "X-RateLimit-Limit": "10",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(int(time.time()) + 30),
                }
            )
        if kind == "hang":
            await self.release.wait()
        if kind == "busy":
            return web.json_response({"type": "error.list", "errors": []}, status=503)
        if kind == "halfbody":
            response = web.StreamResponse(headers=headers)
            response.content_length = len(self.body)
            await response.prepare(request)
            await response.write(self.body[:100])
            await self.release.wait()
            await response.write(self.body[100:])
            return response
        return web.Response(body=self.body, headers=headers)


def _ticket_body() -> bytes:
    import json

    return json.dumps(load("reference_example.json")).encode()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    gate = Server()
    app = web.Application()
    app.router.add_get("/tickets/{id}", gate.handle)
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    gate.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield gate
    gate.release.set()
    await runner.cleanup()


def make_client(server: Server, point: Point, *, rate: float | None = None) -> IntercomClient:
    policy = RetryPolicy(initial_backoff=30.0, max_backoff=30.0, max_delay=60.0, jitter=False)
    return IntercomClient(
        TOKEN,
        base_url=server.base_url,
        retry=policy if point == "backoff" else RetryPolicy.never(),
        max_connections=1 if point == "pool" else 4,
        # One a second: the next slot is a second after the set-up's request, so that a deadline
        # of 0.4 s lands while the request waits for it, however long that request took.
        max_requests_per_second=1 if point == "cap" else rate,
        timeout=10,
    )


async def set_up(server: Server, client: IntercomClient, point: Point) -> str:
    """Bring the client to where a request of the returned id will wait at ``point``."""
    if point == "window":
        await client.tickets.get("spent-0")  # the window is used up for half a minute
        return "ok-1"
    if point == "cap":
        await client.tickets.get("ok-0")  # the next slot is a second away
        return "ok-1"
    if point == "pool":
        asyncio.get_running_loop().create_task(client.tickets.get("hang-0"))
        await server.arrival("hang-0").wait()  # the one connection is taken
        return "ok-1"
    return {"send": "hang-1", "body": "halfbody-1", "backoff": "busy-1"}[point]


async def reached(
    server: Server, client: IntercomClient, point: Point, ticket_id: str, queued: int | None = 1
) -> None:
    """Wait until the request for ``ticket_id`` is suspended at ``point``."""
    if point in ("send", "body", "backoff"):
        await server.arrival(ticket_id).wait()
    await asyncio.sleep(0.05)
    if point in ("window", "cap") and queued is not None:
        assert client._pacer.queued == queued
    if point == "pool":
        assert client._transport.slots is not None and client._transport.slots.locked()


def snapshot(client: IntercomClient) -> dict[str, Any]:
    window = client._pacer._window
    return {"budget": window.budget, "end": window.end, "held": window.held_until}


async def check_left_as_it_was(
    server: Server, client: IntercomClient, point: Point, before: dict[str, Any]
) -> None:
    pacer = client._pacer
    assert pacer.queued == 0
    expected_in_flight = 1 if point == "pool" else 0  # the request holding the connection
    assert pacer.in_flight == expected_in_flight
    assert snapshot(client)["budget"] == before["budget"]
    assert snapshot(client)["end"] == before["end"]
    assert [t for t in asyncio.all_tasks() if "get_many" in t.get_name()] == []
    server.release.set()
    if point == "pool":
        await asyncio.sleep(0.1)  # the request that held the connection finishes
        assert pacer.in_flight == 0
    slots = client._transport.slots
    assert slots is not None and slots._value == client._session.max_connections
    if point == "window":
        return  # the window is still spent, as it was: nothing may go for half a minute
    started = time.monotonic()
    if point == "cap":
        await asyncio.wait_for(client.tickets.get("ok-next"), 2)  # at its slot, not later
        assert time.monotonic() - started < 1.1
        return
    await asyncio.wait_for(client.tickets.get("ok-next"), 1)
    assert time.monotonic() - started < 1.0  # at once (a loaded machine is slow)


async def cancel(call: Callable[[], Coroutine[Any, Any, object]], until: Awaitable[None]) -> None:
    """Run ``call()`` in a task, and cancel the task once ``until`` is done."""
    task = asyncio.create_task(call())
    await until
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("point", POINTS)
async def test_cancelling_a_get(server: Server, point: Point, how: str) -> None:
    async with make_client(server, point) as client:
        ticket_id = await set_up(server, client, point)
        before = snapshot(client)

        if how == "cancel":
            await cancel(
                lambda: client.tickets.get(ticket_id),
                reached(server, client, point, ticket_id),
            )
        else:
            # A deadline: it lands wherever the request is by then, which is at `point`.
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.4):
                    await client.tickets.get(ticket_id)
        await check_left_as_it_was(server, client, point, before)


def bulk_cases() -> list[tuple[Point, str]]:
    # Breaking out needs a result to break on while the others wait: where every request waits
    # (for the window, the cap's slot, the one connection), only cancelling can stop the loop.
    return [
        (point, how)
        for point in POINTS
        for how in ["break", *HOW]
        if not (how == "break" and point in ("window", "cap", "pool"))
    ]


@pytest.mark.parametrize("rate", [None, 50.0])
@pytest.mark.parametrize(("point", "how"), bulk_cases())
async def test_leaving_a_get_many(
    server: Server, point: Point, how: str, rate: float | None
) -> None:
    async with make_client(server, point, rate=rate) as client:
        await set_up(server, client, point)
        before = snapshot(client)
        kind = {"send": "hang", "body": "halfbody", "backoff": "busy"}.get(point, "ok")
        ids = [f"{kind}-{n}" for n in range(1, 4)]
        if how == "break":
            ids.insert(0, "ok-first")  # answered at once; the loop breaks on it

        async def consume() -> None:
            async with aclosing(client.tickets.get_many(ids, concurrency=4)) as results:
                async for _ in results:
                    if how == "break":
                        break

        if how == "break":
            await asyncio.wait_for(consume(), 3)
        elif how == "cancel":
            await cancel(consume, reached(server, client, point, ids[0], queued=None))
        else:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.4):
                    await consume()
        await check_left_as_it_was(server, client, point, before)
