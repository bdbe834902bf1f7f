"""examples/fastapi_app.py as its users test and run it (issue 10).

- FastAPI's ``TestClient`` (sync) against ``FakeIntercom`` on a thread of its own;
- ``httpx.ASGITransport`` with ``asgi_lifespan.LifespanManager`` (async), against the
  ``intercom_fake`` fixture;
- a smoke test: the app under a real ``uvicorn`` process, a few hundred concurrent requests,
  a bulk request whose caller goes away, and SIGINT; then the statuses, and stderr free of
  "Unclosed", "Task was destroyed" and tracebacks.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi.testclient import TestClient

from examples.fastapi_app import app
from intercom_async.testing import FakeIntercom, Fault

ROOT = Path(__file__).resolve().parent.parent


def test_testclient_against_a_fake_on_its_own_thread(
    intercom_fake_thread: FakeIntercom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERCOM_BASE_URL", intercom_fake_thread.base_url)
    monkeypatch.setenv("INTERCOM_ACCESS_TOKEN", "test-token")
    intercom_fake_thread.inject("3", Fault.status(503), times=None)
    with TestClient(app) as http:  # runs the lifespan: one IntercomClient for the app
        ticket = http.get("/tickets/1")
        assert ticket.status_code == 200 and ticket.json()["id"] == "1"
        assert ticket.json()["type"] == "ticket"
        missing = http.get("/tickets/404404")
        assert missing.status_code == 404
        assert missing.json()["error"] == "NotFoundError"
        assert missing.json()["request_id"]
        failing = http.get("/tickets/3")
        assert failing.status_code == 502 and failing.json()["status"] == 503
        bulk = http.get("/tickets", params={"ids": "1,2,404404"})
        assert bulk.status_code == 200
        assert [t["id"] for t in bulk.json()["tickets"]] == ["1", "2"]
        assert bulk.json()["errors"]["404404"]["status"] == 404
        assert http.get("/tickets", params={"ids": ","}).status_code == 400
    # The lifespan closed the client: a new TestClient makes a new one, on its own loop.
    with TestClient(app) as http:
        assert http.get("/tickets/2").status_code == 200


async def test_asgi_transport_with_a_lifespan_manager(
    intercom_fake: FakeIntercom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERCOM_BASE_URL", intercom_fake.base_url)
    monkeypatch.setenv("INTERCOM_ACCESS_TOKEN", "test-token")
    intercom_fake.inject("4", Fault.slow(10.0), times=None)  # past the app's max_delay of 5 s
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            answers = await asyncio.gather(*(http.get(f"/tickets/{n}") for n in (1, 2, 3)))
            assert [a.json()["id"] for a in answers] == ["1", "2", "3"]
            started = time.monotonic()
            slow = await http.get("/tickets/4")
            assert slow.status_code == 504
            assert slow.json()["error"] == "TransportError"
            assert time.monotonic() - started < 5.5


def test_without_the_lifespan_the_app_has_no_client() -> None:
    """httpx.ASGITransport alone does not run the lifespan: docs/web-apps.md says so."""

    async def call() -> int:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            return (await http.get("/tickets/1")).status_code

    assert asyncio.run(call()) == 500


# -- under a real uvicorn --------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            assert process.poll() is None, "uvicorn exited early"
            try:
                async with session.get(url + "/docs") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
    raise AssertionError("uvicorn did not start")


@pytest.mark.parametrize("workers", [1, 2])
async def test_smoke_under_uvicorn(workers: int) -> None:
    async with FakeIntercom(tickets=50, parts=3) as fake:
        fake.inject("7", Fault.status(503), times=1)  # retried, and logged
        for n in range(40, 51):  # the bulk call left behind: retried for seconds, unless cancelled
            fake.inject(str(n), Fault.status(503), times=None)
        port = free_port()
        env = dict(
            os.environ,
            INTERCOM_ACCESS_TOKEN="test-token",
            INTERCOM_BASE_URL=fake.base_url,
            PYTHONPATH=str(ROOT),
        )
        command = [sys.executable, "-m", "uvicorn", "examples.fastapi_app:app"]
        command += ["--port", str(port), "--workers", str(workers), "--log-level", "warning"]
        process = subprocess.Popen(  # noqa: ASYNC220, S603 - our uvicorn, for the whole test
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        url = f"http://127.0.0.1:{port}"
        try:
            await wait_until_up(url, process)
            statuses: Counter[int] = Counter()
            ids = [str(1 + n % 39) for n in range(300)] + ["404404", "0x"] * 10
            connector = aiohttp.TCPConnector(limit=100)
            async with aiohttp.ClientSession(connector=connector) as session:

                async def fetch(ticket_id: str) -> None:
                    async with session.get(f"{url}/tickets/{ticket_id}") as response:
                        body = await response.json()
                        statuses[response.status] += 1
                        if response.status == 200:
                            assert body["id"] == ticket_id

                await asyncio.gather(*(fetch(ticket_id) for ticket_id in ids))

                # A bulk call whose caller goes away after 0.3 s: its work is cancelled.
                bulk = ",".join(str(n) for n in range(40, 51))
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(0.3):
                        await session.get(f"{url}/tickets", params={"ids": bulk})
            slow = {f"/tickets/{n}" for n in range(40, 51)}
            await asyncio.sleep(0.7)  # the watcher has seen the caller go
            sent = len([r for r in fake.requests if r.path in slow])
            await asyncio.sleep(3.0)  # backoffs of 1 and 2 s would have ended by now
            # No retry of the bulk call once its caller left.
            assert len([r for r in fake.requests if r.path in slow]) == sent
        finally:
            process.send_signal(signal.SIGINT)
            try:
                _, stderr_bytes = await asyncio.to_thread(process.communicate, timeout=20)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.communicate()
        stderr = stderr_bytes.decode()
        assert statuses == {200: 300, 404: 20}, stderr
        assert process.returncode == 0, stderr
        for bad in ("Unclosed", "Task was destroyed", "Traceback", "Exception in ASGI"):
            assert bad not in stderr, stderr


def test_the_docs_show_the_example_as_it_is() -> None:
    page = (ROOT / "docs" / "web-apps.md").read_text(encoding="utf-8")
    example = (ROOT / "examples" / "fastapi_app.py").read_text(encoding="utf-8")
    assert f"```python\n{example}```\n" in page
