"""``intercom-async fake``, end to end: the command started as a user starts it (``python -m
intercom_async fake --port 0 ...``), its URL read from its stdout, tickets fetched from it with
the command line (``get`` and ``get-many`` in subprocesses of their own), then Ctrl-C or
SIGTERM, after which it must exit with status 0 and no traceback.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from collections.abc import AsyncIterator

import pytest

from intercom_async.testing import generate_ticket

from .conftest import drop_nulls
from .test_cli import POSIX, ROOT, Run, check_clean, cli, cli_env

ANY_TOKEN = "tok_whatever-a-user-has-4f2a"
START = 20.0  # seconds the fake may take to print its URL
FAKE_PARTS = 20  # FakeIntercom's parts per generated ticket


class Fake:
    """A running ``intercom-async fake`` and its URL."""

    def __init__(self, proc: asyncio.subprocess.Process, url: str) -> None:
        self.proc = proc
        self.url = url

    async def stop(self, signum: int = signal.SIGINT) -> Run:
        """Send ``signum`` and wait for the end: its status, the rest of its stdout, stderr."""
        self.proc.send_signal(signum)
        try:
            out, err = await asyncio.wait_for(self.proc.communicate(), 15)
        finally:
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
        assert self.proc.returncode is not None
        return Run(self.proc.returncode, out.decode(), err.decode())


async def start_fake(*options: str) -> Fake:
    """Start ``python -m intercom_async fake --port 0 *options`` and read its URL."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "intercom_async",
        "fake",
        "--port",
        "0",
        *options,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(None),
        cwd=ROOT,
    )
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), START)
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    url = line.decode().strip()
    if not re.fullmatch(r"http://127\.0\.0\.1:\d+", url):
        proc.kill()
        _, err = await proc.communicate()
        pytest.fail(f"no URL from the fake: {line!r}, stderr: {err.decode()!r}")
    return Fake(proc, url)


@pytest.fixture
async def fake() -> AsyncIterator[Fake]:
    """``intercom-async fake --tickets 30 --seed 4``, stopped after the test if still running."""
    started = await start_fake("--tickets", "30", "--seed", "4")
    yield started
    if started.proc.returncode is None:
        await started.stop()


def ticket(ticket_id: str, seed: int = 4) -> object:
    """The JSON ``get`` prints for a ticket the fake generated with ``seed``."""
    return drop_nulls(generate_ticket(ticket_id, parts=FAKE_PARTS, seed=seed))


def check_stopped(run: Run) -> None:
    check_clean(run.stdout, run.stderr)
    assert run.status == 0, run.stderr
    assert run.stdout == ""  # the URL, already read, and nothing else
    assert run.stderr_lines[0].startswith("fake: a fake Intercom with tickets 1 to ")
    assert re.fullmatch(r"fake: stopped after \d+ requests", run.stderr_lines[-1])


@POSIX
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
async def test_the_cli_fetches_from_the_fake(fake: Fake, signum: int) -> None:
    got = await cli("get", "7", "--base-url", fake.url, token=ANY_TOKEN)
    assert got.status == 0, got.stderr
    assert json.loads(got.stdout) == ticket("7")
    missing = await cli("get", "31", "--base-url", fake.url, token="another-token")
    assert missing.status == 3  # past --tickets
    assert "HTTP 404" in missing.stderr
    many = await cli("get-many", "--base-url", fake.url, token=ANY_TOKEN, stdin=b"1\n2\n30\n")
    assert many.status == 0, many.stderr
    assert sorted(json.loads(line)["id"] for line in many.stdout_lines) == ["1", "2", "30"]
    stopped = await fake.stop(signum)
    check_stopped(stopped)
    assert stopped.stderr_lines[-1] == "fake: stopped after 5 requests"


@POSIX
async def test_only_the_token_given_when_one_is(fake: Fake) -> None:
    await fake.stop()
    own = await start_fake("--tickets", "3", "--token", "fake-own-token")
    try:
        right = await cli("get", "2", "--base-url", own.url, token="fake-own-token")
        wrong = await cli("get", "2", "--base-url", own.url, token=ANY_TOKEN)
    finally:
        stopped = await own.stop()
    assert right.status == 0, right.stderr
    assert json.loads(right.stdout) == ticket("2", seed=0)
    assert wrong.status == 4
    assert "HTTP 401" in wrong.stderr
    check_stopped(stopped)
    assert "fake-own-token" not in stopped.stderr  # a token is never printed, not even its own


