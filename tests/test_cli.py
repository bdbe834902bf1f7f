"""The ``intercom-async`` command line, run as a user runs it: ``python -m intercom_async ...``.

Each test starts the CLI in a subprocess against a ``FakeIntercom`` served by the test's own event
loop (the subprocess is awaited with asyncio, so the loop keeps serving), and checks the exit
status, stdout and stderr. Every run also checks that the access token never shows and that no
traceback is printed.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from intercom_async.testing import FakeIntercom, Fault, generate_ticket

from .conftest import drop_nulls

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "tok_CLI-distinctive-SECRET-4e1b9a"
WRONG_TOKEN = "tok_WRONG-distinctive-SECRET-77c2"
SEED = 11
PARTS = 3
TICKETS = 40
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT and pseudo-terminals")
# Variables that would make rich draw colours or a terminal on a pipe, the API root, and the
# Redis of a shared rate-limit budget (the tests that mean to set them).
_TERMINAL_ENV = {"FORCE_COLOR", "PY_COLORS", "CLICOLOR_FORCE", "TTY_COMPATIBLE", "NO_COLOR"}
_LEFT_OUT = {"INTERCOM_ACCESS_TOKEN", "INTERCOM_BASE_URL", "INTERCOM_REDIS_URL", *_TERMINAL_ENV}


@attrs.frozen
class Run:
    """What one run of the CLI did."""

    status: int
    stdout: str
    stderr: str

    @property
    def stdout_lines(self) -> list[str]:
        return self.stdout.splitlines()

    @property
    def stderr_lines(self) -> list[str]:
        return self.stderr.splitlines()

    def error_records(self) -> list[dict[str, Any]]:
        """The JSON failure lines of ``get-many`` on stderr."""
        return [json.loads(line) for line in self.stderr_lines if line.startswith("{")]

    def summary(self) -> dict[str, str]:
        """The plain ``key: value`` summary lines on stderr."""
        pairs = (line.rpartition(": ") for line in self.stderr_lines if not line.startswith("{"))
        return {key: value for key, _, value in pairs if key}


def cli_env(token: str | None = TOKEN, **extra: str) -> dict[str, str]:
    """The environment of a CLI run: ours, with ``token`` (if any) and nothing forcing colours."""
    env = {k: v for k, v in os.environ.items() if k not in _LEFT_OUT}
    if token is not None:
        env["INTERCOM_ACCESS_TOKEN"] = token
    env.update(extra)
    return env


def check_clean(stdout: str, stderr: str) -> None:
    """No token and no traceback in a run's output."""
    for secret in (TOKEN, WRONG_TOKEN):
        assert secret not in stdout
        assert secret not in stderr
    assert "Traceback" not in stderr


async def cli(
    *args: str | Path,
    token: str | None = TOKEN,
    stdin: bytes | None = None,
    limit: float = 25.0,
    env: dict[str, str] | None = None,
) -> Run:
    """Run ``python -m intercom_async *args`` and wait for it, serving the fake meanwhile;
    ``env``: variables to add to ``cli_env(token)``."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "intercom_async",
        *map(str, args),
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(token, **(env or {})),
        cwd=ROOT,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), limit)
    except TimeoutError:  # a hung run fails the test, and does not outlive it
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    run = Run(proc.returncode, out.decode(), err.decode())
    check_clean(run.stdout, run.stderr)
    return run


def expected(ticket_id: str, version: str | None = None) -> Any:
    """The JSON ``get`` should print for one of the fake's generated tickets (in the shape of
    ``version``, the fake's default when ``None``)."""
    return drop_nulls(generate_ticket(ticket_id, parts=PARTS, seed=SEED, version=version))


@pytest.fixture
async def fake() -> AsyncIterator[FakeIntercom]:
    """A fake Intercom served by the test's event loop, with tickets "1" to "40"."""
    async with FakeIntercom(token=TOKEN, tickets=TICKETS, seed=SEED, parts=PARTS) as server:
        yield server


# -- get -------------------------------------------------------------------------------------


async def test_version() -> None:
    run = await cli("--version", token=None)
    assert (run.status, run.stdout) == (0, "intercom-async 0.1.0\n")


async def test_get_prints_the_ticket_as_one_json_line(fake: FakeIntercom) -> None:
    run = await cli("--base-url", fake.base_url, "get", "7")
    assert run.status == 0, run.stderr
    assert run.stderr == ""
    [line] = run.stdout_lines
    assert json.loads(line) == expected("7")
    assert ": " not in line[:40]  # compact separators


