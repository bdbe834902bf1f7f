"""The command line as people type it: the connection options before the command or after it
(``intercom-async get 1295 --region eu``), and ``get-many`` reading its ids from a pipe when it
is given none (``cat ids.txt | intercom-async get-many``).

As in ``test_cli``, each run is ``python -m intercom_async ...`` in a subprocess, against a
``FakeIntercom`` served by the test's own event loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from intercom_async.testing import FakeIntercom, Fault

from .test_cli import POSIX, ROOT, TICKETS, TOKEN, Run, check_clean, cli, cli_env, expected


@pytest.fixture
async def fake() -> AsyncIterator[FakeIntercom]:
    """A fake Intercom served by the test's event loop, with tickets "1" to "40"."""
    async with FakeIntercom(token=TOKEN, tickets=TICKETS, seed=11, parts=3) as server:
        yield server


def placed(position: str, options: list[str], command: list[str]) -> list[str]:
    """``options`` before the command (``position`` "before") or after it ("after")."""
    return [*options, *command] if position == "before" else [*command, *options]


BOTH = pytest.mark.parametrize("position", ["before", "after"])


# -- each option, in either place ------------------------------------------------------------


@BOTH
async def test_base_url_and_api_version(fake: FakeIntercom, position: str) -> None:
    run = await cli(*placed(position, ["--base-url", fake.base_url, "-V", "2.11"], ["get", "7"]))
    assert run.status == 0, run.stderr
    assert json.loads(run.stdout) == expected("7", "2.11")
    assert fake.requests[-1].headers["Intercom-Version"] == "2.11"


@BOTH
async def test_token_file(fake: FakeIntercom, tmp_path: Path, position: str) -> None:
    (tmp_path / "token").write_text(TOKEN + "\n")
    options = ["--token-file", str(tmp_path / "token"), "--base-url", fake.base_url]
    run = await cli(*placed(position, options, ["get", "2"]), token=None)
    assert run.status == 0, run.stderr
    assert json.loads(run.stdout) == expected("2")


@BOTH
async def test_max_attempts_and_verbose(fake: FakeIntercom, position: str) -> None:
    fake.inject("3", Fault.status(503), times=1)
    options = ["--base-url", fake.base_url, "--max-attempts", "2", "--verbose"]
    run = await cli(*placed(position, options, ["get", "3"]))
    assert run.status == 0, run.stderr
    [line] = run.stderr_lines  # the retry, logged
    assert "retrying in" in line
    fake.inject("3", Fault.status(503), times=1)
    options = ["--base-url", fake.base_url, "--max-attempts", "1"]
    run = await cli(*placed(position, options, ["get", "3"]))
    assert run.status == 1
    assert "HTTP 503" in run.stderr


@BOTH
async def test_timeout(fake: FakeIntercom, position: str) -> None:
    fake.inject("4", Fault.slow(2.0), times=None)
    options = ["--base-url", fake.base_url, "--timeout", "0.2", "--max-attempts", "1"]
    run = await cli(*placed(position, options, ["get", "4"]))
    assert run.status == 1
    [line] = run.stderr_lines
    assert "timed out" in line or "Timeout" in line, line


@BOTH
@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param(["--region", "mars"], "region", id="region"),
        pytest.param(["--base-url", "http://example.com"], "plain http", id="base-url"),
        pytest.param(["--redis-url", "http://example.com"], "must be a Redis URL", id="redis-url"),
    ],
)
async def test_bad_values_are_usage_errors(
    fake: FakeIntercom, position: str, options: list[str], message: str
) -> None:
    for command in (["get", "1"], ["get-many", "1", "2"]):
        run = await cli(*placed(position, options, command))
        assert run.status == 2
        [line] = run.stderr_lines
        assert line.startswith("error: ") and message in line, line
    assert fake.requests == []


@BOTH
async def test_click_checks_the_values_in_either_place(position: str) -> None:
    run = await cli(*placed(position, ["--timeout", "nan"], ["get", "1"]))
    assert run.status == 2
    assert "Invalid value for '--timeout'" in run.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="0.0.0.0 reaches this machine on Linux")
@BOTH
async def test_allow_insecure_http(fake: FakeIntercom, position: str) -> None:
    # 0.0.0.0 is no loopback address to the client, but Linux connects it to this machine.
    url = fake.base_url.replace("127.0.0.1", "0.0.0.0")
    run = await cli("--base-url", url, "get", "1")
    assert run.status == 2
    assert "plain http" in run.stderr
    run = await cli(*placed(position, ["--base-url", url, "--allow-insecure-http"], ["get", "1"]))
    assert run.status == 0, run.stderr
    assert json.loads(run.stdout) == expected("1")


