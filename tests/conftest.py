"""Shared fixtures: example documents, a scripted aiohttp server on 127.0.0.1, a real Redis."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiohttp import web
from hypothesis import settings

from intercom_async import IntercomClient, RateLimitWaitEvent, RetryPolicy
from intercom_async._observe import Call, CallSink, CallStart

# A real redis-server: the fixtures and the end-of-run note when they skipped (redis_fixture.py).
from .redis_fixture import (  # noqa: F401 - registered with pytest by being names here
    own_redis_server,
    pytest_terminal_summary,
    redis_server,
    redis_url,
)

# `make mutate` runs the tests with `--hypothesis-profile mutate`: the same examples every run,
# so that whether a mutant is caught is the mutant's doing, not the draw's.
settings.register_profile("mutate", derandomize=True, database=None)

# A shell that starts the tests in the background (`make test &`, `nohup ... &`, some CI
# runners) starts them with SIGINT ignored, and a child process inherits that: the command-line
# tests' Ctrl-C would then never reach the CLI (Python leaves an ignored SIGINT ignored, as a
# background program should). Those tests are about what the CLI does with a Ctrl-C it gets.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

DATA = Path(__file__).parent / "data"
TOKEN = "tok_Zq8-distinctive-SECRET-9f3"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def drop_nulls(value: Any) -> Any:
    """What ``to_dict`` gives for a valid ticket: the JSON with null-valued keys left out."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@attrs.define
class Seen:
    """One request the scripted server received."""

    path: str
    raw_path: str
    ticket_id: str
    headers: dict[str, str]
    time: float


@attrs.define
class ScriptedServer:
    """A real aiohttp server whose answer to ``GET /tickets/{id}`` each test scripts.

    ``answers`` is a list of handlers used one per request, in order (the last one repeats);
    ``seen`` is every request received.
    """

    base_url: str = ""
    answers: list[Handler] = attrs.Factory(list)
    seen: list[Seen] = attrs.Factory(list)

    def script(self, *handlers: Handler) -> None:
        self.answers = list(handlers)

    def count(self, ticket_id: str | None = None) -> int:
        return sum(1 for s in self.seen if ticket_id is None or s.ticket_id == ticket_id)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(
            Seen(
                path=request.path,
                raw_path=request.raw_path,
                ticket_id=request.match_info["id"],
                headers=dict(request.headers),
                time=time.time(),
            )
        )
        if not self.answers:
            return await ticket_answer()(request)
        handler = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return await handler(request)


def ticket_answer(
    data: Any = None, *, status: int = 200, headers: dict[str, str] | None = None
) -> Handler:
    """A handler answering with ``data`` as JSON (the reference example by default)."""
    body = load("reference_example.json") if data is None else data

    async def handler(request: web.Request) -> web.StreamResponse:
        payload = body
        if data is None:
            payload = {**body, "id": request.match_info["id"]}
        return web.json_response(payload, status=status, headers=headers)

    return handler


def slow_answer(seconds: float) -> Handler:
    """A handler answering with the reference ticket, ``seconds`` late."""

    async def handler(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return await ticket_answer()(request)

    return handler


def error_answer(
    status: int, code: str, message: str = "", *, headers: dict[str, str] | None = None
) -> Handler:
    """A handler answering with an Intercom ``error.list``."""
    body = {
        "type": "error.list",
        "request_id": f"req-{status}-{code}",
        "errors": [{"code": code, "message": message or code.replace("_", " ")}],
    }
    return ticket_answer(body, status=status, headers=headers)


def raw_answer(
    body: bytes, *, status: int = 200, content_type: str = "application/json"
) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, status=status, headers={"Content-Type": content_type})

    return handler


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    scripted = ScriptedServer()
    app = web.Application()
    app.router.add_get("/tickets/{id:.*}", scripted.handle)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    scripted.base_url = f"http://127.0.0.1:{port}"
    yield scripted
    await runner.cleanup()


@pytest.fixture
async def client(server: ScriptedServer) -> AsyncIterator[IntercomClient]:
    async with IntercomClient(
        TOKEN, base_url=server.base_url, retry=RetryPolicy.no_wait(), timeout=5
    ) as c:
        yield c


class Waits(CallSink):
    """Hears the rate-limit waits of one call."""

    def __init__(self) -> None:
        self.events: list[RateLimitWaitEvent] = []

    async def rate_limit_wait(self, event: RateLimitWaitEvent) -> None:
        self.events.append(event)


def observed() -> tuple[Call, Waits]:
    """A call (``GET /tickets/1``) to hand a pacer, and what hears its waits."""
    sink = Waits()
    return Call((sink,), CallStart("GET", "/tickets/{id}", "/tickets/1"), time.monotonic), sink
