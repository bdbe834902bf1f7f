"""In production: raw responses and the figures of each result, the request log switched on by
``INTERCOM_ASYNC_LOG``, the application's headers and ``User-Agent``, and proxies (a real
CONNECT proxy on 127.0.0.1, in front of the fake, over TLS too)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import ssl
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from intercom_async import (
    AppInfo,
    IntercomClient,
    NotFoundError,
    RawResponse,
    RetryPolicy,
    Ticket,
    TransportError,
)
from intercom_async.testing import FakeIntercom, Fault

QUICK = RetryPolicy(initial_backoff=0.01, max_backoff=0.02, jitter=False, max_delay=20)


@pytest.fixture
async def fake() -> AsyncIterator[FakeIntercom]:
    async with FakeIntercom(tickets=20) as fake:
        yield fake


# -- raw responses and results ---------------------------------------------------------------


async def test_a_raw_response_has_the_answer_the_figures_and_the_model(fake: FakeIntercom) -> None:
    fake.inject("7", Fault.status(503))
    async with fake.client(retry=QUICK) as client:
        raw = await client.tickets.with_raw_response.get("7")
        view_raw = await client.with_options(timeout=5).tickets.with_raw_response.get(8)
    assert isinstance(raw, RawResponse)
    assert raw.status == 200 and raw.attempts == 2 and raw.elapsed > 0
    assert raw.request_id and raw.request_id == raw.headers["x-request-id"]
    assert raw.headers["Content-Type"].startswith("application/json")
    ticket = raw.parse()
    assert isinstance(ticket, Ticket) and ticket.id == "7" and raw.parse() is ticket
    assert view_raw.attempts == 1 and view_raw.parse().id == "8"
    assert "test-token" not in repr(raw)


async def test_each_result_has_its_request_id_attempts_and_elapsed(fake: FakeIntercom) -> None:
    fake.inject("2", Fault.status(503))
    async with fake.client(retry=QUICK) as client:
        results = await client.tickets.get_all(["1", "2", "999999", ""])
    ok, retried, missing, invalid = results
    assert ok.ok and ok.attempts == 1 and ok.request_id and ok.elapsed > 0
    assert retried.ok and retried.attempts == 2 and retried.request_id
    assert isinstance(missing.error, NotFoundError) and missing.attempts == 1
    assert missing.request_id == missing.error.request_id and missing.request_id
    assert invalid.attempts == 0 and invalid.request_id is None  # refused unsent
    assert len({r.request_id for r in (ok, retried, missing)}) == 3


# -- headers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "setting"),
    [
        ("Authorization", "token="),
        ("authorization", "token="),
        ("INTERCOM-VERSION", "version="),
        ("Content-Type", "JSON body"),
        ("Host", "base_url="),
    ],
)
def test_headers_of_the_clients_own_settings_are_refused(name: str, setting: str) -> None:
    with pytest.raises(ValueError, match=setting) as caught:
        IntercomClient("tok", default_headers={name: "x"})
    assert name in str(caught.value)
    client = IntercomClient("tok")
    with pytest.raises(ValueError, match=setting):
        client.with_options(headers={name: "x"})


@pytest.mark.parametrize("value", ["a\r\nX-Evil: 1", "a\nb", "a\x00b"])
def test_a_header_value_with_a_line_break_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="line break"):
        IntercomClient("tok", default_headers={"X-Gateway": value})
    with pytest.raises(ValueError, match="not a valid header name"):
        IntercomClient("tok", default_headers={"X Bad": "1"})


async def test_headers_app_info_and_max_attempts_reach_the_wire(fake: FakeIntercom) -> None:
    info = AppInfo("ticket sync", "1.4", "https://example.com")
    async with fake.client(
        default_headers={"X-Gateway-Key": "gw", "traceparent": "00-a-b-01"}, app_info=info
    ) as client:
        await client.tickets.get("1")
        view = client.with_options(headers={"traceparent": "00-c-d-01"}, max_attempts=1)
        fake.inject("2", Fault.status(503))
        with pytest.raises(Exception, match="503"):
            await view.tickets.get("2")
        assert view.retry.max_attempts == 1 and client.retry.max_attempts == 5
    first, second = fake.requests[0], fake.requests[1]
    assert first.headers["X-Gateway-Key"] == "gw" and first.headers["traceparent"] == "00-a-b-01"
    assert second.headers["traceparent"] == "00-c-d-01" and second.headers["X-Gateway-Key"] == "gw"
    agent = first.headers["User-Agent"]
    assert agent.startswith("intercom-async/") and agent.endswith(
        " ticket-sync/1.4 (+https://example.com)"
    )
    assert len(fake.requests) == 2  # max_attempts=1: no retry


def test_app_info_is_checked() -> None:
    with pytest.raises(ValueError, match="line break"):
        AppInfo("app", "1\r\n")
    with pytest.raises(TypeError, match="AppInfo"):
        IntercomClient("tok", app_info="app/1")  # type: ignore[arg-type]


# -- the request log -------------------------------------------------------------------------

_LOGGED = """
import asyncio, sys
from intercom_async.testing import Fault, FakeIntercom