async def test_get_pretty_indents(fake: FakeIntercom) -> None:
    run = await cli("--base-url", fake.base_url, "get", "--pretty", "3")
    assert run.status == 0, run.stderr
    data = json.loads(run.stdout)
    assert data == expected("3")
    assert run.stdout == json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    assert run.stdout.startswith('{\n  "type": "ticket",\n')


async def test_get_reads_the_token_file(fake: FakeIntercom, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(f"  {TOKEN}  \nsecond line ignored\n")
    run = await cli("--token-file", token_file, "--base-url", fake.base_url, "get", "2", token=None)
    assert run.status == 0, run.stderr
    assert json.loads(run.stdout) == expected("2")


async def test_api_version_and_its_aliases(fake: FakeIntercom) -> None:
    for option, version in [
        ("--api-version", "2.10"),
        ("-V", "2.11"),
        ("--intercom-version", "Unstable"),
    ]:
        run = await cli(option, version, "--base-url", fake.base_url, "get", "1")
        assert run.status == 0, run.stderr
        assert fake.requests[-1].headers["Intercom-Version"] == version
    await cli("--base-url", fake.base_url, "get", "1")
    assert fake.requests[-1].headers["Intercom-Version"] == "2.9"


@pytest.mark.parametrize(
    ("setup", "token", "status", "pattern"),
    [
        pytest.param(
            None, TOKEN, 3, r"error: GET /tickets/404: HTTP 404 .*not_found", id="not-found"
        ),
        pytest.param(None, WRONG_TOKEN, 4, r"error: .*HTTP 401 .*unauthorized", id="bad-token"),
        pytest.param(Fault.status(403), TOKEN, 4, r"error: .*HTTP 403", id="forbidden"),
        pytest.param(Fault.status(500), TOKEN, 1, r"error: .*HTTP 500 .*server_error", id="500"),
        pytest.param(Fault.truncate(), TOKEN, 1, r"error: GET /tickets/404: .*payload", id="cut"),
    ],
)
async def test_get_failures_have_their_own_exit_status(
    fake: FakeIntercom, setup: Fault | None, token: str, status: int, pattern: str
) -> None:
    if setup is not None:
        fake.add_ticket(generate_ticket("404"))
        fake.inject("404", setup, times=None)
    run = await cli("--base-url", fake.base_url, "--max-attempts", "1", "get", "404", token=token)
    assert run.status == status
    assert run.stdout == ""
    [line] = run.stderr_lines
    assert re.match(pattern, line), line


async def test_get_retries_by_default(fake: FakeIntercom) -> None:
    fake.inject("5", Fault.status(503), times=2)
    run = await cli("--base-url", fake.base_url, "get", "5")
    assert run.status == 0, run.stderr
    assert run.stderr == ""  # retries are logged only with --verbose
    assert [r.status for r in fake.requests] == [503, 503, 200]


# -- bad usage and input: one line, status 2 -------------------------------------------------


URL, TMP = "{url}", "{tmp}"  # filled in with the fake's URL and the test's tmp_path


@pytest.mark.parametrize(
    ("args", "token", "message"),
    [
        pytest.param(("--base-url", URL, "get", ""), TOKEN, "ticket id is empty", id="empty-id"),
        pytest.param(("--base-url", URL, "get", "1"), None, "INTERCOM_ACCESS_TOKEN", id="no-token"),
        pytest.param(("--region", "mars", "get", "1"), TOKEN, "unknown region", id="bad-region"),
        pytest.param(
            ("--base-url", URL, "--api-version", "9", "get", "1"),
            TOKEN,
            "unknown Intercom API version '9'",
            id="bad-version",
        ),
        pytest.param(
            ("--base-url", "http://example.com", "get", "1"), TOKEN, "plain http", id="http"
        ),
        pytest.param(
            ("--token-file", f"{TMP}/nope", "get", "1"),
            None,
            "cannot read token file",
            id="no-token-file",
        ),
        pytest.param(
            ("--base-url", URL, "get-many"),
            TOKEN,
            "no ticket ids in standard input",  # /dev/null: no terminal, so it is read
            id="no-ids",
        ),
        pytest.param(
            ("--base-url", URL, "get-many", "1", ""), TOKEN, "ticket id #2 is empty", id="empty"
        ),
        pytest.param(
            ("--base-url", URL, "get-many", "--ids-file", f"{TMP}/nope"),
            TOKEN,
            "cannot read ids file",
            id="unreadable-ids-file",
        ),
        pytest.param(
            ("--base-url", URL, "get-many", "--ids-file", TMP),
            TOKEN,
            "cannot read ids file",
            id="ids-file-is-a-dir",
        ),
        pytest.param(
            ("--base-url", URL, "get-many", "--ids-file", f"{TMP}/blank"),
            TOKEN,
            "no ticket ids in",
            id="blank-ids-file",
        ),
        pytest.param(
            ("--base-url", URL, "get-many", "1", "--ids-file", f"{TMP}/blank"),
            TOKEN,
            "not both",
            id="ids-twice",
        ),
        pytest.param(
            ("--base-url", URL, "get-many", "1", "-o", f"{TMP}/no/out"),
            TOKEN,
            "cannot write",
            id="bad-output",
        ),
        pytest.param(
            ("--base-url", "http://intercom.example.com", "get", "1"),
            TOKEN,
            "pass --allow-insecure-http",
            id="plain-http",
        ),
    ],
)
async def test_bad_input_is_one_error_line_and_status_2(
    fake: FakeIntercom, tmp_path: Path, args: tuple[str, ...], token: str | None, message: str
) -> None:
    (tmp_path / "blank").write_text("\n   \n\t\n")
    filled = [arg.format(url=fake.base_url, tmp=tmp_path) for arg in args]
    run = await cli(*filled, token=token)
    assert run.status == 2
    assert run.stdout == ""
    [line] = run.stderr_lines
    assert line.startswith("error: ")
    assert message in line
    assert fake.requests == []


async def test_click_usage_errors_are_status_2() -> None:
    run = await cli("--timeout", "0", "get", "1")
    assert run.status == 2
    assert "Invalid value for '--timeout'" in run.stderr


HUGE = "9" * 30  # past any C integer


@pytest.mark.parametrize(
    ("args", "option"),
    [
        pytest.param(("--timeout", "inf", "get", "1"), "--timeout", id="timeout-inf"),
        pytest.param(("--timeout", "-inf", "get", "1"), "--timeout", id="timeout-minus-inf"),
        pytest.param(("--timeout", "nan", "get", "1"), "--timeout", id="timeout-nan"),
        pytest.param(("--timeout", "1e309", "get", "1"), "--timeout", id="timeout-overflows"),
        pytest.param(("--timeout", "86401", "get", "1"), "--timeout", id="timeout-over-a-day"),
        pytest.param(("--max-attempts", "101", "get", "1"), "--max-attempts", id="attempts-101"),
        pytest.param(("--max-attempts", HUGE, "get", "1"), "--max-attempts", id="attempts-huge"),
        pytest.param(("get-many", "--concurrency", "1001", "1"), "--concurrency", id="conc-1001"),
        pytest.param(("get-many", "--concurrency", HUGE, "1"), "--concurrency", id="conc-huge"),
        pytest.param(("demo", "--tickets", "1000001"), "--tickets", id="demo-tickets"),
        pytest.param(("demo", "--tickets", HUGE), "--tickets", id="demo-tickets-huge"),
        pytest.param(("demo", "--concurrency", HUGE), "--concurrency", id="demo-concurrency"),
    ],
)
async def test_numbers_out_of_range_are_usage_errors(
    fake: FakeIntercom, args: tuple[str, ...], option: str
) -> None:
    run = await cli("--base-url", fake.base_url, *args, limit=10)
    assert run.status == 2, run.stderr
    assert run.stdout == ""
    assert f"Error: Invalid value for '{option}'" in run.stderr_lines[-1]
    assert fake.requests == []


async def test_the_largest_numbers_allowed_work(fake: FakeIntercom) -> None:
    run = await cli(
        "--base-url",
        fake.base_url,
        "--timeout",
        "86400",
        "--max-attempts",
        "100",
        "get-many",
        "--concurrency",
        "1000",
        "1",
        "2",
    )
    assert run.status == 0, run.stderr
    assert len(run.stdout_lines) == 2
    demo = await cli("demo", "--tickets", "5", "--concurrency", "1000", "--seed", HUGE, token=None)
    assert demo.status == 0, demo.stderr
    assert demo.summary()["fetched"] == "5"


# -- get-many --------------------------------------------------------------------------------


async def test_get_many_from_arguments(fake: FakeIntercom) -> None:
    run = await cli("--base-url", fake.base_url, "get-many", "--ordered", "4", "1", "9", "4")
    assert run.status == 0, run.stderr
    assert [json.loads(line) for line in run.stdout_lines] == [
        expected(i) for i in ["4", "1", "9", "4"]
    ]
    summary = run.summary()
    assert (summary["fetched"], summary["failed"], summary["retries"]) == ("4", "0", "0")
    assert {"429s", "rate-limit waits", "elapsed", "tickets/s"} <= summary.keys()


async def test_get_many_from_an_ids_file_to_an_output_file(
    fake: FakeIntercom, tmp_path: Path
) -> None:
    ids_file = tmp_path / "ids.txt"
    # A byte-order mark, blank lines, spaces, CRLF and no final newline: all fine.
    ids_file.write_bytes(b"\xef\xbb\xbf3\n\n  5  \r\n\t\n8")
    out = tmp_path / "out.jsonl"
    run = await cli("--base-url", fake.base_url, "get-many", "--ids-file", ids_file, "-o", out)
    assert run.status == 0, run.stderr
    assert run.stdout == ""
    tickets = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(tickets, key=lambda t: int(t["id"])) == [expected(i) for i in ["3", "5", "8"]]


async def test_an_overlong_id_is_one_short_failure_record(fake: FakeIntercom) -> None:
    stdin = ("1" * 100_000 + "\n2\n").encode()
    run = await cli("--base-url", fake.base_url, "get-many", "--ordered", "-", stdin=stdin)
    assert run.status == 1
    assert [json.loads(line)["id"] for line in run.stdout_lines] == ["2"]
    assert len(run.stderr) < 2_000  # was 200 kB: the id, and a message quoting it
    [record] = run.error_records()
    assert record["id"] == "1" * 64 + "..."
    assert record["error"] == "InvalidTicketIdError"
    assert record["message"].startswith("ticket id is 100000 characters long")
    assert [r.path for r in fake.requests] == ["/tickets/2"]  # the long one was not sent


@pytest.mark.parametrize("how", [["-"], ["--ids-file", "-"]])
async def test_get_many_from_stdin(fake: FakeIntercom, how: list[str]) -> None:
    ids = [str(i) for i in range(1, TICKETS + 1)]
    stdin = ("\n".join(ids) + "\n").encode()
    run = await cli(
        "--base-url", fake.base_url, "get-many", "--concurrency", "5", *how, stdin=stdin
    )
    assert run.status == 0, run.stderr
    assert sorted(json.loads(line)["id"] for line in run.stdout_lines) == sorted(ids)
    assert run.summary()["fetched"] == str(TICKETS)


async def test_get_many_reports_each_failure_and_exits_1(fake: FakeIntercom) -> None:
    fake.inject("6", Fault.status(500), times=None)
    run = await cli(
        "--base-url", fake.base_url, "--max-attempts", "2", "get-many", "1", "998", "2", "6", "999"
    )
    assert run.status == 1
    assert sorted(json.loads(line)["id"] for line in run.stdout_lines) == ["1", "2"]
    records = sorted(run.error_records(), key=lambda r: str(r["id"]))
    assert [(r["id"], r["status"], r["error"], r["code"]) for r in records] == [
        ("6", 500, "ServerError", "server_error"),
        ("998", 404, "NotFoundError", "not_found"),
        ("999", 404, "NotFoundError", "not_found"),
    ]
    assert records[1]["message"].startswith("GET /tickets/998: HTTP 404")
    summary = run.summary()
    assert summary["fetched"] == "2"
    assert summary["failed"] == "3"
    assert summary["failed NotFoundError (HTTP 404)"] == "2"
    assert summary["failed ServerError (HTTP 500)"] == "1"
    assert summary["retries"] == "1"  # 6 was tried twice; 404s are not retried


@pytest.mark.parametrize("from_file", [False, True])
async def test_get_many_with_a_bad_token_stops_at_once_with_status_4(
    fake: FakeIntercom, tmp_path: Path, from_file: bool
) -> None:
    ids = [str(i % TICKETS + 1) for i in range(3000)]
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("".join(f"{i}\n" for i in ids))
    where = ["--ids-file", str(ids_file)] if from_file else ids  # a file is not counted first
    run = await cli(
        "--base-url", fake.base_url, "get-many", "--concurrency", "4", *where, token=WRONG_TOKEN
    )
    assert run.status == 4
    assert run.stdout == ""
    sent = len(fake.requests)
    assert 1 <= sent <= 4  # not 3,000: at most the requests in flight with the first 401
    records = run.error_records()
    assert 1 <= len(records) <= sent
    assert {(r["status"], r["code"]) for r in records} == {(401, "unauthorized")}
    summary = run.summary()
    assert summary["stopped"] == "the token was refused (HTTP 401); no more ids were sent"
    assert summary["not sent"] == ("the rest" if from_file else str(3000 - len(records)))
    assert summary["requests"] == str(sent)


@POSIX
async def test_ctrl_c_stops_cleanly(fake: FakeIntercom) -> None:
    fake.random_faults(1.0, kinds=[Fault.slow(0.05)])
    ids = [str(i % TICKETS + 1) for i in range(400)]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "intercom_async",
        "--base-url",
        fake.base_url,
        "get-many",
        "--concurrency",
        "4",
        *ids,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(),
        cwd=ROOT,
    )
    assert proc.stdout is not None
    head = b""
    for _ in range(5):
        line = await asyncio.wait_for(proc.stdout.readline(), 15)
        assert line.endswith(b"\n")
        head += line
    proc.send_signal(signal.SIGINT)
    rest, err = await asyncio.wait_for(proc.communicate(), 15)
    out, stderr = (head + rest).decode(), err.decode()
    check_clean(out, stderr)
    assert proc.returncode == 130, stderr
    assert out.endswith("\n")
    lines = out.splitlines()
    assert 5 <= len(lines) < len(ids)
    for text in lines:
        assert json.loads(text)["type"] == "ticket"
    run = Run(130, out, stderr)
    assert run.summary()["interrupted"] == "yes"
    assert run.summary()["fetched"] == str(len(lines))


