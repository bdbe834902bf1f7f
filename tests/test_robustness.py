"""Regression tests for what real use broke: deadlines, early exits, odd headers, clocks.

Each test names the defect it guards against (issue 8):

1. leaving ``get_many`` early while the window is spent hung (``wait_for`` on 3.11);
2. a request cancelled while it waited for the local cap stayed counted in flight;
3. a client clock a little ahead of the server's stormed with 429s;
4. the pacer ignored ``Retry-After`` when a 429 also had ``X-RateLimit-Reset``;
5. exceptions outside the error tree (odd headers, bad settings accepted);
6. ``aclose()`` during a pool wait raised a bare ``RuntimeError``, and left backoffs sleeping;
8. ``Fault.status(429)`` under ``RetryPolicy.no_wait()`` slept until the fake's reset;
10. failures that can never succeed were retried;
11. ``get_many`` left an async ids iterator open when it stopped early.
"""

from __future__ import annotations

import asyncio
import gzip
import ssl
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aioresponses import aioresponses

from intercom_async import (
    ClientClosedError,
    IntercomClient,
    IntercomError,
    RetryPolicy,
    ServerError,
    TicketResult,
    TransportError,
)
from intercom_async.testing import FakeIntercom, Fault

from .conftest import TOKEN, ScriptedServer, error_answer, slow_answer, ticket_answer

# -- 1 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("stop_after", [3, 8])
async def test_leaving_get_many_while_the_window_is_spent_finishes(stop_after: int) -> None:
    async with (
        FakeIntercom(tickets=400, rate_limit=8, window=0.4, parts=1) as fake,
        fake.client() as client,
    ):
        async with asyncio.timeout(15):
            for _ in range(6):
                ids = (str(n) for n in range(1, 401))
                seen = 0
                async with aclosing(client.tickets.get_many(ids, concurrency=16)) as results:
                    async for _result in results:
                        seen += 1
                        if seen >= stop_after:
                            break
        assert client._pacer.in_flight == 0


async def test_an_on_result_that_raises_while_the_window_is_spent_ends_the_fetch() -> None:
    def stop(result: TicketResult) -> None:
        if result.index == 7:
            raise LookupError("enough")

    async with (
        FakeIntercom(tickets=100, rate_limit=8, window=0.4, parts=1) as fake,
        fake.client() as client,
    ):
        for _ in range(4):
            with pytest.raises(LookupError, match="enough"):
                async with asyncio.timeout(5):
                    await client.tickets.get_all(map(str, range(1, 101)), on_result=stop)


# -- 2 -----------------------------------------------------------------------------------------


async def test_requests_cancelled_while_they_wait_for_the_local_cap_are_not_leaked() -> None:
    async with (
        FakeIntercom(tickets=10, parts=1) as fake,
        fake.client(max_requests_per_second=10) as client,
    ):

        async def with_a_deadline(n: int) -> None:
            try:
                async with asyncio.timeout(0.5):
                    await client.tickets.get(str(n % 10 + 1))
            except TimeoutError:
                pass

        tasks = []
        for n in range(60):  # 20 a second against a cap of 10: most miss their deadline
            tasks.append(asyncio.create_task(with_a_deadline(n)))
            await asyncio.sleep(0.05)
        await asyncio.gather(*tasks)
        await asyncio.sleep(0.5)
        assert client._pacer.in_flight == 0
        await asyncio.wait_for(client.tickets.get("1"), 1)  # the idle client still works


async def test_leaving_get_many_under_a_local_cap_leaks_nothing() -> None:
    async with (
        FakeIntercom(tickets=10, parts=1) as fake,
        fake.client(max_requests_per_second=20) as client,
    ):
        for _ in range(5):
            async with aclosing(client.tickets.get_many(map(str, range(1, 11)))) as results:
                async for _result in results:
                    break
        assert client._pacer.in_flight == 0
        assert client._pacer.queued == 0
        await asyncio.wait_for(client.tickets.get("1"), 1)


# -- 3 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [0.0, -0.3, -1.5, 1.5])
async def test_clocks_that_disagree_do_not_storm(offset: float) -> None:
    async with FakeIntercom(
        tickets=60, rate_limit=15, window=0.5, parts=1, clock_offset=offset
    ) as fake:
        async with fake.client() as client:
            results = await client.tickets.get_all(map(str, range(1, 61)), concurrency=8)
        assert all(result.ok for result in results)
        too_many = sum(request.status == 429 for request in fake.requests)
        assert too_many <= (0 if offset == 0 else 3)  # it was 46 at -0.3 s, and 59 at -1.5 s


