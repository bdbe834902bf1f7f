"""The request path's structure (issue 17): one generic path for every endpoint, resources bound
to a small requester interface, rate-limit headers parsed once per answer, a generic bulk fetch."""

from __future__ import annotations

import ast
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiohttp import web

import intercom_async
from intercom_async import IntercomClient, RetryPolicy, Ticket, _bulk, _limits
from intercom_async._errors import IntercomError, NotFoundError

from .conftest import TOKEN, ScriptedServer, load, ticket_answer

PACKAGE = Path(intercom_async.__file__).parent


def _imports(module: str) -> set[str]:
    """The intercom_async modules ``module`` imports, under TYPE_CHECKING too."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    return {
        node.module.lstrip(".")
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 1
    }


def test_resources_depend_on_the_requester_interface_not_on_the_client() -> None:
    assert "_client" not in _imports("_tickets")
    assert "_transport" not in _imports("_tickets")
    assert "_requester" in _imports("_tickets")
    assert "_tickets" in _imports("_client")


@attrs.define
class Posted:
    """A real server for any method and path, that answers 503 first, then the ticket."""

    bodies: list[tuple[str, str, str | None, bytes]] = attrs.Factory(list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.bodies.append((request.method, request.path, request.content_type, body))
        if len(self.bodies) == 1:
            return web.json_response({"type": "error.list", "errors": []}, status=503)
        return web.json_response(load("reference_example.json"))


@pytest.fixture
async def posted() -> AsyncIterator[tuple[Posted, str]]:
    server = Posted()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_a_json_body_is_sent_as_json_and_resent_the_same_on_retry(
    posted: tuple[Posted, str],
) -> None:
    server, url = posted
    query = {"query": {"field": "open", "operator": "=", "value": True}, "pagination": None}
    async with IntercomClient(TOKEN, base_url=url, retry=RetryPolicy.no_wait()) as client:
        ticket = await client.request("POST", "/tickets/search", Ticket, json=query)
    assert isinstance(ticket, Ticket)
    assert len(server.bodies) == 2  # the 503, then the retry
    for method, path, content_type, body in server.bodies:
        assert (method, path, content_type) == ("POST", "/tickets/search", "application/json")
        assert json.loads(body) == query
    assert server.bodies[0][3] == server.bodies[1][3]


async def test_a_get_sends_no_body_and_no_content_type(posted: tuple[Posted, str]) -> None:
    server, url = posted
    async with IntercomClient(TOKEN, base_url=url, retry=RetryPolicy.no_wait()) as client:
        await client.tickets.get("1")
    assert [(m, p, b) for m, p, _, b in server.bodies] == [("GET", "/tickets/1", b"")] * 2


async def test_each_answer_s_rate_limit_headers_are_parsed_once(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 429 (its wait said by the reset) then a ticket: two answers, two parses, whoever
    (pacer, retry policy) needs them."""
    parsed: list[object] = []
    from_headers = _limits.RateLimit.from_headers.__func__  # type: ignore[attr-defined]

    def counting(cls: type[_limits.RateLimit], headers: Any) -> Any:
        parsed.append(headers)
        return from_headers(cls, headers)

    monkeypatch.setattr(_limits.RateLimit, "from_headers", classmethod(counting))
    reset = str(int(time.time()))  # already past: the retry goes at once
    limited = {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
    server.script(ticket_answer(status=429, headers=limited), ticket_answer())
    policy = RetryPolicy(max_attempts=2, initial_backoff=0, max_backoff=0, max_delay=10)
    async with IntercomClient(TOKEN, base_url=server.base_url, retry=policy) as client:
        await client.tickets.get("1")
    assert server.count() == 2
    assert len(parsed) == 2


async def test_a_view_binds_its_own_resources(server: ScriptedServer) -> None:
    async with IntercomClient(TOKEN, base_url=server.base_url) as client:
        view = client.with_options(retry=RetryPolicy.never())
        assert view.tickets is not client.tickets
        assert view.tickets._requester is view
        assert client.tickets._requester is client
        assert view._session is client._session and view._quota is client._quota
        assert view.retry == RetryPolicy.never() and client.retry == RetryPolicy()


@attrs.frozen
class Outcome:
    key: int
    value: str | None
    error: IntercomError | None
    index: int
    skipped: bool = False
    request_id: str | None = None
    attempts: int = 0
    elapsed: float = 0.0


async def test_the_bulk_fetch_is_generic_over_what_it_fetches() -> None:
    async def fetch(key: int) -> str:
        if key == 3:
            raise NotFoundError(404)
        return f"thing {key}"

    results = [
        outcome
        async for outcome in _bulk.fetch_many(
            fetch, range(5), concurrency=2, ordered=True, on_result=None, result=Outcome
        )
    ]
    assert [(r.key, r.value, r.index) for r in results] == [
        (0, "thing 0", 0),
        (1, "thing 1", 1),
        (2, "thing 2", 2),
        (3, None, 3),
        (4, "thing 4", 4),
    ]
    assert isinstance(results[3].error, NotFoundError)
