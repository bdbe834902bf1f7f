"""The client inside web apps, as users run it: one shared client, handlers with deadlines,
browsers that go away. A FastAPI app under a real uvicorn, and an aiohttp.web app that cancels
a handler when its client disconnects; both against a ``FakeIntercom`` with slow answers. After
the storm the shared client must be as good as new: nothing counted in flight, and quick
answers.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
import uvicorn
from aiohttp import web
from fastapi import FastAPI, HTTPException, Request

from intercom_async import IntercomClient, NotFoundError, RetryPolicy, to_dict
from intercom_async.testing import FakeIntercom, Fault

SLOW = [str(n) for n in range(1, 31) if n % 3 == 0]  # a third of the tickets take 1 s


@pytest.fixture
async def fake() -> AsyncIterator[FakeIntercom]:
    async with FakeIntercom(tickets=30, parts=2, rate_limit=500, window=1.0) as server:
        for ticket_id in SLOW:
            server.inject(ticket_id, Fault.slow(1.0), times=None)
        yield server


def healthy(client: IntercomClient) -> None:
    assert client._pacer.in_flight == 0
    assert client._pacer.queued == 0
    slots = client._transport.slots
    assert slots is not None and slots._value == client._session.max_connections


def fastapi_app(fake: FakeIntercom) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with fake.client(retry=RetryPolicy(max_delay=5)) as client:
            app.state.intercom = client
            yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/tickets/{ticket_id}")
    async def show_ticket(ticket_id: str, request: Request) -> Any:
        client: IntercomClient = request.app.state.intercom
        try:
            async with asyncio.timeout(0.3):  # the handler's deadline
                ticket = await client.tickets.get(ticket_id)
        except TimeoutError:
            raise HTTPException(status_code=504) from None
        except NotFoundError:
            raise HTTPException(status_code=404) from None
        return to_dict(ticket)

    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_fastapi_handlers_under_deadlines_leave_the_client_healthy(
    fake: FakeIntercom,
) -> None:
    app = fastapi_app(fake)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as browser:

            async def visit(ticket_id: str) -> int:
                async with browser.get(f"/tickets/{ticket_id}") as response:
                    await response.read()
                    return response.status

            for _ in range(3):  # waves of visitors, a third of whom time out
                statuses = await asyncio.gather(*(visit(str(n)) for n in range(1, 31)))
                assert sorted(set(statuses)) == [200, 504]
                assert statuses.count(504) == len(SLOW)
            client: IntercomClient = app.state.intercom
            await asyncio.sleep(1.1)  # the slow answers the deadlines gave up on arrive
            healthy(client)
            started = time.monotonic()
            assert await visit("1") == 200
            assert await visit("no-such-ticket") == 404
            assert time.monotonic() - started < 1.0
    finally:
        server.should_exit = True
        await serving


async def test_aiohttp_handlers_cancelled_by_disconnects_leave_the_client_healthy(
    fake: FakeIntercom,
) -> None:
    client = fake.client(retry=RetryPolicy(max_delay=5))

    async def show_ticket(request: web.Request) -> web.Response:
        ticket = await client.tickets.get(request.match_info["ticket_id"])
        return web.json_response(to_dict(ticket))

    app = web.Application()
    app.router.add_get("/tickets/{ticket_id}", show_ticket)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        timeout = aiohttp.ClientTimeout(total=0.3)  # the browser gives up, and hangs up
        async with aiohttp.ClientSession(base, timeout=timeout) as browser:

            async def visit(ticket_id: str) -> int | None:
                try:
                    async with browser.get(f"/tickets/{ticket_id}") as response:
                        await response.read()
                        return response.status
                except TimeoutError:
                    return None

            for _ in range(3):
                statuses = await asyncio.gather(*(visit(str(n)) for n in range(1, 31)))
                assert statuses.count(None) == len(SLOW)
                assert statuses.count(200) == 30 - len(SLOW)
            await asyncio.sleep(0.2)
            healthy(client)
            started = time.monotonic()
            assert await visit("1") == 200
            assert time.monotonic() - started < 1.0
    finally:
        await runner.cleanup()
        await client.aclose()
