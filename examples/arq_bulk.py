"""Bulk retrieval spread over several arq workers, sharing one Intercom rate limit.

`arq <https://arq-docs.helpmanual.io>`_ is a job queue on Redis for asyncio. Here a producer
splits a list of ticket ids into chunks and enqueues one ``fetch_tickets`` job per chunk; any
number of worker processes, on any number of machines, take the jobs. Each worker process
makes ONE ``IntercomClient`` at startup (``on_startup``), used by all its jobs and closed at
shutdown (``on_shutdown``). Its ``RedisQuota`` takes every request's unit from one budget in
Redis, shared by every worker of the app: together they never send more requests than
Intercom's rate-limit window has left, so adding workers adds no 429s. (Nor does it fetch
faster than the app's rate limit: more workers help when one process's CPU is the bottleneck,
and arq gives a dead worker's jobs to the others.)

Needs ``pip install 'intercom-async[redis]' arq`` and a Redis server. Configuration, from the
environment, so that the same file runs against Intercom and against a test server:

- ``INTERCOM_ACCESS_TOKEN``: the workers' token. Only the workers need it: it is never in a
  job's arguments or result, nor anywhere in Redis.
- ``INTERCOM_BASE_URL``: another API root (a proxy, a test server); Intercom's US one if unset.
- ``REDIS_URL``: the Redis of both the queue and the shared budget
  (``redis://localhost:6379/0`` if unset).

Run, from the repository root (so that ``examples`` can be imported)::

    export REDIS_URL=redis://localhost:6379/0
    # in each of N terminals (or machines): a worker, until Ctrl-C
    INTERCOM_ACCESS_TOKEN=... arq examples.arq_bulk.WorkerSettings
    # then: ids.txt has one ticket id per line; the tickets come out as JSON lines
    python -m examples.arq_bulk ids.txt --output tickets.jsonl

``arq --burst examples.arq_bulk.WorkerSettings`` runs a worker that exits once the queue is
empty: start it after the producer has enqueued the jobs (a batch run, as the tests do).

The producer prints ``enqueued N jobs`` once the jobs are in the queue, writes every ticket
fetched as one JSON object a line (``intercom_async.to_dict``), lists the ids that failed on
stderr, and exits 1 if any did. The tickets travel back through Redis as the jobs' results
(kept for an hour, arq's ``keep_result``); for a very large export, have the job write them
to your own storage and return only their ids. arq runs a job again when its worker dies
before finishing it (at least once), so a chunk may be fetched twice; the producer reads one
result per job.

arq pins ``redis<6``: next to it, ``intercom-async[redis]`` runs on redis-py 5. And arq (0.28)
emits two ``DeprecationWarning`` of its own, harmless and hidden by default: ``There is no
current event loop`` as a worker starts, on Python 3.12 and later, and ``Call to deprecated
close`` as it stops. Where warnings are errors (``PYTHONWARNINGS=error``), the first keeps the
worker from starting and the second makes it exit with status 1; let them be with
``PYTHONWARNINGS=error,ignore::DeprecationWarning:arq.worker``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, TypedDict

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

from intercom_async import IntercomClient, to_dict
from intercom_async.redis import RedisQuota

REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
CHUNK_SIZE = 500  # ids per job
CONCURRENCY = 32  # requests in flight per job


class ChunkResult(TypedDict):
    """What a ``fetch_tickets`` job returns."""

    tickets: list[dict[str, Any]]  # each ticket fetched, as Intercom's JSON (``to_dict``)
    failed: dict[str, str]  # id -> what went wrong, for the ids that failed


# -- the worker ----------------------------------------------------------------------------


async def startup(ctx: dict[str, Any]) -> None:
    """One client per worker process, for all its jobs; its budget is every worker's."""
    ctx["intercom"] = IntercomClient(  # the token from INTERCOM_ACCESS_TOKEN
        base_url=os.environ.get("INTERCOM_BASE_URL") or None,
        quota=RedisQuota(REDIS_URL),
    )


async def shutdown(ctx: dict[str, Any]) -> None:
    client: IntercomClient | None = ctx.get("intercom")  # None if startup failed
    if client is not None:
        await client.aclose()  # and gives back the units it holds, for the other workers