async def main() -> None:
    async with FakeIntercom(tickets=5) as fake:
        fake.inject("2", Fault.status(503))
        async with fake.client() as client:
            await client.tickets.get("1")
            await client.tickets.get("2")

asyncio.run(main())
"""


@pytest.mark.parametrize("level", ["info", "debug"])
def test_intercom_async_log_logs_a_line_per_request_without_logging_set_up(level: str) -> None:
    env = {**os.environ, "INTERCOM_ASYNC_LOG": level}
    run = subprocess.run(  # noqa: S603 - this Python and the test's own script
        [sys.executable, "-c", textwrap.dedent(_LOGGED)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stderr.splitlines() if " INFO intercom_async: " in line]
    assert len(lines) == 3, run.stderr  # one per request: 1, then 2 twice
    assert "GET /tickets/{id} 200 request_id=" in lines[0] and "attempt=1" in lines[0]
    assert " 503 " in lines[1] and "attempt=1" in lines[1]
    assert " 200 " in lines[2] and "attempt=2" in lines[2] and "wait=" in lines[2]
    assert "test-token" not in run.stderr
    debug = [line for line in run.stderr.splitlines() if " DEBUG intercom_async" in line]
    assert bool(debug) is (level == "debug")
    if level == "debug":
        assert any("path=/tickets/2" in line and "retrying" in line for line in debug)


# -- proxies ---------------------------------------------------------------------------------


class Proxy:
    """A small HTTP proxy on 127.0.0.1: CONNECT tunnels, and plain requests forwarded; every
    host is reached on 127.0.0.1. ``seen`` keeps the head of every request it got."""

    def __init__(self) -> None:
        self.seen: list[bytes] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.seen.append(head)
            method, target, _ = head.split(b"\r\n", 1)[0].split(b" ", 2)
            if method == b"CONNECT":
                port = int(target.rsplit(b":", 1)[1])
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
            else:  # absolute-form: to origin-form, one request per connection
                rest = target.split(b"://", 1)[1]
                hostport, _, path = rest.partition(b"/")
                port = int(hostport.rsplit(b":", 1)[1])
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
                _, _, headers = head.partition(b"\r\n")
                up_writer.write(method + b" /" + path + b" HTTP/1.1\r\n" + headers)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            pass
        finally:
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            writer.close()


@pytest.fixture
async def proxy() -> AsyncIterator[Proxy]:
    proxy = Proxy()
    await proxy.start()
    yield proxy
    await proxy.close()


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl for a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603 - a fixed binary and arguments
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=intercom.test"),
            *("-addext", "subjectAltName=DNS:intercom.test"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_https_through_a_proxy_shows_it_only_a_connect(
    proxy: Proxy, certificate: tuple[Path, Path], no_proxy_env: None
) -> None:
    cert, key = certificate
    fake = FakeIntercom(tickets=5)
    runner = web.AppRunner(fake.app)
    await runner.setup()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_tls)
    await site.start()
    port = runner.addresses[0][1]
    trusted = ssl.create_default_context(cafile=str(cert))
    try:
        async with (
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trusted)) as session,
            IntercomClient(
                "test-token",
                base_url=f"https://intercom.test:{port}",  # only the proxy knows this host
                session=session,
                proxy=proxy.url,
            ) as client,
        ):
            assert (await client.tickets.get("1")).id == "1"
            assert (await client.tickets.get("2")).id == "2"
    finally:
        await runner.cleanup()
    assert proxy.seen, "the requests went through the proxy"
    assert all(head.startswith(b"CONNECT intercom.test:") for head in proxy.seen)
    assert not any(b"test-token" in head or b"Authorization" in head for head in proxy.seen)


async def test_plain_http_through_a_proxy_is_refused_unless_allowed(
    fake: FakeIntercom, proxy: Proxy, no_proxy_env: None
) -> None:
    with pytest.raises(ValueError, match="in clear") as caught:
        fake.client(proxy=proxy.url)
    assert "allow_insecure_http" in str(caught.value)
    async with fake.client(proxy=proxy.url, allow_insecure_http=True) as client:
        assert (await client.tickets.get("3")).id == "3"
    assert proxy.seen and proxy.seen[0].startswith(b"GET http://127.0.0.1:")


async def test_the_environment_proxy_and_no_proxy_are_honoured(
    fake: FakeIntercom, proxy: Proxy, monkeypatch: pytest.MonkeyPatch, no_proxy_env: None
) -> None:
    port = fake.base_url.rsplit(":", 1)[1]
    base = f"http://intercom.test:{port}"  # resolved by the proxy alone
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    kwargs = {"base_url": base, "allow_insecure_http": True, "retry": RetryPolicy.never()}
    async with IntercomClient("test-token", **kwargs) as client:  # type: ignore[arg-type]
        assert (await client.tickets.get("4")).id == "4"
    assert len(proxy.seen) == 1
    async with IntercomClient("test-token", trust_env=False, **kwargs) as client:  # type: ignore[arg-type]
        with pytest.raises(TransportError):
            await client.tickets.get("4")  # straight to intercom.test: no such host
    monkeypatch.setenv("NO_PROXY", "example.com, .intercom.test")
    async with IntercomClient("test-token", **kwargs) as client:  # type: ignore[arg-type]
        with pytest.raises(TransportError):
            await client.tickets.get("4")
    assert len(proxy.seen) == 1  # NO_PROXY and trust_env=False: the proxy saw nothing more
    # A loopback base_url (the fake) never goes through an environment proxy.
    async with fake.client() as client:
        assert (await client.tickets.get("5")).id == "5"
    assert len(proxy.seen) == 1


def test_a_proxy_that_is_not_http_is_refused_and_its_credentials_never_shown() -> None:
    with pytest.raises(ValueError, match="not an http") as caught:
        IntercomClient("tok", proxy="socks5://user:secret@proxy.corp:1080")
    assert "secret" not in str(caught.value)
    client = IntercomClient("tok", proxy="http://user:secret@proxy.corp:3128")
    assert "secret" not in repr(client)


async def test_the_cli_takes_a_proxy(proxy: Proxy, no_proxy_env: None) -> None:
    from .test_cli import TOKEN, cli

    async with FakeIntercom(token=TOKEN, tickets=5) as fake:
        refused = await cli("--base-url", fake.base_url, "--proxy", proxy.url, "get", "3")
        assert refused.status != 0 and "--allow-insecure-http" in refused.stderr
        assert "in clear" in refused.stderr
        options = ["--base-url", fake.base_url, "--allow-insecure-http"]
        run = await cli(*options, "get", "3", "--proxy", "http://user:pw-secret@" + proxy.url[7:])
        assert run.status == 0, run.stderr
    assert '"id": "3"' in run.stdout or '"id":"3"' in run.stdout
    assert len(proxy.seen) == 1 and b"Proxy-Authorization: Basic" in proxy.seen[0]
    assert "pw-secret" not in run.stderr + refused.stderr
