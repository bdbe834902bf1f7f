"""``examples/arq_bulk.py``, run as its docstring says: real arq worker processes (``python -m arq
examples.arq_bulk.WorkerSettings --burst``) and the producer (``python -m examples.arq_bulk``),
against a ``FakeIntercom`` in this test's loop and a real ``redis-server`` (the queue's and the
shared budget's)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

# arq pins redis-py below 6: the Makefile installs it in the main venv only (pyproject.toml).
pytest.importorskip("arq", reason="arq is installed in the main venv only (it pins redis<6)")

from examples import arq_bulk
from intercom_async.testing import FakeIntercom, generate_ticket

from .conftest import drop_nulls

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "tok_ARQ-example-distinctive-SECRET-5e27"
WORKERS = 4
TICKETS = 320
UNKNOWN = ["9001", "9002"]  # ids the fake does not have: 404s, reported as failures
CHUNK = 20
JOBS = -(-(TICKETS + len(UNKNOWN)) // CHUNK)  # 17
LIMIT, WINDOW = 40, 0.5  # the fake's rate limit: 40 requests per 0.5 s
STEP_TIMEOUT = 20.0  # seconds for any one step; the whole test takes about 6 s


class Process:
    """A subprocess whose output (stdout and stderr together) is read as it comes."""

    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name = name
        self.process = process
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            self.lines.append(line.decode(errors="replace"))

    @property
    def output(self) -> str:
        return "".join(self.lines)

    async def wait_for_line(self, pattern: str) -> None:
        """Until a line matches ``pattern`` (fails if the process ends first, or too late)."""
        async with asyncio.timeout(STEP_TIMEOUT):
            while not any(re.search(pattern, line) for line in self.lines):
                assert self.process.returncode is None, f"{self.name} ended:\n{self.output}"
                await asyncio.sleep(0.02)

    async def wait(self) -> int:
        """Its exit status, once it has exited and its output is all read."""
        async with asyncio.timeout(STEP_TIMEOUT):
            status = await self.process.wait()
            await self._reader
        return status

    async def stop(self) -> None:
        """Kill it if it still runs (a test that failed half-way), and reap it."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


@contextlib.asynccontextmanager
async def processes() -> AsyncIterator[list[Process]]:
    """A list for ``start`` to add processes to; whatever still runs at the end is killed, pass
    or fail."""
    started: list[Process] = []
    try:
        yield started
    finally:
        await asyncio.gather(*(process.stop() for process in started))


async def start(started: list[Process], env: dict[str, str], name: str, *args: str) -> Process:
    """``python *args`` in the repository root, with ``env``."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    started.append(Process(name, process))
    return started[-1]


# Warnings are errors in the producer and the workers, but for arq's own two (see the example's
# docstring): none may come from the example or intercom-async, on any Python.
WARNINGS = ("-W", "error", "-W", "ignore::DeprecationWarning:arq.worker")
WORKER = (*WARNINGS, "-m", "arq", "examples.arq_bulk.WorkerSettings", "--burst")


def environment(**settings: str) -> dict[str, str]:
    """This process's environment, less any Intercom or Redis settings of the developer's."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("INTERCOM_") and key != "REDIS_URL"
    }
    return {**env, "PYTHONUNBUFFERED": "1", **settings}


READ = {"string": "GET", "hash": "HGETALL", "zset": "ZRANGE", "list": "LRANGE", "set": "SMEMBERS"}


async def redis_contents(url: str) -> str:
    """Every key and value in the Redis at ``url``, as text, to look for the token in."""
    # (Any: redis-py 5's type hints, which arq brings in, and 8's differ for these commands.)
    redis: Any = Redis.from_url(url)
    texts: list[str] = []

    def add(value: object) -> None:
        if isinstance(value, bytes):
            texts.append(value.decode(errors="replace"))
        elif isinstance(value, dict):
            for item in value.items():
                add(list(item))
        elif isinstance(value, (list, set, tuple)):
            for item in value:
                add(item)

    try:
        for key in await redis.execute_command("KEYS", "*"):
            kind = (await redis.execute_command("TYPE", key)).decode()
            command = [READ[kind], key] + (["0", "-1"] if kind in ("zset", "list") else [])
            add([key, await redis.execute_command(*command)])
    finally:
        await redis.aclose()
    return "\n".join(texts)