@BOTH
async def test_get_many(fake: FakeIntercom, position: str) -> None:
    options = ["--base-url", fake.base_url, "--api-version", "2.10"]
    run = await cli(*placed(position, options, ["get-many", "--ordered", "5", "6"]))
    assert run.status == 0, run.stderr
    assert [json.loads(line) for line in run.stdout_lines] == [
        expected("5", "2.10"),
        expected("6", "2.10"),
    ]
    assert {r.headers["Intercom-Version"] for r in fake.requests} == {"2.10"}


# -- before and after at once ----------------------------------------------------------------


async def test_after_the_command_wins(fake: FakeIntercom) -> None:
    run = await cli("-V", "2.10", "--base-url", fake.base_url, "get", "1", "-V", "2.11")
    assert run.status == 0, run.stderr
    assert fake.requests[-1].headers["Intercom-Version"] == "2.11"


async def test_a_default_after_the_command_does_not_undo_a_value_before_it(
    fake: FakeIntercom,
) -> None:
    """Options left out after the command (their default there: 2.9, 5 attempts, not
    verbose) keep what was typed before it."""
    fake.inject("8", Fault.status(503), times=1)
    base = ["--base-url", fake.base_url]
    run = await cli(*base, "-V", "2.11", "--max-attempts", "1", "-v", "get", "8", "--pretty")
    assert run.status == 1  # one attempt: the 503 is final
    assert fake.requests[-1].headers["Intercom-Version"] == "2.11"
    fake.inject("8", Fault.status(503), times=1)
    run = await cli(*base, "-v", "get", "8", "--timeout", "30")
    assert run.status == 0, run.stderr
    assert "retrying in" in run.stderr  # still verbose


async def test_a_value_typed_before_the_command_wins_over_the_environment(
    fake: FakeIntercom,
) -> None:
    """``INTERCOM_REDIS_URL`` is the default of ``--redis-url`` on both sides of the command:
    ``--redis-url ''`` before it turns it off, and the environment after it does not undo that.
    """
    env = {"INTERCOM_REDIS_URL": "http://not-a-redis-url"}
    run = await cli("--redis-url", "", "--base-url", fake.base_url, "get", "1", env=env)
    assert run.status == 0, run.stderr
    run = await cli("--base-url", fake.base_url, "get", "1", "--redis-url", "", env=env)
    assert run.status == 0, run.stderr
    run = await cli("--base-url", fake.base_url, "get", "1", env=env)  # the environment's
    assert run.status == 2
    assert "must be a Redis URL" in run.stderr


async def test_the_help_of_a_command_lists_the_connection_options() -> None:
    run = await cli("get", "--help", token=None)
    assert run.status == 0
    for option in ("--pretty", "--region", "--base-url", "--token-file", "--redis-url", "-v"):
        assert option in run.stdout
    options = run.stdout.partition("Options:")[2]
    assert options.index("--pretty") < options.index("--region")  # its own first


async def test_demo_takes_verbose_after_it_too() -> None:
    run = await cli("demo", "--tickets", "300", "--seed", "5", "-v", token=None)
    assert run.status == 0, run.stderr
    assert "retrying in" in run.stderr  # the demo's faults, retried and logged
    run = await cli("demo", "--tickets", "5", "--region", "eu", token=None)
    assert run.status == 2  # the other connection options do not apply to it
    assert "No such option" in run.stderr and "--region" in run.stderr


# -- every option applies, or is refused -----------------------------------------------------


@pytest.mark.parametrize(
    ("before", "command", "refused"),
    [
        pytest.param(["--region", "eu"], ["demo", "--tickets", "5"], "--region", id="demo-region"),
        pytest.param(
            ["--max-attempts", "1", "-v"], ["demo", "--tickets", "5"], "--max-attempts", id="demo"
        ),
        pytest.param(["--token-file", "x"], ["fake", "--port", "0"], "--token-file", id="fake"),
        pytest.param(["-v"], ["fake", "--port", "0"], "--verbose", id="fake-verbose"),
        pytest.param(
            ["--redis-url", "redis://127.0.0.1:1"], ["fake", "--port", "0"], "--redis-url", id="r"
        ),
    ],
)
async def test_connection_options_before_demo_or_fake_are_refused(
    before: list[str], command: list[str], refused: str
) -> None:
    """Typed before ``demo`` or ``fake``, a connection option that does not apply to it was
    silently ignored; it is a usage error, as it is after the command."""
    run = await cli(*before, *command, token=None, limit=10)
    assert run.status == 2, run.stderr
    [line] = run.stderr_lines
    assert line.startswith("error: ") and refused in line and command[0] in line, line
    assert run.stdout == ""


async def test_verbose_before_demo_applies() -> None:
    run = await cli("-v", "demo", "--tickets", "300", "--seed", "5", token=None)
    assert run.status == 0, run.stderr
    assert "retrying in" in run.stderr