async def fetch_tickets(ctx: dict[str, Any], ids: list[str]) -> ChunkResult:
    """The job: fetch one chunk of tickets."""
    client: IntercomClient = ctx["intercom"]
    result: ChunkResult = {"tickets": [], "failed": {}}
    async for fetched in client.tickets.get_many(ids, concurrency=CONCURRENCY):
        if fetched.ticket is not None:
            result["tickets"].append(to_dict(fetched.ticket))
        else:
            result["failed"][str(fetched.id)] = f"{type(fetched.error).__name__}: {fetched.error}"
    return result


class WorkerSettings:
    """``arq examples.arq_bulk.WorkerSettings`` runs a worker with these settings."""

    functions = (fetch_tickets,)
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = RedisSettings.from_dsn(REDIS_URL)
    max_jobs = 2  # chunks at once per worker (so, at most 2 x CONCURRENCY requests in flight)
    job_timeout = 600  # seconds a chunk may take, rate-limit waits included
    log_results = False  # the tickets are your customers' data: keep them out of the logs


# -- the producer --------------------------------------------------------------------------


def chunks(ids: Sequence[str], size: int = CHUNK_SIZE) -> list[list[str]]:
    """``ids`` in lists of at most ``size``."""
    if size < 1:
        raise ValueError(f"the chunk size must be at least 1, not {size}")
    return [list(ids[start : start + size]) for start in range(0, len(ids), size)]


async def fetch_all(
    redis: ArqRedis, ids: Sequence[str], out: IO[str], *, chunk_size: int = CHUNK_SIZE
) -> dict[str, str]:
    """Enqueue a job per chunk of ``ids``, then write each ticket to ``out`` (a JSON line) as
    its job's result comes in; returns the ids that failed, with what went wrong."""
    jobs = []
    for chunk in chunks(ids, chunk_size):
        job = await redis.enqueue_job("fetch_tickets", chunk)
        assert job is not None  # (None only for a job id given twice: we give none)
        jobs.append((chunk, job))
    print(f"enqueued {len(jobs)} jobs; waiting for the workers", file=sys.stderr, flush=True)
    failed: dict[str, str] = {}
    for chunk, job in jobs:
        try:
            result: ChunkResult = await job.result()
        except Exception as error:  # the job itself failed (timed out, or crashed)
            failed.update(dict.fromkeys(chunk, f"job {job.job_id} failed: {error!r}"))
            continue
        for ticket in result["tickets"]:
            out.write(json.dumps(ticket) + "\n")
        failed.update(result["failed"])
    return failed


async def run(ids: Sequence[str], out: IO[str], *, chunk_size: int = CHUNK_SIZE) -> dict[str, str]:
    redis = await create_pool(RedisSettings.from_dsn(REDIS_URL))
    try:
        return await fetch_all(redis, ids, out, chunk_size=chunk_size)
    finally:
        await redis.aclose()


def read_ids(lines: Sequence[str]) -> list[str]:
    """The ids of ``lines``, one a line, blank lines skipped and each id once."""
    return list(dict.fromkeys(line.strip() for line in lines if line.strip()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m examples.arq_bulk",
        description="Fetch Intercom tickets through the arq workers of examples.arq_bulk.",
    )
    parser.add_argument("ids", help="a file of ticket ids, one a line (- reads stdin)")
    parser.add_argument("--output", "-o", help="where the tickets go (stdout): JSON lines")
    parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE, help="ids per job")
    args = parser.parse_args(argv)
    if args.chunk_size < 1:
        parser.error(f"--chunk-size must be at least 1, not {args.chunk_size}")
    try:
        text = sys.stdin.read() if args.ids == "-" else Path(args.ids).read_text(encoding="utf-8")
    except OSError as error:
        parser.error(f"cannot read {args.ids}: {error.strerror}")
    ids = read_ids(text.splitlines())
    with contextlib.ExitStack() as files:
        out = sys.stdout
        if args.output:
            out = files.enter_context(open(args.output, "w", encoding="utf-8"))
        failed = asyncio.run(run(ids, out, chunk_size=args.chunk_size))
    for ticket_id, what in failed.items():
        print(f"{ticket_id}: {what}", file=sys.stderr)
    print(f"fetched {len(ids) - len(failed)} of {len(ids)} tickets", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
