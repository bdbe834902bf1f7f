"""Where ``get-many`` writes its tickets, as a shell wires it: a pipe whose reader lags while
Ctrl-C comes (every line whole, and counted only once written), a reader that stops early
(``| head -1``: a quiet exit), and an output file that is also the ids file (refused before it
is truncated).

Like ``test_cli``, each test runs the CLI in a subprocess against a ``FakeIntercom`` served by
the test's own event loop; the pipes and ``head`` are real.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import signal
import sys
import termios
import time
from pathlib import Path

import pytest

from intercom_async.testing import FakeIntercom, Fault, generate_ticket

from .test_cli import POSIX, ROOT, SEED, TOKEN, Run, check_clean, cli, cli_env

LINUX = pytest.mark.skipif(sys.platform != "linux", reason="pipe sizes are Linux's fcntl")
F_GETPIPE_SZ = 1032  # fcntl.F_GETPIPE_SZ, named in the module from Python 3.10 on Linux only
EXIT_STDOUT_CLOSED = 141  # 128 + SIGPIPE, what a shell reports for `yes | head -1`


def read_all(fd: int) -> bytes:
    """Everything a pipe's read end gives until end of file (blocking: run it on a thread)."""
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


async def wait_until_full(fd: int, capacity: int, limit: float = 20.0) -> None:
    """Wait until the pipe whose read end is ``fd`` holds ``capacity`` bytes: its writer is
    then blocked in ``write()``."""
    waiting = bytearray(4)
    deadline = time.monotonic() + limit
    while True:
        fcntl.ioctl(fd, termios.FIONREAD, waiting)
        if int.from_bytes(waiting, sys.byteorder) >= capacity:
            return
        assert time.monotonic() < deadline, "the CLI never filled its stdout"
        await asyncio.sleep(0.02)


# -- Ctrl-C while a line is half written (defect 13) -----------------------------------------


@POSIX
@LINUX
@pytest.mark.parametrize("unbuffered", [True, False], ids=["PYTHONUNBUFFERED", "buffered"])
async def test_ctrl_c_while_the_reader_lags_leaves_every_line_whole(unbuffered: bool) -> None:
    """Each ticket line is longer than the pipe holds: the first write fills the pipe and
    blocks half way, and Ctrl-C comes then. ``write()`` returns the part written (with
    ``PYTHONUNBUFFERED=1``, as Docker images set it, stdout has no buffer to finish it); the
    rest of the line must still go out, and the summary count only whole lines."""
    async with FakeIntercom(token=TOKEN, tickets=20, seed=SEED, parts=400) as fake:
        read_end, write_end = os.pipe()
        try:
            capacity = fcntl.fcntl(write_end, F_GETPIPE_SZ)
            size = len(json.dumps(generate_ticket("1", parts=400, seed=SEED)))
            assert size > capacity  # so the write of the first line blocks in its middle
            env = cli_env()
            env.pop("PYTHONUNBUFFERED", None)
            if unbuffered:
                env["PYTHONUNBUFFERED"] = "1"
            ids = [str(i) for i in range(1, 21)]
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                *("-m", "intercom_async", "--base-url", fake.base_url, "get-many"),
                *("--concurrency", "2", *ids),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=write_end,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                cwd=ROOT,
            )
            os.close(write_end)
            write_end = -1
            try:
                await wait_until_full(read_end, capacity)
                await asyncio.sleep(0.2)  # the writer is asleep in write()
                proc.send_signal(signal.SIGINT)
                await asyncio.sleep(0.3)  # the lagging reader, still not reading
                reading = asyncio.get_running_loop().run_in_executor(None, read_all, read_end)
                assert proc.stderr is not None
                err = await asyncio.wait_for(proc.stderr.read(), 20)
                out = await asyncio.wait_for(reading, 20)
                await asyncio.wait_for(proc.wait(), 20)
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
        finally:
            os.close(read_end)
            if write_end >= 0:
                os.close(write_end)
    run = Run(proc.returncode or 0, out.decode(errors="replace"), err.decode())
    check_clean(run.stdout, run.stderr)
    assert run.status == 130, run.stderr
    cut = out.rpartition(b"\n")[2]
    assert not cut, f"a line cut after {len(cut)} bytes"
    lines = out.splitlines()
    assert 1 <= len(lines) < len(ids)
    for line in lines:
        assert json.loads(line)["type"] == "ticket"
    assert run.summary()["interrupted"] == "yes"
    assert run.summary()["fetched"] == str(len(lines))


# -- a reader that stops early: `| head -1` (defect 15) --------------------------------------


