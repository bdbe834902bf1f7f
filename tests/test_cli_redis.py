"""``get-many --redis-url`` (and ``INTERCOM_REDIS_URL``): runs of the command line that share one
rate-limit budget through a real ``redis-server``, against a real ``FakeIntercom``.

As in ``test_cli.py``, each run is a subprocess (``python -m intercom_async ...``) awaited with
asyncio while the test's loop serves the fake; every run is checked for the token, the Redis
password and tracebacks in its output.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import sys
import time
from pathlib import Path

import pytest

from intercom_async.testing import FakeIntercom, Fault

from .redis_fixture import RedisServer, _command, free_port
from .test_cli import POSIX, ROOT, TOKEN, Run, check_clean, cli, cli_env

PASSWORD = "pw-distinctive-SECRET-c0ffee"
OUTAGE = "is unavailable"
BACK = "is back"


async def run(
    *args: str | Path, env: dict[str, str] | None = None, secret: str = PASSWORD, limit: float = 30
) -> Run:
    """``cli(*args)`` with ``env`` added to its environment; the Redis password (``secret``)
    must not show either."""
    result = await cli(*args, env=env, limit=limit)
    assert secret not in result.stdout
    assert secret not in result.stderr
    return result


def with_password(url: str, password: str = PASSWORD) -> str:
    """``redis://HOST:PORT/0`` with ``password`` in it."""
    return url.replace("redis://", f"redis://:{password}@", 1)


def quota_lines(result: Run) -> list[str]:
    """The lines about the shared budget's outages and recoveries."""
    return [line for line in result.stderr_lines if "shared rate-limit budget" in line]


def fetched_ids(result: Run) -> list[str]:
    return sorted((json.loads(line)["id"] for line in result.stdout_lines), key=int)


def ids(first: int, last: int) -> list[str]:
    return [str(i) for i in range(first, last + 1)]


# -- sharing -----------------------------------------------------------------------------------

RUN_IDS = 30  # per run: two runs of 30 under 10 per half second take 6 windows (3 s)


async def _open_for_writing(fifo: Path, limit: float = 20.0) -> int:
    """Open ``fifo`` to write once a reader has it open (without blocking the loop)."""
    deadline = time.monotonic() + limit
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:  # ENXIO: no reader yet
            if exc.errno != errno.ENXIO or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.01)


async def _two_runs_at_once(fake: FakeIntercom, tmp: Path, *options: str) -> tuple[Run, Run]:
    """Two get-many runs of ``RUN_IDS`` ids each, that start fetching at the same moment: each
    reads its ids from a FIFO, which gets them once both runs have it open (their start-up,
    imports and all, is behind them by then)."""
    halves = [ids(1, RUN_IDS), ids(RUN_IDS + 1, 2 * RUN_IDS)]
    fifos = [tmp / f"ids-{n}" for n in range(2)]
    for fifo in fifos:
        os.mkfifo(fifo)
    base = ("--base-url", fake.base_url, "get-many", "--concurrency", "16", *options)
    runs = [asyncio.ensure_future(run(*base, "--ids-file", fifo)) for fifo in fifos]
    try:
        fds = [await _open_for_writing(fifo) for fifo in fifos]
    except BaseException:
        for task in runs:
            task.cancel()
        raise
    for fd, half in zip(fds, halves, strict=True):
        os.write(fd, "".join(f"{i}\n" for i in half).encode())
        os.close(fd)
    first, second = await asyncio.gather(*runs)
    for fifo in fifos:
        fifo.unlink()
    assert (first.status, second.status) == (0, 0), first.stderr + second.stderr
    assert fetched_ids(first) + fetched_ids(second) == ids(1, 2 * RUN_IDS)
    return first, second


def too_many(fake: FakeIntercom) -> int:
    """The 429s the fake answered."""
    return sum(r.status == 429 for r in fake.requests)