async def test_workers_share_one_budget_and_fetch_every_ticket_once(
    redis_url: str, tmp_path: Path
) -> None:
    ids = [str(n) for n in range(1, TICKETS + 1)] + UNKNOWN
    (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n")
    output = tmp_path / "tickets.jsonl"
    async with FakeIntercom(
        token=TOKEN, tickets=TICKETS, parts=1, rate_limit=LIMIT, window=WINDOW
    ) as fake:
        # The producer needs no token: only Redis.
        producer_env = environment(REDIS_URL=redis_url)
        worker_env = environment(
            REDIS_URL=redis_url, INTERCOM_ACCESS_TOKEN=TOKEN, INTERCOM_BASE_URL=fake.base_url
        )
        async with processes() as started:
            producer = await start(
                started,
                producer_env,
                "the producer",
                *WARNINGS,
                "-m",
                "examples.arq_bulk",
                str(tmp_path / "ids.txt"),
                "--output",
                str(output),
                "--chunk-size",
                str(CHUNK),
            )
            await producer.wait_for_line(rf"^enqueued {JOBS} jobs")
            # Burst workers: each exits once the queue is empty, so they start after the jobs.
            workers = [
                await start(started, worker_env, f"worker {n}", *WORKER) for n in range(WORKERS)
            ]
            # They exit once every job is done: then the producer has every result.
            worker_statuses = [await worker.wait() for worker in workers]
            outputs = "\n".join(f"{w.name}:\n{w.output}" for w in workers)
            assert worker_statuses == [0] * WORKERS, outputs
            producer_status = await producer.wait()
        requests = fake.requests

    everything = [producer, *workers]
    for process in everything:
        assert TOKEN not in process.output, process.name
        assert TOKEN[4:20] not in process.output, process.name
    # The two unknown ids failed, and said so; the rest were fetched.
    assert producer_status == 1, producer.output
    for unknown in UNKNOWN:
        assert re.search(rf"^{unknown}: NotFoundError", producer.output, re.MULTILINE)
    assert f"fetched {TICKETS} of {TICKETS + 2} tickets" in producer.output

    # Every ticket once in the output, as Intercom's JSON.
    tickets = [json.loads(line) for line in output.read_text().splitlines()]
    assert sorted(int(ticket["id"]) for ticket in tickets) == list(range(1, TICKETS + 1))
    for ticket in tickets:
        assert ticket == drop_nulls(generate_ticket(ticket["id"], parts=1))

    # Each id answered once (no chunk run twice, none lost), with few 429s for all the workers.
    answered = Counter(r.ticket_id for r in requests if r.status in (200, 404))
    assert answered == Counter(ids)
    too_many = sum(r.status == 429 for r in requests)
    assert too_many <= 2 * WORKERS, f"{too_many} 429s"

    # Several workers took part, and together they used the whole window: without the shared
    # budget, WORKERS x 2 jobs x 32 requests in flight would blow through it.
    jobs = [len(re.findall(r"→ \w+:fetch_tickets\(", w.output)) for w in workers]
    assert sum(jobs) == JOBS
    # (All of them, as a rule; but a worker that starts up late may find the queue empty.)
    assert sum(1 for n in jobs if n) >= 2, jobs
    ok = sorted(r.time for r in requests if r.status == 200)
    busiest = max(sum(1 for t in ok[i:] if t < first + WINDOW) for i, first in enumerate(ok))
    assert busiest >= LIMIT, busiest

    # The token went nowhere near Redis: not in the jobs, their results, or the budget.
    stored = await redis_contents(redis_url)
    assert "fetch_tickets" in stored and "intercom-async" in stored  # (the scan saw them)
    assert TOKEN not in stored
    assert TOKEN[4:20] not in stored


async def test_a_worker_without_a_token_stops_and_says_why(redis_url: str) -> None:
    env = environment(REDIS_URL=redis_url)
    async with processes() as started:
        worker = await start(started, env, "worker", *WORKER)
        status = await worker.wait()
    assert status != 0
    assert "no Intercom access token" in worker.output
    assert "KeyError" not in worker.output  # on_shutdown copes with a startup that failed


def test_chunks() -> None:
    ids = [str(n) for n in range(5)]
    assert arq_bulk.chunks(ids, 2) == [["0", "1"], ["2", "3"], ["4"]]
    assert arq_bulk.chunks(ids, 5) == [ids]
    assert arq_bulk.chunks([], 3) == []
    with pytest.raises(ValueError, match="at least 1"):
        arq_bulk.chunks(ids, 0)


def test_read_ids() -> None:
    assert arq_bulk.read_ids(["3\n", "\n", " 1 \n", "3\n", "2"]) == ["3", "1", "2"]