async def piped_into_head(fake: FakeIntercom, *args: str) -> tuple[Run, bytes]:
    """``intercom-async --base-url URL *args | head -1``, over a real pipe; the CLI's run and
    what ``head`` printed."""
    read_end, write_end = os.pipe()
    try:
        head = await asyncio.create_subprocess_exec(
            "head", "-1", stdin=read_end, stdout=asyncio.subprocess.PIPE
        )
        cli_proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "intercom_async", "--base-url", fake.base_url, *args),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=write_end,
            stderr=asyncio.subprocess.PIPE,
            env=cli_env(),
            cwd=ROOT,
        )
    finally:
        os.close(read_end)
        os.close(write_end)
    try:
        shown, _ = await asyncio.wait_for(head.communicate(), 25)
        _, err = await asyncio.wait_for(cli_proc.communicate(), 25)
    finally:
        for proc in (head, cli_proc):
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert cli_proc.returncode is not None
    run = Run(cli_proc.returncode, "", err.decode())
    check_clean(run.stdout, run.stderr)
    return run, shown


@POSIX
async def test_get_many_into_head_exits_quietly_and_stops() -> None:
    async with FakeIntercom(token=TOKEN, tickets=40, seed=SEED, parts=3) as fake:
        fake.random_faults(1.0, kinds=[Fault.slow(0.02)])  # 400 ids take seconds
        ids = [str(i % 40 + 1) for i in range(400)]
        run, shown = await piped_into_head(fake, "get-many", "--concurrency", "4", *ids)
        requests = len(fake.requests)
    assert json.loads(shown)["type"] == "ticket"
    assert run.status == EXIT_STDOUT_CLOSED, run.stderr
    assert "error" not in run.stderr.lower()
    summary = run.summary()
    assert summary["output closed"] == "yes"
    assert int(summary["fetched"]) >= 1
    assert summary["failed"] == "0"
    assert "interrupted" not in summary
    assert requests < len(ids)  # it stopped fetching once nobody read


@POSIX
async def test_get_into_a_closed_pipe_exits_quietly() -> None:
    async with FakeIntercom(token=TOKEN, tickets=40, seed=SEED, parts=400) as fake:
        run, shown = await piped_into_head(fake, "get", "--pretty", "1")
    assert shown == b"{\n"
    assert (run.status, run.stderr) == (EXIT_STDOUT_CLOSED, "")


# -- the ids file as the output (defect 14) --------------------------------------------------


IDS = "1\n2\n3\n"


@pytest.mark.parametrize("how", ["same-path", "hard-link", "relative"])
async def test_the_ids_file_as_the_output_is_refused_untouched(tmp_path: Path, how: str) -> None:
    async with FakeIntercom(token=TOKEN, tickets=40, seed=SEED, parts=3) as fake:
        ids = tmp_path / "ids.txt"
        ids.write_text(IDS)
        output = {"same-path": ids, "hard-link": tmp_path / "link.txt", "relative": ids}[how]
        if how == "hard-link":
            os.link(ids, output)
        if how == "relative":  # the same file, named another way
            output = tmp_path / "sub" / ".." / "ids.txt"
            (tmp_path / "sub").mkdir()
        run = await cli("--base-url", fake.base_url, "get-many", "--ids-file", ids, "-o", output)
        assert run.status == 2, run.stderr
        assert run.stderr.startswith("error: ") and "ids file" in run.stderr
        assert len(run.stderr_lines) == 1
        assert ids.read_text() == IDS
        assert fake.requests == []


@POSIX
@pytest.mark.parametrize(
    "redirect",
    [
        pytest.param('--ids-file "$1" >> "$1"', id="ids-file-appended-to"),
        pytest.param('-o "$1" < "$1"', id="stdin-into-o"),
        pytest.param('< "$1" >> "$1"', id="stdin-appended-to"),
    ],
)
async def test_the_input_as_the_output_through_the_shell_is_refused(
    tmp_path: Path, redirect: str
) -> None:
    """The same file on both ends through redirections: read as ids, its tickets would be
    appended to it and read back as ids, for ever."""
    ids = tmp_path / "ids.txt"
    ids.write_text(IDS)
    async with FakeIntercom(token=TOKEN, tickets=40, seed=SEED, parts=3) as fake:
        script = f'exec "$0" -m intercom_async --base-url "$2" get-many {redirect}'
        proc = await asyncio.create_subprocess_exec(
            *("sh", "-c", script, sys.executable, str(ids), fake.base_url),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=cli_env(),
            cwd=ROOT,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), 25)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        assert (proc.returncode, out) == (2, b""), err
        assert err.decode().startswith("error: ") and "ids" in err.decode()
        assert ids.read_text() == IDS
        assert fake.requests == []


async def test_another_output_file_is_still_written(tmp_path: Path) -> None:
    async with FakeIntercom(token=TOKEN, tickets=40, seed=SEED, parts=3) as fake:
        ids, output = tmp_path / "ids.txt", tmp_path / "out.jsonl"
        ids.write_text(IDS)
        output.write_text("old\n")
        run = await cli("--base-url", fake.base_url, "get-many", "--ids-file", ids, "-o", output)
    assert run.status == 0, run.stderr
    assert sorted(json.loads(line)["id"] for line in output.read_text().splitlines()) == [
        "1",
        "2",
        "3",
    ]
