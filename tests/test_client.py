"""The client against a real aiohttp server on 127.0.0.1: requests, errors, retries, lifecycle."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import pickle
import shutil
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aioresponses import aioresponses

from intercom_async import (
    ApiError,
    AuthenticationError,
    ClientClosedError,
    ErrorDetail,
    IntercomClient,
    IntercomError,
    InvalidTicketIdError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
    TransportError,
)
from intercom_async.testing import FakeIntercom

from .conftest import (
    TOKEN,
    ScriptedServer,
    error_answer,
    raw_answer,
    slow_answer,
    ticket_answer,
)


async def test_get_sends_the_documented_headers(
    server: ScriptedServer, client: IntercomClient
) -> None:
    ticket = await client.tickets.get("1295")

    assert ticket.id == "1295"
    headers = server.seen[0].headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Accept"] == "application/json"
    assert headers["Intercom-Version"] == "2.9"
    assert headers["User-Agent"].startswith("intercom-async/")


async def test_version_header_follows_the_client(server: ScriptedServer) -> None:
    async with IntercomClient(TOKEN, base_url=server.base_url, version="2.11") as client:
        await client.tickets.get(7)
    assert server.seen[0].headers["Intercom-Version"] == "2.11"
    assert server.seen[0].ticket_id == "7"


@pytest.mark.parametrize(
    ("ticket_id", "raw_path"),
    [
        ("../admins", "/tickets/..%2Fadmins"),
        ("..", "/tickets/%2E%2E"),
        ("a/b?c", "/tickets/a%2Fb%3Fc"),
    ],
)
async def test_ids_reach_the_server_as_one_segment(
    server: ScriptedServer, client: IntercomClient, ticket_id: str, raw_path: str
) -> None:
    await client.tickets.get(ticket_id)
    assert server.seen[0].raw_path == raw_path


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "parameter_invalid", ApiError),
        (401, "unauthorized", AuthenticationError),
        (403, "forbidden", PermissionDeniedError),
        (404, "not_found", NotFoundError),
        (422, "parameter_invalid", ApiError),
    ],
)
async def test_permanent_errors_are_not_retried(
    server: ScriptedServer, client: IntercomClient, status: int, code: str, cls: type[ApiError]
) -> None:
    server.script(error_answer(status, code, "Nope"))

    with pytest.raises(cls) as info:
        await client.tickets.get("1")

    assert type(info.value) is cls
    assert info.value.status == status
    assert info.value.code == code
    assert info.value.request_id == f"req-{status}-{code}"
    assert server.count() == 1


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_transient_statuses_are_retried_until_success(
    server: ScriptedServer, client: IntercomClient, status: int
) -> None:
    failing = error_answer(status, "try_again")
    server.script(failing, failing, ticket_answer())

    ticket = await client.tickets.get("9")

    assert ticket.id == "9"
    assert server.count() == 3
    assert client.stats.retries == 2


@pytest.mark.parametrize(("status", "cls"), [(503, ServerError), (429, RateLimitError)])
async def test_retries_stop_at_max_attempts(
    server: ScriptedServer, status: int, cls: type[ApiError]
) -> None:
    server.script(error_answer(status, "busy"))
    async with IntercomClient(
        TOKEN, base_url=server.base_url, retry=RetryPolicy.no_wait(max_attempts=4)
    ) as client:
        with pytest.raises(cls):
            await client.tickets.get("1")
    assert server.count() == 4


async def test_a_body_that_is_not_a_ticket_is_not_retried(
    server: ScriptedServer, client: IntercomClient
) -> None:
    server.script(raw_answer(b"<html>maintenance</html>", content_type="text/html"))
    with pytest.raises(ResponseDecodeError, match="expected JSON"):
        await client.tickets.get("1")
    assert server.count() == 1


async def test_connection_refused_is_a_transport_error_after_retries() -> None:
    async with IntercomClient(
        TOKEN, base_url="http://127.0.0.1:9", retry=RetryPolicy.no_wait(max_attempts=3)
    ) as client:
        with pytest.raises(TransportError) as info:
            await client.tickets.get("1")
        assert client.stats.retries == 2
        assert client.stats.requests == 3
    assert isinstance(info.value.__cause__, aiohttp.ClientConnectionError)
    assert "GET /tickets/1" in str(info.value)


async def test_timeouts_are_retried(server: ScriptedServer) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(1)
        return web.json_response({})

    server.script(slow, ticket_answer())
    async with IntercomClient(
        TOKEN, base_url=server.base_url, retry=RetryPolicy.no_wait(), timeout=0.2
    ) as client:
        ticket = await client.tickets.get("5")
    assert ticket.id == "5"
    assert server.count() == 2


async def test_timeout_error_has_the_cause(server: ScriptedServer) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(1)
        return web.json_response({})

    server.script(slow)
    async with IntercomClient(
        TOKEN, base_url=server.base_url, retry=RetryPolicy.never(), timeout=0.1
    ) as client:
        with pytest.raises(TransportError, match="timed out") as info:
            await client.tickets.get("5")
    assert isinstance(info.value.__cause__, asyncio.TimeoutError)


async def test_a_body_cut_short_is_retried(server: ScriptedServer, client: IntercomClient) -> None:
    async def cut(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "application/json", "Content-Length": "500"}
        )
        await response.prepare(request)
        await response.write(b'{"type": "ticket", "id": ')
        assert request.transport is not None
        request.transport.close()
        return response

    server.script(cut, ticket_answer())
    ticket = await client.tickets.get("3")
    assert ticket.id == "3"
    assert server.count() == 2


async def test_429_waits_until_rate_limit_reset(server: ScriptedServer) -> None:
    reset = time.time() + 1.2
    server.script(
        error_answer(
            429,
            "rate_limit_exceeded",
            headers={
                "X-RateLimit-Limit": "10",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{reset:.3f}",
            },
        ),
        ticket_answer(),
    )
    policy = RetryPolicy(initial_backoff=0.01, max_backoff=0.01)
    async with IntercomClient(TOKEN, base_url=server.base_url, retry=policy) as client:
        await client.tickets.get("1")
    assert server.count() == 2
    assert server.seen[1].time >= reset


async def test_retry_after_is_honoured(server: ScriptedServer) -> None:
    server.script(error_answer(503, "unavailable", headers={"Retry-After": "1"}), ticket_answer())
    policy = RetryPolicy(initial_backoff=0.01, max_backoff=0.01)
    async with IntercomClient(TOKEN, base_url=server.base_url, retry=policy) as client:
        await client.tickets.get("1")
    assert server.seen[1].time - server.seen[0].time >= 0.95


async def test_a_reset_beyond_max_delay_fails_at_once(server: ScriptedServer) -> None:
    server.script(
        error_answer(
            429,
            "rate_limit_exceeded",
            headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 60)},
        )
    )
    policy = RetryPolicy(max_delay=2.0)
    started = time.monotonic()
    async with IntercomClient(TOKEN, base_url=server.base_url, retry=policy) as client:
        with pytest.raises(RateLimitError):
            await client.tickets.get("1")
    assert time.monotonic() - started < 1.0
    assert server.count() == 1


async def test_total_time_bounds_the_retries(server: ScriptedServer) -> None:
    server.script(error_answer(500, "boom"))
    policy = RetryPolicy(
        max_attempts=100, initial_backoff=0.2, max_backoff=0.2, max_delay=1.0, jitter=False
    )
    started = time.monotonic()
    async with IntercomClient(TOKEN, base_url=server.base_url, retry=policy) as client:
        with pytest.raises(ServerError):
            await client.tickets.get("1")
    assert time.monotonic() - started < 1.5
    assert 3 <= server.count() <= 6


async def test_retries_are_logged_without_the_token(
    server: ScriptedServer, client: IntercomClient, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(error_answer(502, "bad_gateway"), ticket_answer())
    with caplog.at_level(logging.DEBUG, logger="intercom_async"):
        await client.tickets.get("1")
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.name == "intercom_async"
    assert record.getMessage() == (
        "GET /tickets/1 failed (HTTP 502), attempt 1 of 5; retrying in 0.00s"
    )
    assert TOKEN not in caplog.text


async def test_the_token_appears_in_no_repr_error_or_log(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(error_answer(401, "unauthorized", f"Bad token {TOKEN[:4]}"))
    with caplog.at_level(logging.DEBUG):
        async with IntercomClient(
            TOKEN, base_url=server.base_url, retry=RetryPolicy.no_wait()
        ) as client:
            with pytest.raises(AuthenticationError) as info:
                await client.tickets.get("1")
            texts = [repr(client), str(client), repr(client.tickets), repr(client.retry)]
    texts += [str(info.value), repr(info.value), caplog.text, repr(info.value.__dict__)]
    assert all(TOKEN not in text for text in texts)


async def test_redirects_are_not_followed_with_the_token(server: ScriptedServer) -> None:
    elsewhere: list[dict[str, str]] = []

    async def record(request: web.Request) -> web.StreamResponse:
        elsewhere.append(dict(request.headers))
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    target = f"http://127.0.0.1:{runner.addresses[0][1]}/stolen"

    async def redirect(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(target)

    server.script(redirect)
    try:
        async with IntercomClient(
            TOKEN, base_url=server.base_url, retry=RetryPolicy.no_wait()
        ) as client:
            with pytest.raises(ApiError) as info:
                await client.tickets.get("1")
    finally:
        await runner.cleanup()
    assert info.value.status == 302
    assert info.value.headers["Location"] == target
    assert elsewhere == []


async def test_oversized_bodies_are_refused(server: ScriptedServer) -> None:
    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(100):
            await response.write(b" " * 1000)
        await response.write_eof()
        return response

    server.script(raw_answer(b" " * 5000 + b"{}"), chunked)
    async with IntercomClient(
        TOKEN, base_url=server.base_url, retry=RetryPolicy.no_wait(), max_response_bytes=4096
    ) as client:
        for _ in range(2):
            with pytest.raises(ResponseDecodeError, match="larger than max_response_bytes"):
                await client.tickets.get("1")


async def test_an_oversized_error_body_still_gives_the_api_error(server: ScriptedServer) -> None:
    server.script(raw_answer(b"x" * 10_000, status=503, content_type="text/plain"))
    async with IntercomClient(
        TOKEN, base_url=server.base_url, retry=RetryPolicy.never(), max_response_bytes=4096
    ) as client:
        with pytest.raises(ServerError) as info:
            await client.tickets.get("1")
    assert info.value.errors == []


async def test_token_comes_from_the_environment(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERCOM_ACCESS_TOKEN", "from-env")
    async with IntercomClient(base_url=server.base_url) as client:
        monkeypatch.setenv("INTERCOM_ACCESS_TOKEN", "changed-later")
        await client.tickets.get("1")
    assert server.seen[0].headers["Authorization"] == "Bearer from-env"


def test_no_token_is_an_error_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INTERCOM_ACCESS_TOKEN", raising=False)
    with pytest.raises(ValueError, match="INTERCOM_ACCESS_TOKEN"):
        IntercomClient()
    with pytest.raises(ValueError, match="no Intercom access token"):
        IntercomClient("  ")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"region": "mars"}, "region"),
        ({"version": "9"}, "version"),
        ({"timeout": 0}, "timeout"),
        ({"base_url": "http://intercom.example.com"}, "plain http"),
        ({"retry": 3}, "RetryPolicy"),
    ],
)
def test_bad_settings_fail_at_construction(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        IntercomClient("t", **kwargs)  # type: ignore[arg-type]


def test_regions_pick_the_host() -> None:
    assert IntercomClient("t", region="eu").base_url == "https://api.eu.intercom.io"
    assert IntercomClient("t", region="au").base_url == "https://api.au.intercom.io"
    assert IntercomClient("t").base_url == "https://api.intercom.io"


async def test_a_closed_client_refuses_work(server: ScriptedServer) -> None:
    client = IntercomClient(TOKEN, base_url=server.base_url)
    await client.tickets.get("1")
    await client.aclose()
    await client.aclose()
    assert client.closed
    with pytest.raises(ClientClosedError, match="closed"):
        await client.tickets.get("1")
    with pytest.raises(ClientClosedError):
        async with client:
            pass
    assert server.count() == 1


async def test_a_session_passed_in_is_used_and_left_open(server: ScriptedServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with IntercomClient(TOKEN, base_url=server.base_url, session=session) as client:
            await client.tickets.get("1")
        assert not session.closed
        assert client.closed


async def test_connection_errors_from_a_mocked_session() -> None:
    with aioresponses() as mocked:
        mocked.get(
            "https://api.intercom.io/tickets/1",
            exception=aiohttp.ServerDisconnectedError(),
            repeat=True,
        )
        async with IntercomClient(TOKEN, retry=RetryPolicy.no_wait(max_attempts=2)) as client:
            with pytest.raises(TransportError) as info:
                await client.tickets.get("1")
    assert isinstance(info.value.__cause__, aiohttp.ServerDisconnectedError)
    assert client.stats.requests == 2


def test_errors_pickle_with_their_details() -> None:
    error = NotFoundError(404, reason="Not Found", request_id="r1", headers={"A": "b"}, path="/x")
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is NotFoundError
    assert str(clone) == str(error)
    assert clone.headers["a"] == "b"
    assert isinstance(clone, IntercomError)


async def test_closing_the_client_while_a_request_waits_its_turn(server: ScriptedServer) -> None:
    server.script(
        ticket_answer(
            headers={
                "X-RateLimit-Limit": "1",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + 0.5:.3f}",
            }
        )
    )
    client = IntercomClient(TOKEN, base_url=server.base_url)
    await client.tickets.get("1")
    waiting = asyncio.create_task(client.tickets.get("2"))  # held until the window resets
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await client.aclose()
    with pytest.raises(ClientClosedError):
        await waiting
    assert time.monotonic() - started < 0.2  # at once, not at the reset
    assert server.count() == 1


async def test_a_far_reset_fails_the_request_at_once_instead_of_holding_it(
    server: ScriptedServer,
) -> None:
    far = {
        "X-RateLimit-Limit": "10",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int(time.time()) + 3600),
    }
    server.script(ticket_answer(headers=far))
    async with IntercomClient(
        TOKEN, base_url=server.base_url, retry=RetryPolicy(max_delay=5.0)
    ) as client:
        await client.tickets.get("1")
        with pytest.raises(RateLimitError):
            await asyncio.wait_for(client.tickets.get("2"), 2)
    assert server.count() == 1


async def test_waiting_for_a_pooled_connection_is_not_the_attempt_s_time(
    server: ScriptedServer,
) -> None:
    server.script(slow_answer(0.3))
    async with IntercomClient(
        TOKEN, base_url=server.base_url, retry=RetryPolicy.never(), timeout=0.5, max_connections=4
    ) as client:
        results = await client.tickets.get_all(map(str, range(12)), concurrency=12)
    assert [r.error for r in results if not r.ok] == []


async def test_a_client_belongs_to_one_event_loop(server: ScriptedServer) -> None:
    client = IntercomClient(TOKEN, base_url=server.base_url)
    await client.tickets.get("1")

    def elsewhere() -> None:
        async def use() -> None:
            await client.tickets.get("2")

        asyncio.run(use())

    with pytest.raises(ClientClosedError, match="event loop"):
        await asyncio.to_thread(elsewhere)
    await client.aclose()


async def test_spaces_around_a_token_are_not_sent(server: ScriptedServer) -> None:
    async with IntercomClient(f"  {TOKEN}\t", base_url=server.base_url) as client:
        await client.tickets.get("1")
    assert server.seen[0].headers["Authorization"] == f"Bearer {TOKEN}"


async def test_a_429_whose_reset_has_passed_still_backs_off(server: ScriptedServer) -> None:
    past = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) - 5)}
    server.script(error_answer(429, "rate_limit_exceeded", headers=past), ticket_answer())
    policy = RetryPolicy(initial_backoff=0.2, max_backoff=0.2, jitter=False)
    async with IntercomClient(TOKEN, base_url=server.base_url, retry=policy) as client:
        await client.tickets.get("1")
    assert server.seen[1].time - server.seen[0].time >= 0.18


def test_error_messages_are_one_line() -> None:
    error = NotFoundError(404, errors=[ErrorDetail("not_found", "Ticket\nNot   Found")])
    assert str(error) == "HTTP 404: not_found: Ticket Not Found"
    assert str(TransportError("Bad status line:\n  Expected HTTP/", path="/t/1")) == (
        "GET /t/1: Bad status line: Expected HTTP/"
    )


async def test_an_overlong_id_is_refused_before_anything_is_sent(
    server: ScriptedServer, client: IntercomClient
) -> None:
    with pytest.raises(InvalidTicketIdError) as info:
        await client.tickets.get("1" * 100_000)
    assert len(str(info.value)) < 300
    assert server.count() == 0
    assert client.stats.requests == 0


async def test_the_longest_id_is_quoted_short_in_errors_and_logs(
    server: ScriptedServer, client: IntercomClient, caplog: pytest.LogCaptureFixture
) -> None:
    longest = "ü" * 255  # 1,530 characters once percent-encoded
    server.script(error_answer(503, "busy"), error_answer(404, "not_found", "Ticket Not Found"))
    with (
        caplog.at_level(logging.WARNING, logger="intercom_async"),
        pytest.raises(NotFoundError) as info,
    ):
        await client.tickets.get(longest)
    assert server.seen[-1].ticket_id == longest  # sent whole
    assert info.value.path == "/tickets/" + "%C3%BC" * 255
    assert len(str(info.value)) < 300
    assert str(info.value).startswith("GET /tickets/%C3%BC")
    [record] = caplog.records
    assert len(record.getMessage()) < 300
    assert record.getMessage().startswith("GET /tickets/%C3%BC%C3%BC")


# -- closing from another event loop (issue 16, defect 11) -------------------------------------


def _leaks(close: Callable[[IntercomClient], None]) -> list[str]:
    """Use a client on one event loop, have ``close`` close it from another, and return the
    ResourceWarnings (unclosed sockets and transports) left once it is collected."""
    with FakeIntercom(token=TOKEN, tickets=3) as fake:
        client = fake.client(token=TOKEN)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            close(client)
            assert client.closed
            del client
            gc.collect()
            gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


async def _fetch(client: IntercomClient) -> None:
    assert (await client.tickets.get("1")).id == "1"


def test_closing_after_its_event_loop_ended_leaks_no_socket() -> None:
    def close(client: IntercomClient) -> None:
        asyncio.run(_fetch(client))  # its loop is closed at the end of it
        asyncio.run(client.aclose())

    assert _leaks(close) == []


def test_closing_from_another_thread_closes_on_the_client_s_own_loop() -> None:
    def close(client: IntercomClient) -> None:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(_fetch(client), loop).result(5)
            asyncio.run(client.aclose())  # this thread's loop, while the client's runs on
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()

    assert _leaks(close) == []


def test_closing_while_its_event_loop_is_idle() -> None:
    def close(client: IntercomClient) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(_fetch(client))
            asyncio.run(client.aclose())  # the client's loop is neither running nor closed
        finally:
            loop.close()

    assert _leaks(close) == []


_TLS_CLOSE = """
import asyncio, gc, ssl, sys, threading, warnings
from aiohttp import web
from intercom_async import IntercomClient
from intercom_async.testing import FakeIntercom

cert, key = sys.argv[1:3]
fake = FakeIntercom(token="t", tickets=3)
loop = asyncio.new_event_loop()
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)

async def serve():
    runner = web.AppRunner(fake.app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    return runner.addresses[0][1]

port = loop.run_until_complete(serve())
threading.Thread(target=loop.run_forever, daemon=True).start()
client = IntercomClient("t", base_url=f"https://127.0.0.1:{port}")

async def fetch():
    assert (await client.tickets.get("1")).id == "1"

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    asyncio.run(fetch())
    asyncio.run(client.aclose())
    del client
    gc.collect()
print([str(w.message) for w in caught if issubclass(w.category, ResourceWarning)])
"""


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl for a certificate")
def test_closing_after_its_event_loop_ended_leaks_no_tls_socket(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603 - a fixed binary and arguments
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    # aiohttp makes its TLS context when imported: the certificate is trusted from the start.
    env = {**os.environ, "SSL_CERT_FILE": str(cert)}
    run = subprocess.run(  # noqa: S603 - this Python and the test's own script
        [sys.executable, "-c", _TLS_CLOSE, str(cert), str(key)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]", run.stdout
