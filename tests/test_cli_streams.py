"""The command line and its standard streams: ids streamed from a stdin that stays open (each
ticket out while the next id is still to come, Ctrl-C at any time), unreadable or empty input,
and a stdout or stderr that the shell closed (``>&-``, ``2>&-``).

Like ``test_cli``, each test runs the CLI in a subprocess against a ``FakeIntercom`` served by
the test's own event loop.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from intercom_async.testing import FakeIntercom

from .test_cli import POSIX, ROOT, TICKETS, TOKEN, Run, check_clean, cli, cli_env, expected

STDOUT_CLOSED = "error: standard output is closed: nowhere to write to"
WAIT = 10.0  # seconds a line may take to come; the old, blocking reader never sent it


@pytest.fixture
async def server() -> AsyncIterator[FakeIntercom]:
    """A fake Intercom served by the test's event loop, with tickets "1" to "40"."""
    async with FakeIntercom(token=TOKEN, tickets=TICKETS, seed=11, parts=3) as fake:
        yield fake


async def start(*args: str) -> asyncio.subprocess.Process:
    """Start ``python -m intercom_async *args`` with pipes for stdin, stdout and stderr."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "intercom_async",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(),
        cwd=ROOT,
    )


async def feed(proc: asyncio.subprocess.Process, data: bytes) -> None:
    assert proc.stdin is not None
    proc.stdin.write(data)
    await proc.stdin.drain()


async def next_ticket(proc: asyncio.subprocess.Process) -> str:
    """The id of the next ticket on stdout; a ``TimeoutError`` if none comes in ``WAIT``."""
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), WAIT)
    assert line.endswith(b"\n"), line
    ticket_id: str = json.loads(line)["id"]
    assert json.loads(line) == expected(ticket_id)
    return ticket_id


async def finish(proc: asyncio.subprocess.Process) -> Run:
    """Wait for the end of the run (killing it after ``WAIT``): its stdout from here on."""
    try:
        rest, err = await asyncio.wait_for(proc.communicate(), WAIT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    run = Run(proc.returncode, rest.decode(), err.decode())
    check_clean(run.stdout, run.stderr)
    return run


# -- ids streamed from stdin -----------------------------------------------------------------


@pytest.mark.parametrize("how", [["-"], ["--ids-file", "-"]])
async def test_stdin_is_streamed_while_it_is_open(server: FakeIntercom, how: list[str]) -> None:
    proc = await start("--base-url", server.base_url, "get-many", *how)
    try:
        await feed(proc, b"1\n2\n")
        assert sorted([await next_ticket(proc), await next_ticket(proc)]) == ["1", "2"]
        await feed(proc, b"\n  3 \r\n")  # later, blank lines and spaces: still each at once
        assert await next_ticket(proc) == "3"
        assert proc.returncode is None  # the run waits for more
        assert proc.stdin is not None
        proc.stdin.close()
    finally:
        run = await finish(proc)
    assert run.status == 0, run.stderr
    assert run.stdout == ""  # nothing after the three tickets
    assert (run.summary()["fetched"], run.summary()["failed"]) == ("3", "0")


@POSIX
async def test_ctrl_c_while_stdin_is_open_and_idle(server: FakeIntercom) -> None:
    proc = await start("--base-url", server.base_url, "get-many", "-")
    try:
        await feed(proc, b"7\n")
        assert await next_ticket(proc) == "7"
        proc.send_signal(signal.SIGINT)  # the reader thread is stuck in a read of the pipe
        started = time.monotonic()
    finally:
        run = await finish(proc)
    assert run.status == 130, run.stderr
    assert time.monotonic() - started < 5
    assert run.summary()["interrupted"] == "yes"
    assert run.summary()["fetched"] == "1"


async def test_ids_read_before_a_bad_line_keep_their_tickets(server: FakeIntercom) -> None:
    proc = await start("--base-url", server.base_url, "get-many", "-")
    try:
        await feed(proc, b"4\n")
        assert await next_ticket(proc) == "4"
        await feed(proc, b"5\xff\n6\n")
        assert proc.stdin is not None
        proc.stdin.close()
    finally:
        run = await finish(proc)
    assert run.status == 2
    assert run.stdout == ""  # nothing after ticket 4
    assert run.summary()["fetched"] == "1"  # the summary, then the error, last
    assert run.stderr_lines[-1] == "error: cannot read ids from standard input: not UTF-8 text"
    assert [r.path for r in server.requests] == ["/tickets/4"]


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        pytest.param(b"", "no ticket ids in standard input", id="empty"),
        pytest.param(b"\n \r\n\t\n", "no ticket ids in standard input", id="blank"),
        pytest.param(
            b"\xff\xfe1\n", "cannot read ids from standard input: not UTF-8 text", id="utf-16"
        ),
        pytest.param(
            b"1\n2\n3\xe9\n", "cannot read ids from standard input: not UTF-8 text", id="latin"
        ),
    ],
)
async def test_stdin_without_ids_is_one_error_line(
    server: FakeIntercom, stdin: bytes, message: str
) -> None:
    run = await cli("--base-url", server.base_url, "get-many", "-", stdin=stdin)
    assert run.status == 2
    assert (run.stdout, run.stderr) == ("", f"error: {message}\n")
    assert server.requests == []


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


def connection(server: FakeIntercom, args: tuple[str, ...]) -> list[str]:
    """The connection options for ``args``: ``--base-url``, but none for ``demo``, which
    refuses them."""
    return [] if args[0] == "demo" else ["--base-url", server.base_url]


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
    run = await shell_cli(">&-", *connection(server, args), *args)
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
    run = await shell_cli("2>&-", *connection(server, args), *args)
    assert run.status == status
    assert run.stderr == ""
    assert [json.loads(line)["id"] for line in run.stdout_lines] == tickets  # nothing else


@POSIX
async def test_both_closed(server: FakeIntercom) -> None:
    run = await shell_cli(">&- 2>&-", "--base-url", server.base_url, "get", "1")
    assert (run.status, run.stdout, run.stderr) == (2, "", "")
    assert server.requests == []