@POSIX
async def test_two_runs_with_a_redis_url_share_the_rate_limit(
    redis_url: str, tmp_path: Path
) -> None:
    async with FakeIntercom(
        token=TOKEN, tickets=2 * RUN_IDS, parts=1, rate_limit=10, window=0.5
    ) as shared:
        runs = await _two_runs_at_once(shared, tmp_path, "--redis-url", redis_url)
    # The contrast: the same two runs without a shared budget.
    async with FakeIntercom(
        token=TOKEN, tickets=2 * RUN_IDS, parts=1, rate_limit=10, window=0.5
    ) as alone:
        await _two_runs_at_once(alone, tmp_path)
    together, apart = too_many(shared), too_many(alone)
    assert together <= 4, (together, apart)  # a straggler or two at a window's end
    assert apart > 10, (together, apart)  # each spends the window as if alone
    for result in runs:
        assert quota_lines(result) == []
        summary = result.summary()
        assert summary["shared quota"] == redis_url
        assert "shared quota unavailable" not in summary


async def test_the_redis_url_comes_from_the_environment_too(redis_url: str) -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there: it would warn
    async with FakeIntercom(token=TOKEN, tickets=5, parts=1) as fake:
        base = ("--base-url", fake.base_url, "get-many")
        from_env, option_wins, turned_off, neither = await asyncio.gather(
            run(*base, *ids(1, 5), env={"INTERCOM_REDIS_URL": redis_url}),
            run(*base, "--redis-url", redis_url, "1", env={"INTERCOM_REDIS_URL": nowhere}),
            run(*base, "--redis-url", "", "1", env={"INTERCOM_REDIS_URL": nowhere}),
            run(*base, "1"),
        )
    for result in (from_env, option_wins, turned_off, neither):
        assert result.status == 0, result.stderr
        assert quota_lines(result) == []
    assert from_env.summary()["shared quota"] == redis_url
    assert option_wins.summary()["shared quota"] == redis_url
    # No shared budget, no row about it.
    assert "shared quota" not in turned_off.summary()
    assert "shared quota" not in neither.summary()


async def test_get_takes_its_turn_from_the_shared_budget_too(
    redis_server: RedisServer, redis_url: str
) -> None:
    """``--redis-url`` is a connection option: before the command or after it, for ``get``
    as for ``get-many``."""
    nowhere = with_password(f"redis://127.0.0.1:{free_port()}/0")
    async with FakeIntercom(token=TOKEN, tickets=5, parts=1) as fake:
        base = ("--base-url", fake.base_url)
        before = await run("--redis-url", redis_url, *base, "get", "1")
        after = await run(*base, "get", "2", "--redis-url", redis_url)
        many = await run(*base, "get-many", "3", "4", "--redis-url", redis_url)
        unreachable = await run(*base, "get", "5", "--redis-url", nowhere)
    for result in (before, after, many, unreachable):
        assert result.status == 0, result.stderr
    assert json.loads(before.stdout)["id"] == "1"
    assert json.loads(after.stdout)["id"] == "2"
    assert quota_lines(before) == quota_lines(after) == quota_lines(many) == []
    assert many.summary()["shared quota"] == redis_url
    budgets = _command(redis_server.host, redis_server.port, "DBSIZE")
    assert budgets.startswith(b":") and int(budgets[1:]) >= 1  # the budget lives in Redis
    [line] = quota_lines(unreachable)  # it tried that Redis, and went on alone
    assert OUTAGE in line
    assert json.loads(unreachable.stdout)["id"] == "5"


async def test_a_password_protected_redis(own_redis_server: RedisServer) -> None:
    server = own_redis_server
    assert _command(server.host, server.port, "CONFIG", "SET", "requirepass", PASSWORD) == b"+OK"
    async with FakeIntercom(token=TOKEN, tickets=10, parts=1) as fake:
        base = ("--base-url", fake.base_url, "get-many", *ids(1, 10))
        right = await run(*base, env={"INTERCOM_REDIS_URL": with_password(server.url)})
    assert right.status == 0, right.stderr
    assert fetched_ids(right) == ids(1, 10)
    assert right.summary()["shared quota"] == server.url  # without the password
    # The right password: Redis answered (a refusal would be an error, and status 2).
    assert quota_lines(right) == []
    assert "shared quota unavailable" not in right.summary()