async def test_the_environment_of_an_option_before_demo_is_no_option(
    fake: FakeIntercom,
) -> None:
    """``INTERCOM_REDIS_URL`` (and ``INTERCOM_BASE_URL``) are for the commands that use them:
    ``demo`` runs with them set."""
    env = {"INTERCOM_REDIS_URL": "redis://127.0.0.1:1", "INTERCOM_BASE_URL": fake.base_url}
    run = await cli("demo", "--tickets", "5", token=None, env=env)
    assert run.status == 0, run.stderr
    assert fake.requests == []


@BOTH
@pytest.mark.parametrize("region", ["mars", "eu"])
async def test_region_with_a_base_url_is_refused(
    fake: FakeIntercom, position: str, region: str
) -> None:
    """``--region mars`` passed when ``--base-url`` was given; and a region, which a base URL
    replaces, would not apply."""
    options = ["--region", region, "--base-url", fake.base_url]
    for command in (["get", "1"], ["get-many", "1", "2"]):
        run = await cli(*placed(position, options, command))
        assert run.status == 2, run.stderr
        [line] = run.stderr_lines
        assert line.startswith("error: ") and "region" in line, line
    assert fake.requests == []


async def test_the_base_url_comes_from_the_environment(fake: FakeIntercom) -> None:
    env = {"INTERCOM_BASE_URL": fake.base_url}
    run = await cli("get", "7", env=env)
    assert run.status == 0, run.stderr
    assert json.loads(run.stdout) == expected("7")
    run = await cli("get-many", "--ordered", "5", "6", env=env)
    assert run.status == 0, run.stderr
    assert [json.loads(line) for line in run.stdout_lines] == [expected("5"), expected("6")]
    assert len(fake.requests) == 3
    # --base-url wins over it, in either place; --region with it is refused
    bad = {"INTERCOM_BASE_URL": "http://example.com"}
    run = await cli("--base-url", fake.base_url, "get", "1", env=bad)
    assert run.status == 0, run.stderr
    run = await cli("get", "1", "--base-url", fake.base_url, env=bad)
    assert run.status == 0, run.stderr
    run = await cli("get", "1", "--region", "eu", env=env)
    assert run.status == 2
    assert "region" in run.stderr
    assert len(fake.requests) == 5


async def test_a_bad_base_url_in_the_environment_is_a_usage_error(fake: FakeIntercom) -> None:
    run = await cli("get", "1", env={"INTERCOM_BASE_URL": "ftp://example.com"})
    assert run.status == 2
    [line] = run.stderr_lines
    assert line.startswith("error: ") and "INTERCOM_BASE_URL" in line, line


async def test_the_help_names_the_base_url_variable() -> None:
    run = await cli("get", "--help", token=None)
    assert run.status == 0
    assert "INTERCOM_BASE_URL" in run.stdout


# -- ids from a pipe -------------------------------------------------------------------------


async def test_ids_from_a_pipe_without_a_dash(fake: FakeIntercom, tmp_path: Path) -> None:
    """``cat ids.txt | intercom-async get-many``, as a shell runs it."""
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("3\n\n 9 \n12\n")
    command = " ".join(
        shlex.quote(str(arg))
        for arg in (sys.executable, "-m", "intercom_async", "get-many", "--base-url", fake.base_url)
    )
    proc = await asyncio.create_subprocess_shell(
        f"cat {shlex.quote(str(ids_file))} | {command}",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(),
        cwd=ROOT,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 25)
    run = Run(proc.returncode if proc.returncode is not None else -1, out.decode(), err.decode())
    check_clean(run.stdout, run.stderr)
    assert run.status == 0, run.stderr
    tickets = sorted((json.loads(line) for line in run.stdout_lines), key=lambda t: int(t["id"]))
    assert tickets == [expected("3"), expected("9"), expected("12")]
    assert run.summary()["fetched"] == "3"


async def test_ids_given_as_arguments_leave_stdin_alone(fake: FakeIntercom) -> None:
    run = await cli("get-many", "2", "--base-url", fake.base_url, stdin=b"5\n6\n")
    assert run.status == 0, run.stderr
    assert [json.loads(line)["id"] for line in run.stdout_lines] == ["2"]
    assert [r.ticket_id for r in fake.requests] == ["2"]


async def test_an_empty_pipe_is_no_ids(fake: FakeIntercom) -> None:
    run = await cli("get-many", "--base-url", fake.base_url, stdin=b"")
    assert run.status == 2
    assert run.stderr == "error: no ticket ids in standard input\n"
    assert fake.requests == []


@POSIX
async def test_a_terminal_on_stdin_is_not_read(fake: FakeIntercom) -> None:
    """With no ids and a terminal on stdin, ``get-many`` says what it needs at once rather
    than waiting for someone to type ids."""
    import pty

    master, slave = pty.openpty()
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "intercom_async",
            "get-many",
            "--base-url",
            fake.base_url,
            stdin=slave,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=cli_env(),
            cwd=ROOT,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), 15)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == 2
    assert out == b""
    assert err.decode() == (
        "error: no ticket ids: give them as arguments, with --ids-file FILE, or on stdin\n"
    )