# -- 4 -----------------------------------------------------------------------------------------


async def test_retry_after_holds_every_request_not_only_the_one_retried(
    server: ScriptedServer,
) -> None:
    started = time.time()

    async def answer(request: web.Request) -> web.StreamResponse:
        if time.time() < started + 1.0:
            headers = {
                "Retry-After": "1",
                "X-RateLimit-Limit": "10",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(started + 0.2),
            }
            return await error_answer(429, "rate_limit_exceeded", headers=headers)(request)
        return await ticket_answer()(request)

    server.script(answer)
    policy = RetryPolicy(initial_backoff=0.05, max_backoff=0.05)
    async with IntercomClient(TOKEN, base_url=server.base_url, retry=policy) as client:
        first = asyncio.create_task(client.tickets.get("1"))
        await asyncio.sleep(0.1)
        await asyncio.gather(first, *(client.tickets.get(str(n)) for n in range(2, 6)))
    assert client.stats.rate_limited == 1


# -- 5 -----------------------------------------------------------------------------------------

HUGE_DATE = "Mon, 01 Jan 99999999999 00:00:00 GMT"


@pytest.mark.parametrize(
    "headers",
    [
        {"Retry-After": HUGE_DATE},
        {"Date": HUGE_DATE, "Retry-After": "Mon, 01 Jan 2024 00:00:00 GMT"},
        {"Date": "Mon, 01 Jan 10000 00:00:00 GMT"},
        {"X-RateLimit-Reset": "1e300", "X-RateLimit-Remaining": "0"},
        {"X-RateLimit-Reset": "nan", "X-RateLimit-Remaining": "-3", "X-RateLimit-Limit": "1e999"},
    ],
)
async def test_odd_headers_are_never_more_than_our_errors(
    server: ScriptedServer, headers: dict[str, str]
) -> None:
    server.script(error_answer(503, "service_unavailable", headers=headers))
    async with IntercomClient(
        TOKEN, base_url=server.base_url, retry=RetryPolicy.no_wait(max_attempts=2)
    ) as client:
        with pytest.raises(ServerError):
            await client.tickets.get("1")
        server.script(error_answer(503, "service_unavailable", headers=headers), ticket_answer())
        results = await client.tickets.get_all(["1", "2", "3"])
    assert len(results) == 3  # the fetch went on
    assert all(result.ok or isinstance(result.error, IntercomError) for result in results)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"base_url": "https://example.com:99999"}, "port"),
        ({"base_url": "https://example.com:0"}, "port"),
        ({"base_url": "https://example.com/api?"}, "query"),
        ({"base_url": "https://example.com/api#"}, "fragment"),
        ({"base_url": "https://@example.com"}, "credentials"),
        ({"base_url": "https://user@example.com"}, "credentials"),
        ({"base_url": "https://exa mple.com"}, "spaces"),
        ({"timeout": float("inf")}, "finite"),
        ({"timeout": float("nan")}, "timeout"),
        ({"timeout": aiohttp.ClientTimeout(total=float("inf"))}, "timeout.total"),
        ({"timeout": aiohttp.ClientTimeout(sock_read=-1)}, "timeout.sock_read"),
        ({"max_requests_per_second": float("inf")}, "max_requests_per_second"),
    ],
)
def test_bad_settings_fail_at_construction_with_a_clear_message(
    kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        IntercomClient(TOKEN, **kwargs)  # type: ignore[arg-type]


# -- 6 -----------------------------------------------------------------------------------------


async def test_closing_while_requests_wait_for_a_pooled_connection(
    server: ScriptedServer,
) -> None:
    server.script(slow_answer(0.3))
    client = IntercomClient(
        TOKEN, base_url=server.base_url, max_connections=1, retry=RetryPolicy.no_wait()
    )
    fetch = asyncio.create_task(client.tickets.get_all(map(str, range(8)), concurrency=8))
    await asyncio.sleep(0.1)  # one request holds the connection; seven wait for it
    await client.aclose()
    with pytest.raises(ClientClosedError):
        await fetch
    single = asyncio.create_task(client.tickets.get("1"))
    with pytest.raises(ClientClosedError):
        await single


async def test_closing_ends_a_retry_backoff_at_once(server: ScriptedServer) -> None:
    server.script(error_answer(503, "service_unavailable"))
    policy = RetryPolicy(initial_backoff=30, max_backoff=30, jitter=False)
    client = IntercomClient(TOKEN, base_url=server.base_url, retry=policy)
    waiting = asyncio.create_task(client.tickets.get("1"))
    await asyncio.sleep(0.2)  # the first attempt failed; the retry waits 30 s
    started = time.monotonic()
    await client.aclose()
    with pytest.raises(ClientClosedError):
        await waiting
    assert time.monotonic() - started < 0.5
    assert server.count() == 1


# -- 8 -----------------------------------------------------------------------------------------


async def test_a_429_under_no_wait_does_not_wait_for_the_reset() -> None:
    async with FakeIntercom(tickets=3, window=10) as fake:
        fake.inject("1", Fault.status(429))
        async with fake.client(retry=RetryPolicy.no_wait()) as client:
            started = time.monotonic()
            await client.tickets.get("1")
            await client.tickets.get("2")
        assert time.monotonic() - started < 1.0
        assert client.stats.retries == 1


# -- 10 ----------------------------------------------------------------------------------------


def _encoded(encoding: str, body: bytes) -> web.Response:
    return web.Response(
        body=body, headers={"Content-Type": "application/json", "Content-Encoding": encoding}
    )


@pytest.mark.parametrize(
    "response",
    [
        lambda: _encoded("gzip", b"this is not gzip at all" * 20),
        lambda: _encoded("deflate", b"\x00\x01 nor this deflate" * 20),
        lambda: _encoded("gzip", gzip.compress(b'{"type": "ticket"}')[:-8] + b"garbage!"),
    ],
)
async def test_a_body_that_cannot_be_decoded_is_not_retried(
    server: ScriptedServer, response: object
) -> None:
    async def answer(request: web.Request) -> web.StreamResponse:
        return response()  # type: ignore[operator,no-any-return]

    server.script(answer)
    async with IntercomClient(
        TOKEN, base_url=server.base_url, retry=RetryPolicy.no_wait()
    ) as client:
        with pytest.raises(TransportError) as info:
            await client.tickets.get("1")
    assert info.value.retryable is False
    assert server.count() == 1


async def test_an_invalid_url_is_not_retried() -> None:
    with aioresponses() as mocked:
        mocked.get(
            "https://api.intercom.io/tickets/1", exception=aiohttp.InvalidURL("x"), repeat=True
        )
        async with IntercomClient(TOKEN, retry=RetryPolicy.no_wait()) as client:
            with pytest.raises(TransportError) as info:
                await client.tickets.get("1")
    assert info.value.retryable is False
    assert client.stats.requests == 1
    assert client.stats.retries == 0


@pytest.fixture
def self_signed(tmp_path: Path) -> ssl.SSLContext:
    """A server-side TLS context with a self-signed certificate no client trusts."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += ["-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(  # noqa: S603
        command,
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
async def tls_server(self_signed: ssl.SSLContext) -> AsyncIterator[tuple[str, list[str]]]:
    seen: list[str] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        seen.append(request.path)
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/tickets/{id}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self_signed).start()
    yield f"https://127.0.0.1:{runner.addresses[0][1]}", seen
    await runner.cleanup()


async def test_a_certificate_error_is_not_retried(tls_server: tuple[str, list[str]]) -> None:
    base_url, seen = tls_server
    async with IntercomClient(TOKEN, base_url=base_url, retry=RetryPolicy.no_wait()) as client:
        with pytest.raises(TransportError, match=r"[Cc]ertificate") as info:
            await client.tickets.get("1")
    assert info.value.retryable is False
    assert client.stats.retries == 0
    assert seen == []  # and the token never reached it


# -- 11 ----------------------------------------------------------------------------------------


async def test_get_many_closes_the_async_ids_iterator_it_stops_reading() -> None:
    closed = asyncio.Event()

    async def ids() -> AsyncIterator[str]:
        try:
            for n in range(1, 1_000_000):
                yield str(n % 10 + 1)
        finally:
            closed.set()  # a database cursor would be released here

    async with FakeIntercom(tickets=10, parts=1) as fake, fake.client() as client:
        async with aclosing(client.tickets.get_many(ids(), concurrency=4)) as results:
            async for _result in results:
                break
        assert closed.is_set()  # at once, not when the garbage collector gets to it


async def test_get_many_closes_a_sync_generator_it_stops_reading() -> None:
    closed = False

    def ids() -> object:
        nonlocal closed
        try:
            yield from (str(n % 10 + 1) for n in range(1, 1_000_000))
        finally:
            closed = True

    async with FakeIntercom(tickets=10, parts=1) as fake, fake.client() as client:
        async with aclosing(client.tickets.get_many(ids(), concurrency=4)) as results:  # type: ignore[arg-type]
            async for _result in results:
                break
        assert closed