@pytest.mark.parametrize("refusal", ["WRONGPASS", "NOAUTH", "NOPERM"])
@pytest.mark.parametrize("command", ["get", "get-many"])
async def test_credentials_redis_refuses_are_status_2_before_anything_is_fetched(
    own_redis_server: RedisServer, refusal: str, command: str, tmp_path: Path
) -> None:
    server = own_redis_server
    wrong = "pw-WRONG-distinctive-77"
    acl = ("ACL", "SETUSER", "elsewhere", "on", f">{wrong}", "~elsewhere:*", "+@all")
    assert _command(server.host, server.port, *acl) == b"+OK"
    assert _command(server.host, server.port, "CONFIG", "SET", "requirepass", PASSWORD) == b"+OK"
    url = {
        "WRONGPASS": with_password(server.url, wrong),
        "NOAUTH": server.url,
        "NOPERM": server.url.replace("redis://", f"redis://elsewhere:{wrong}@"),
    }[refusal]
    output = tmp_path / "tickets.jsonl"
    output.write_text("kept\n")
    async with FakeIntercom(token=TOKEN, tickets=10, parts=1) as fake:
        args = ["get", "1"] if command == "get" else ["get-many", "-o", str(output), *ids(1, 10)]
        result = await run("--base-url", fake.base_url, *args, "--redis-url", url, secret=wrong)
    assert result.status == 2, result.stderr
    assert result.stdout == ""
    [line] = result.stderr_lines
    assert line.startswith(f"error: Redis at --redis-url {server.url} refused the credentials")
    assert "check the user and password in the URL, and the user's ACL permissions" in line
    assert PASSWORD not in line
    assert fake.requests == []  # nothing fetched
    assert output.read_text() == "kept\n"  # nor the output touched


# -- Redis is help, never a single point of failure ----------------------------------------------


@pytest.mark.parametrize("verbose", [False, True], ids=["quiet", "verbose"])
async def test_an_unreachable_redis_is_one_line_and_everything_is_fetched(verbose: bool) -> None:
    url = with_password(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    async with FakeIntercom(token=TOKEN, tickets=30, parts=1, rate_limit=10, window=0.5) as fake:
        fake.inject("1", Fault.status(503))  # one retry: a line with --verbose only
        verbosity = ["--verbose"] if verbose else []
        result = await run(
            *verbosity, "--base-url", fake.base_url,
            "get-many", "--concurrency", "8", "--redis-url", url, *ids(1, 30),
        )  # fmt: skip
    assert result.status == 0, result.stderr
    assert fetched_ids(result) == ids(1, 30)
    [line] = quota_lines(result)  # once, --verbose or not
    assert line.startswith("intercom-async: the shared rate-limit budget")
    assert OUTAGE in line and "paces itself alone" in line
    retries = [line for line in result.stderr_lines if "retrying in" in line]
    assert len(retries) == (1 if verbose else 0), result.stderr
    assert sum(r.status == 429 for r in fake.requests) <= 2  # paced by the headers alone
    summary = result.summary()
    assert summary["shared quota"] == url.replace(f":{PASSWORD}@", "")
    assert summary["shared quota unavailable"] == "yes"
    assert summary["fetched"] == "30"


async def test_an_outage_and_the_recovery_are_a_line_each(own_redis_server: RedisServer) -> None:
    server = own_redis_server
    # 80 ids under 20 a second: the run lasts 3 windows or more, time enough to see Redis go
    # and come back.
    async with FakeIntercom(token=TOKEN, tickets=80, parts=1, rate_limit=20, window=1.0) as fake:

        async def outage() -> None:
            while len(fake.requests) < 5:
                await asyncio.sleep(0.01)
            server.kill()
            await asyncio.sleep(0.3)  # the first try to reconnect comes 0.5 s after the outage
            server.start()

        faulting = asyncio.create_task(outage())
        result = await run(
            "--base-url", fake.base_url, "get-many", "--redis-url", server.url,
            "--concurrency", "4", *ids(1, 80),
        )  # fmt: skip
        await faulting
    assert result.status == 0, result.stderr
    assert fetched_ids(result) == ids(1, 80)
    lines = quota_lines(result)
    assert len(lines) == 2, result.stderr
    assert OUTAGE in lines[0]
    assert BACK in lines[1]
    assert result.summary()["shared quota unavailable"] == "yes"


# -- bad usage: one line, status 2, no password ------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        (f"redis://:{PASSWORD}@127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        (f"redis://me:{PASSWORD}@[::1]:6379", "redis://[::1]:6379"),
        (f"rediss://:{PASSWORD}@redis.example.com/2", "rediss://redis.example.com/2"),
        (f"redis://:a@b{PASSWORD}@127.0.0.1/0", "redis://127.0.0.1/0"),  # an @ in the password
        (f"redis://127.0.0.1/0?password={PASSWORD}", "redis://127.0.0.1/0"),
        (f"unix://:{PASSWORD}@/run/redis.sock?db=1", "unix:///run/redis.sock"),
    ],
)
def test_a_redis_url_is_shown_without_its_password(url: str, expected: str) -> None:
    from intercom_async._cli.quota import shared_quota

    option = shared_quota(url)
    assert option.shown == expected
    assert PASSWORD not in repr(option)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param(f"http://:{PASSWORD}@127.0.0.1:6379/0", "must be a Redis URL", id="http"),
        pytest.param(f"{PASSWORD}@127.0.0.1:6379", "must be a Redis URL", id="no-scheme"),
        pytest.param(f"{PASSWORD}:6379", "must be a Redis URL", id="no-scheme-2"),
        pytest.param(f"REDIS://:{PASSWORD}@127.0.0.1/0", "must be a Redis URL", id="upper-case"),
        pytest.param(f"unix:{PASSWORD}", "must be a Redis URL", id="unix-no-slashes"),
        pytest.param(f"redis://:{PASSWORD}@127.0.0.1:99999/0", "does not parse", id="port"),
        pytest.param(f"redis://:{PASSWORD}@[::1/0", "does not parse", id="ipv6"),
        pytest.param(f"redis://:{PASSWORD}/x@127.0.0.1/0", "does not parse", id="slash"),
        pytest.param(f"redis://:1234#{PASSWORD}@127.0.0.1/0", "percent-encode", id="hash"),
        pytest.param(f"redis://:1234?{PASSWORD}@127.0.0.1/0", "percent-encode", id="question"),
    ],
)
def test_a_bad_redis_url_says_so_without_the_password(url: str, message: str) -> None:
    from intercom_async._cli.common import UsageProblem
    from intercom_async._cli.quota import shared_quota

    with pytest.raises(UsageProblem) as caught:
        shared_quota(url)
    assert message in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert "1234" not in str(caught.value)


