"""Many worker processes, one Intercom quota: what a shared budget on Redis changes.

N worker processes, each with its own ``IntercomClient`` and ``get_many(concurrency=32)``,
share the same total work (``--tickets``, split evenly) against one fake Intercom (its own
process) that enforces one app-wide window: ``--limit`` requests per ``--window`` seconds
(200 per 2 s by default), with Intercom's headers on every answer. Each N runs twice: with
local pacing only, and with ``RedisQuota`` on a real ``redis-server`` (started here on a free
port, or ``--redis-url``). Rounds are interleaved, and the figures are medians over the rounds
with their spread (min-max).

For each run it reports 429s (per process), extra requests (requests beyond one per ticket),
lost results (tickets that failed), wall time (as a ratio to one process with local pacing,
in the same round), and the workers' CPU per ticket (as a ratio to local pacing with the same
N, and to one process). The targets of issue 9 for 8 x 32 with RedisQuota are checked at
the end.

Usage::

    python benchmarks/shared_quota.py                          # N = 1, 4, 8; 3 rounds
    python benchmarks/shared_quota.py --processes 8 --rounds 5
    python benchmarks/shared_quota.py --redis-url redis://127.0.0.1:6379/15
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
CONCURRENCY = 32


# -- the fake Intercom (its own process) --------------------------------------------------------


async def _serve(tickets: int, limit: int, window: float) -> None:
    from intercom_async.testing import FakeIntercom

    async with FakeIntercom(
        token=TOKEN, tickets=tickets, parts=3, rate_limit=limit, window=window
    ) as fake:
        print(f"READY {fake.base_url}", flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.readline)  # until told, or stdin closes
        statuses = [request.status for request in fake.requests]
        print(json.dumps({"requests": len(statuses), "429s": statuses.count(429)}), flush=True)


# -- a worker (its own process) ----------------------------------------------------------------


async def _work(base_url: str, first: int, last: int, redis_url: str | None, app: str) -> None:
    from intercom_async import IntercomClient

    quota = None
    if redis_url is not None:
        from intercom_async.redis import RedisQuota

        quota = RedisQuota(redis_url, app=app)
    async with IntercomClient(TOKEN, base_url=base_url, quota=quota) as client:
        print("READY", flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.readline)  # the go
        cpu, wall = time.process_time(), time.perf_counter()
        ok = failed = 0
        errors: dict[str, int] = {}
        ids = (str(n) for n in range(first, last + 1))
        async for result in client.tickets.get_many(ids, concurrency=CONCURRENCY):
            if result.ok:
                ok += 1
            else:
                failed += 1
                name = type(result.error).__name__
                errors[name] = errors.get(name, 0) + 1
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        stats = client.stats
    print(
        json.dumps(
            {
                "ok": ok,
                "failed": failed,
                "errors": errors,
                "cpu": cpu,
                "wall": wall,
                "requests": stats.requests,
                "rate_limited": stats.rate_limited,
            }
        ),
        flush=True,
    )


# -- the runs ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _redis_server(url: str | None) -> Iterator[str]:
    if url is not None:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not on PATH: install it, or pass --redis-url")
    port = _free_port()
    with tempfile.TemporaryDirectory() as directory:
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", directory]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            server.terminate()
            server.wait()


def _python(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, __file__, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _redis_calls(redis_url: str | None) -> int:
    """How many scripts the Redis has run so far (EVALSHA and EVAL)."""
    if redis_url is None:
        return 0
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        info: Any = client.info("commandstats")  # (a dict: redis-py 5's hints say maybe not)
        stats: dict[str, Any] = info
    finally:
        client.close()
    calls = (stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("evalsha", "eval"))
    return sum(int(count) for count in calls)


def _run(
    processes: int, tickets: int, limit: int, window: float, redis_url: str | None
) -> dict[str, Any]:
    """One run: the fake, N workers started together, and what they all did."""
    calls = _redis_calls(redis_url)
    server = _python("--serve", str(tickets), str(limit), str(window))
    assert server.stdin is not None
    assert server.stdout is not None
    base_url = server.stdout.readline().split()[1]
    app = f"bench-{uuid.uuid4().hex[:8]}"
    share = tickets // processes
    workers = []
    for n in range(processes):
        first, last = n * share + 1, tickets if n == processes - 1 else (n + 1) * share
        args = ["--work", base_url, str(first), str(last), redis_url or "-", app]
        workers.append(_python(*args))
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "READY"
    started = time.perf_counter()
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    reports = []
    for worker in workers:
        assert worker.stdout is not None
        reports.append(json.loads(worker.stdout.readline()))
        worker.wait()
    wall = time.perf_counter() - started
    server.stdin.write("stats\n")
    server.stdin.flush()
    seen = json.loads(server.stdout.readline())
    server.wait()
    ok = sum(report["ok"] for report in reports)
    calls = _redis_calls(redis_url) - calls
    return {
        "redis calls per ticket": calls / tickets,
        "429s": seen["429s"],
        "429s per process": seen["429s"] / processes,
        "extra": seen["requests"] / tickets - 1,
        "lost": tickets - ok,
        "wall": wall,
        "cpu per ticket": sum(report["cpu"] for report in reports) / tickets,
    }


def _spread(values: list[float], form: str) -> str:
    middle = statistics.median_low(values) if form == "d" else statistics.median(values)
    if len(values) == 1:
        return format(middle, form)
    return f"{format(middle, form)} ({format(min(values), form)}-{format(max(values), form)})"


def _check_targets(
    results: dict[tuple[int, bool], list[dict[str, Any]]], baseline: list[dict[str, Any]]
) -> None:
    """Issue 9's targets, for the most processes run with RedisQuota: every run, or the median."""
    n = max(n for n, _ in results)
    shared, local = results.get((n, True)), results.get((1, False))
    if shared is None or local is None:
        return
    walls = [run["wall"] / base["wall"] for run, base in zip(shared, baseline, strict=True)]
    checks = [
        (
            "at most 2 429s per process, in every run",
            max(r["429s per process"] for r in shared) <= 2,
        ),
        ("no lost result, in every run", max(r["lost"] for r in shared) == 0),
        ("wall time within 1.25x of one process (median)", statistics.median(walls) <= 1.25),
    ]
    one = results.get((1, True))
    if one is not None:
        cpu = [r["cpu per ticket"] / b["cpu per ticket"] for r, b in zip(one, local, strict=True)]
        checks.append(
            (
                "RedisQuota adds under 15% CPU per ticket, 1 process (median)",
                statistics.median(cpu) < 1.15,
            )
        )
    print()
    print(f"Targets for {n} x {CONCURRENCY} with RedisQuota:")
    for what, met in checks:
        print(f"  {'met' if met else 'MISSED'}: {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--tickets", type=int, default=1600)
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--window", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis-url")
    parser.add_argument("--json", metavar="FILE", help="Write every run's figures to FILE too.")
    args = parser.parse_args()
    configs = [(n, shared) for n in args.processes for shared in (False, True)]
    if 1 not in args.processes:
        configs.insert(0, (1, False))  # the baseline
    results: dict[tuple[int, bool], list[dict[str, Any]]] = {c: [] for c in configs}
    with _redis_server(args.redis_url) as redis_url:
        for round_ in range(args.rounds):
            for n, shared in configs:
                run = _run(n, args.tickets, args.limit, args.window, redis_url if shared else None)
                results[(n, shared)].append(run)
                mode = "RedisQuota" if shared else "local"
                print(
                    f"round {round_ + 1}: {n} x {CONCURRENCY} {mode:10}: {run['429s']} 429s, "
                    f"{run['lost']} lost, {run['wall']:.2f} s",
                    file=sys.stderr,
                    flush=True,
                )
    baseline = results[(1, False)]
    header = (
        f"{args.tickets} tickets, {args.limit} requests per {args.window:g} s, "
        f"concurrency {CONCURRENCY} per process; medians of {args.rounds} rounds (min-max)"
    )
    print(header)
    print()
    print(
        "| processes | pacing | 429s per process | extra requests | lost | wall vs 1 process "
        "| CPU per ticket | CPU vs local, same N | Redis calls per ticket |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for n, shared in configs:
        runs = results[(n, shared)]
        local = results[(n, False)]
        wall_ratio = [run["wall"] / base["wall"] for run, base in zip(runs, baseline, strict=True)]
        cpu_ratio = [
            run["cpu per ticket"] / same["cpu per ticket"]
            for run, same in zip(runs, local, strict=True)
        ]
        print(
            f"| {n} x {CONCURRENCY} | {'RedisQuota' if shared else 'local'} "
            f"| {_spread([r['429s per process'] for r in runs], '.1f')} "
            f"| {_spread([100 * r['extra'] for r in runs], '+.1f')}% "
            f"| {_spread([r['lost'] for r in runs], 'd')} "
            f"| {_spread(wall_ratio, '.2f')}x "
            f"| {_spread([1e6 * r['cpu per ticket'] for r in runs], '.0f')} us "
            f"| {_spread(cpu_ratio, '.2f')}x "
            f"| {_spread([r['redis calls per ticket'] for r in runs], '.2f')} |"
        )
    _check_targets(results, baseline)
    if args.json:
        Path(args.json).write_text(
            json.dumps({f"{n}x{'redis' if s else 'local'}": r for (n, s), r in results.items()})
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        asyncio.run(_serve(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))
    elif sys.argv[1:2] == ["--work"]:
        base_url, first, last, redis_url, app = sys.argv[2:7]
        asyncio.run(
            _work(base_url, int(first), int(last), None if redis_url == "-" else redis_url, app)
        )
    else:
        main()