@POSIX
async def test_an_empty_token_is_refused(fake: Fake) -> None:
    # The client will not send an empty token, so ask with aiohttp itself.
    import aiohttp

    async with aiohttp.ClientSession() as session:
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Basic abc"}):
            async with session.get(f"{fake.url}/tickets/1", headers=headers) as response:
                assert response.status == 401, headers
        async with session.get(
            f"{fake.url}/tickets/1", headers={"Authorization": "bearer  x "}
        ) as response:
            assert response.status == 200


@POSIX
async def test_rate_limit_and_faults() -> None:
    limited = await start_fake("--tickets", "5", "--rate-limit", "2/60")
    try:
        runs = [
            await cli("get", ticket_id, "--base-url", limited.url, "--max-attempts", "1")
            for ticket_id in ("1", "2", "3")
        ]
    finally:
        check_stopped(await limited.stop())
    assert [run.status for run in runs] == [0, 0, 1]
    assert "HTTP 429" in runs[2].stderr  # the window's 2 used up, for a minute
    flaky = await start_fake("--tickets", "5", "--fault-rate", "1")
    try:
        failed = await cli("get", "1", "--base-url", flaky.url, "--max-attempts", "1")
    finally:
        check_stopped(await flaky.stop())
    assert failed.status == 1  # every request fails
    assert failed.stdout == ""


@pytest.mark.parametrize(
    ("options", "option"),
    [
        pytest.param(["--rate-limit", "100"], "--rate-limit", id="no-slash"),
        pytest.param(["--rate-limit", "a/10"], "--rate-limit", id="not-a-number"),
        pytest.param(["--rate-limit", "0/10"], "--rate-limit", id="zero-requests"),
        pytest.param(["--rate-limit", "10/0"], "--rate-limit", id="zero-seconds"),
        pytest.param(["--rate-limit", "10/nan"], "--rate-limit", id="nan-seconds"),
        pytest.param(["--rate-limit", "10/inf"], "--rate-limit", id="inf-seconds"),
        pytest.param(["--fault-rate", "1.5"], "--fault-rate", id="fault-rate-over-1"),
        pytest.param(["--fault-rate", "nan"], "--fault-rate", id="fault-rate-nan"),
        pytest.param(["--port", "65536"], "--port", id="port"),
        pytest.param(["--tickets", "-1"], "--tickets", id="tickets"),
    ],
)
async def test_bad_options_are_usage_errors(options: list[str], option: str) -> None:
    run = await cli("fake", *options, token=None, limit=15)
    assert run.status == 2
    assert run.stdout == ""
    assert f"Invalid value for '{option}'" in run.stderr_lines[-1]


@POSIX
async def test_a_port_in_use_is_one_error_line(fake: Fake) -> None:
    port = fake.url.rpartition(":")[2]
    run = await cli("fake", "--port", port, token=None, limit=15)
    assert run.status == 2
    assert run.stdout == ""
    [line] = run.stderr_lines
    assert line.startswith(f"error: cannot listen on http://127.0.0.1:{port}: "), line


async def test_a_token_with_spaces_is_one_error_line() -> None:
    run = await cli("fake", "--port", "0", "--token", " spaced ", token=None, limit=15)
    assert run.status == 2
    assert run.stdout == ""
    [line] = run.stderr_lines
    assert line.startswith("error: --token: token must be non-empty"), line
    assert "spaced" not in line


@POSIX
async def test_the_command_searches(fake: Fake) -> None:
    """``POST /tickets/search`` through the command's own door (any token), page by page."""
    import aiohttp

    headers = {"Authorization": f"Bearer {ANY_TOKEN}", "Intercom-Version": "2.10"}
    body: dict[str, object] = {
        "query": {"field": "updated_at", "operator": ">", "value": 0},
        "pagination": {"per_page": 12},
    }
    ids: list[str] = []
    async with aiohttp.ClientSession(headers=headers) as session:
        for _ in range(4):
            async with session.post(f"{fake.url}/tickets/search", json=body) as response:
                assert response.status == 200
                page = await response.json()
            ids += [t["id"] for t in page["tickets"]]
            if "next" not in page["pages"]:
                break
            body["pagination"] = page["pages"]["next"]
    assert ids == [str(n) for n in range(1, 31)]
    assert page["tickets"][-1] == generate_ticket("30", parts=FAKE_PARTS, seed=4, version="2.10")
    check_stopped(await fake.stop())