async def test_a_bad_redis_url_is_one_error_line_and_status_2() -> None:
    # As a user sees it: from the option or the environment; refused by our check, or by
    # redis-py's (a query parameter it cannot read).
    cases = {
        "http": (f"http://:{PASSWORD}@127.0.0.1:6379/0", "must be a Redis URL", False),
        "http-env": (f"http://:{PASSWORD}@127.0.0.1:6379/0", "must be a Redis URL", True),
        "hash": (f"redis://:1234#{PASSWORD}@127.0.0.1/0", "percent-encode", False),
        "query": (f"redis://:{PASSWORD}@127.0.0.1/0?socket_timeout=x", "will not do", True),
    }
    async with FakeIntercom(token=TOKEN, tickets=2) as fake:
        base = ("--base-url", fake.base_url, "get-many", "1")
        results = await asyncio.gather(
            *(
                run(*base, env={"INTERCOM_REDIS_URL": url})
                if from_env
                else run(*base, "--redis-url", url)
                for url, _, from_env in cases.values()
            )
        )
    for (name, (_, message, _)), result in zip(cases.items(), results, strict=True):
        assert result.status == 2, (name, result.stderr)
        assert result.stdout == "", name
        [line] = result.stderr_lines
        assert line.startswith("error: "), (name, line)
        assert message in line, (name, line)
    assert fake.requests == []


async def test_the_help_never_shows_the_url() -> None:
    result = await run(
        "get-many", "--help", env={"INTERCOM_REDIS_URL": with_password("redis://127.0.0.1/0")}
    )
    assert result.status == 0
    assert "--redis-url URL" in result.stdout
    assert "INTERCOM_REDIS_URL" in result.stdout


async def test_without_redis_py_it_says_what_to_install() -> None:
    # As a machine without the redis extra: redis-py cannot be imported.
    code = (
        "import sys; sys.modules['redis'] = None; "
        "from intercom_async._cli import main; "
        "sys.exit(main(['get-many', '--redis-url', sys.argv[1], '1']))"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        with_password("redis://127.0.0.1:6379/0"),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(TOKEN),
        cwd=ROOT,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 25)
    check_clean(out.decode(), err.decode())
    assert proc.returncode == 2
    assert out == b""
    [line] = err.decode().splitlines()
    assert line.startswith("error: ")
    assert "pip install 'intercom-async[redis]'" in line
    assert PASSWORD not in line
