"""Intercom tickets served by a FastAPI app: one client for the app's life, short calls.

Run it with ``INTERCOM_ACCESS_TOKEN=... uvicorn examples.fastapi_app:app`` from the
repository root (``INTERCOM_BASE_URL`` points it elsewhere than Intercom's US region: a
proxy, or ``intercom-async fake``). docs/web-apps.md explains each part.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from intercom_async import (
    IntercomClient,
    IntercomError,
    InvalidTicketIdError,
    NotFoundError,
    RetryPolicy,
    TransportError,
    to_dict,
)

T = TypeVar("T")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # One client (one connection pool, one rate-limit pacer) for the whole app.
    async with IntercomClient(base_url=os.environ.get("INTERCOM_BASE_URL")) as client:
        # A page waits 5 s at most, retries included; a bulk endpoint may wait longer.
        app.state.intercom = client.with_options(
            retry=RetryPolicy(max_attempts=3, max_delay=5.0), timeout=2.0
        )
        app.state.intercom_bulk = client.with_options(retry=RetryPolicy(max_delay=30.0))
        yield


app = FastAPI(lifespan=lifespan)


def http_status(error: IntercomError) -> int:
    """The status to answer our own caller with, when Intercom failed or said no."""
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, InvalidTicketIdError):
        return 400
    if isinstance(error, TransportError) and error.timed_out:
        return 504
    return 502  # Intercom failed, or refused us: not our caller's fault


@app.exception_handler(IntercomError)
async def intercom_failed(request: Request, error: IntercomError) -> JSONResponse:
    return JSONResponse(error.to_dict(), status_code=http_status(error))


@app.get("/tickets/{ticket_id}")
async def get_ticket(ticket_id: str, request: Request) -> Any:
    client: IntercomClient = request.app.state.intercom
    ticket = await client.tickets.get(ticket_id)
    return to_dict(ticket)


@app.get("/tickets")
async def get_tickets(request: Request, ids: str = Query(max_length=2000)) -> dict[str, Any]:
    wanted = [part for part in ids.split(",") if part]
    if not wanted or len(wanted) > 100:
        raise HTTPException(400, "give 1 to 100 comma-separated ticket ids")
    client: IntercomClient = request.app.state.intercom_bulk
    results = await until_disconnected(request, client.tickets.get_all(wanted))
    return {
        "tickets": [to_dict(r.ticket) for r in results if r.ticket is not None],
        "errors": {str(r.id): r.error.to_dict() for r in results if r.error is not None},
    }


async def until_disconnected(request: Request, work: Awaitable[T]) -> T:
    """Await ``work``, cancelled if the caller goes away first (uvicorn does not cancel it)."""
    task = asyncio.ensure_future(work)

    async def watch() -> None:  # the request's body is read: what comes next is the disconnect
        while (await request.receive())["type"] != "http.disconnect":
            pass
        task.cancel()

    watcher = asyncio.create_task(watch())
    try:
        return await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise  # this handler itself is cancelled (the server is stopping)
        raise HTTPException(499, "the caller went away") from None
    finally:
        watcher.cancel()