# -- demo ------------------------------------------------------------------------------------


async def test_demo_runs_and_sums_up(tmp_path: Path) -> None:
    out = tmp_path / "demo.jsonl"
    run = await cli("demo", "--tickets", "200", "--seed", "3", "--output", out, token=None)
    assert run.status == 0, run.stderr
    assert run.stdout == ""
    summary = run.summary()
    assert summary["fetched"] == "200"
    assert summary["failed"] == "20"
    assert summary["failed NotFoundError (HTTP 404)"] == "20"
    assert int(summary["retries"]) > 0  # the random faults were retried
    assert {"429s", "rate-limit waits", "elapsed", "tickets/s"} <= summary.keys()
    assert len(out.read_text().splitlines()) == 200


@POSIX
async def test_demo_on_a_terminal_draws_a_bar_and_a_table() -> None:
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "intercom_async",
            "demo",
            "--tickets",
            "100",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=slave,
            env=cli_env(None, TERM="xterm-256color"),
            cwd=ROOT,
        )
    finally:
        os.close(slave)

    def drain() -> bytes:
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child's end closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        screen_task = asyncio.ensure_future(asyncio.to_thread(drain))
        out, _ = await asyncio.wait_for(proc.communicate(), 25)
        screen = (await asyncio.wait_for(screen_task, 5)).decode(errors="replace")
    finally:
        os.close(master)
    check_clean(out.decode(), screen)
    assert proc.returncode == 0, screen
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    assert "120/120" in text  # the bar's done/total
    assert "rate-limit waits" in text
    assert re.search(r"│ fetched\s+│\s+100 │", text)  # the summary table


# -- packaging -------------------------------------------------------------------------------


async def _python(code: str) -> Run:
    """Run ``python -c code``."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(),
        cwd=ROOT,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 25)
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())


async def test_without_click_it_says_what_to_install() -> None:
    run = await _python(
        "import sys; sys.modules['click'] = None; "
        "from intercom_async._cli import main; sys.exit(main(['--version']))"
    )
    assert run.status == 2
    [line] = run.stderr_lines
    assert "pip install 'intercom-async[cli]'" in line


async def test_the_sdk_does_not_import_click_or_rich() -> None:
    run = await _python(
        "import sys, intercom_async, intercom_async.testing, intercom_async._cli; "
        "print(sorted(m for m in ('click', 'rich') if m in sys.modules))"
    )
    assert (run.status, run.stdout) == (0, "[]\n"), run.stderr


def test_json_lines_escape_what_utf_8_cannot_carry() -> None:
    from intercom_async._cli.output import json_line

    assert json_line({"title": "\ud83d"}) == b'{"title":"\\ud83d"}\n'
    assert json_line({"title": "é"}) == '{"title":"é"}\n'.encode()
