"""The command line and its standard streams: a stdout or stderr that the shell closed
(``>&-``, ``2>&-``).

Like ``test_cli``, each test runs the CLI in a subprocess against a ``FakeIntercom`` served by
the test's own event loop.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from intercom_async.testing import FakeIntercom

from .test_cli import POSIX, ROOT, TICKETS, TOKEN, Run, check_clean, cli_env

STDOUT_CLOSED = "error: standard output is closed: nowhere to write to"


@pytest.fixture
async def server() -> AsyncIterator[FakeIntercom]:
    """A fake Intercom served by the test's event loop, with tickets "1" to "40"."""
    async with FakeIntercom(token=TOKEN, tickets=TICKETS, seed=11, parts=3) as fake:
        yield fake


# -- a stdout or stderr the shell closed -----------------------------------------------------


async def shell_cli(redirect: str, *args: str | Path, limit: float = 25.0) -> Run:
    """Run the CLI with ``redirect`` (``>&-``, ``2>&-``) applied by ``sh``, stdin at EOF."""
    script = f'exec "$0" -m intercom_async "$@" {redirect}'
    proc = await asyncio.create_subprocess_exec(
        "sh",
        "-c",
        script,
        sys.executable,
        *map(str, args),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(),
        cwd=ROOT,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), limit)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    run = Run(proc.returncode, out.decode(), err.decode())
    check_clean(run.stdout, run.stderr)
    return run


@POSIX
@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("get", "1"), id="get"),
        pytest.param(("get", "--pretty", "1"), id="get-pretty"),
        pytest.param(("get-many", "1", "2"), id="get-many"),
        pytest.param(("get-many", "--ordered", "-o", "-", "1"), id="get-many-o-dash"),
        pytest.param(("demo", "--tickets", "5", "-o", "-"), id="demo-o-dash"),
        pytest.param(("--version",), id="version"),
        pytest.param(("get-many", "--help"), id="help"),
    ],
)
async def test_a_closed_stdout_is_one_error_line(
    server: FakeIntercom, args: tuple[str, ...]
) -> None:
    run = await shell_cli(">&-", "--base-url", server.base_url, *args)
    assert (run.status, run.stdout, run.stderr) == (2, "", STDOUT_CLOSED + "\n")
    assert server.requests == []  # found out before any request


@POSIX
async def test_a_closed_stdout_is_no_matter_when_the_tickets_go_elsewhere(
    server: FakeIntercom, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    run = await shell_cli(">&-", "--base-url", server.base_url, "get-many", "-o", out, "1", "2")
    assert run.status == 0, run.stderr
    assert run.summary()["fetched"] == "2"
    assert sorted(json.loads(line)["id"] for line in out.read_text().splitlines()) == ["1", "2"]
    demo = await shell_cli(">&-", "demo", "--tickets", "5")  # its tickets are discarded
    assert demo.status == 0, demo.stderr
    assert demo.summary()["fetched"] == "5"


@POSIX
@pytest.mark.parametrize(
    ("args", "status", "tickets"),
    [
        pytest.param(("get", "1"), 0, ["1"], id="get"),
        pytest.param(("get", "404"), 3, [], id="get-not-found"),
        pytest.param(("get", ""), 2, [], id="get-empty-id"),
        pytest.param(("--timeout", "nan", "get", "1"), 2, [], id="click-usage-error"),
        pytest.param(("get-many", "--ordered", "1", "2"), 0, ["1", "2"], id="get-many"),
        pytest.param(("get-many", "--ordered", "1", "404"), 1, ["1"], id="get-many-failure"),
        pytest.param(("get-many", "--progress", "3"), 0, ["3"], id="get-many-progress"),
        pytest.param(("demo", "--tickets", "5"), 0, [], id="demo"),
    ],
)
async def test_a_closed_stderr_leaves_the_exit_status_to_speak(
    server: FakeIntercom, args: tuple[str, ...], status: int, tickets: list[str]
) -> None:
    run = await shell_cli("2>&-", "--base-url", server.base_url, *args)
    assert run.status == status
    assert run.stderr == ""
    assert [json.loads(line)["id"] for line in run.stdout_lines] == tickets  # nothing else


@POSIX
async def test_both_closed(server: FakeIntercom) -> None:
    run = await shell_cli(">&- 2>&-", "--base-url", server.base_url, "get", "1")
    assert (run.status, run.stdout, run.stderr) == (2, "", "")
    assert server.requests == []
