"""Bulk-fetch benchmark: intercom-async ``get_many`` vs a bare aiohttp floor vs python-intercom.

A local aiohttp server in a separate process answers every ``GET /tickets/{id}`` with a
realistic ticket (``intercom_async.testing.generate_ticket``), so the CPU time measured
with ``time.process_time()`` is the client's alone. Each contender warms up on 50 tickets, then
fetches N tickets with concurrency C (python-intercom: a tenth of N, at least 30, its times
scaled to N). The contenders run in turn, round after round
(``--rounds``, 5 by default), so that drift and load hit each alike; reported are the median and
the spread (min-max) of the rounds, per 1,000 tickets, and the median of each round's ratio to
the bare aiohttp floor. Then ``import`` times, in fresh interpreters.

Usage::

    python benchmarks/bulk_fetch.py                   # 20 parts (N=2000), 500 parts (N=300)
    python benchmarks/bulk_fetch.py --parts 20 --n 5000 --concurrency 64 --rounds 9
    python benchmarks/bulk_fetch.py --imports           # import time only
    python benchmarks/bulk_fetch.py --layers            # what each layer adds, per ticket
    python benchmarks/bulk_fetch.py --memory          # peak RSS of get_many: 2,000 vs 20,000 ids
    python benchmarks/bulk_fetch.py --profile         # where get_many's CPU goes (first --parts)

The official SDK (``pip install python-intercom``) is benchmarked only when it is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import importlib.metadata
import importlib.util
import json
import multiprocessing
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import unittest.mock
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
from aiohttp import web

from intercom_async import IntercomClient, _transport
from intercom_async.testing import generate_ticket

WARMUP = 50
POOL = 50
LARGE_PARTS = 100  # at or above this many parts, --n-large applies
# python-intercom fetches a tenth of the ids (at least 30), its times scaled to N: at ~50x the
# CPU, the full N would take most of the benchmark's time.
OFFICIAL_SHARE, OFFICIAL_MIN = 10, 30
FLOOR, OURS = "bare aiohttp (floor)", "intercom-async get_many"
HEADERS = {"Authorization": "Bearer bench", "Accept": "application/json", "Intercom-Version": "2.9"}
_MARK = '"@@ID@@"'

Timing = tuple[float, float]  # wall seconds, CPU seconds
# How a contender's timed part runs: timed, or under the profiler.
Measure = Callable[[Awaitable[None]], Awaitable[Timing]]
# A contender: (server url, warm-up ids, timed ids, concurrency, measure) -> what measure gave.
# It raises if any ticket fails.
Contender = Callable[[str, list[str], list[str], int, Measure], Coroutine[Any, Any, Timing]]


# -- the server (runs in its own process) -----------------------------------------------------


def _body_pool(parts: int) -> list[tuple[bytes, bytes]]:
    """``POOL`` serialized tickets, each split around its top-level id."""
    pool = []
    for i in range(POOL):
        data = generate_ticket(str(i), parts=parts, seed=i)
        data["id"] = _MARK[1:-1]
        before, after = json.dumps(data).encode().split(_MARK.encode())
        pool.append((before, after))
    return pool


def _serve(parts: int, conn: Connection) -> None:
    pool = _body_pool(parts)

    async def ticket(request: web.Request) -> web.Response:
        ticket_id = request.match_info["id"]
        before, after = pool[hash(ticket_id) % len(pool)]
        return web.Response(
            body=before + json.dumps(ticket_id).encode() + after,
            content_type="application/json",
            headers={
                "X-RateLimit-Limit": "100000",
                "X-RateLimit-Remaining": "99999",
                "X-RateLimit-Reset": str(int(time.time()) + 10),
            },
        )

    async def run() -> None:
        app = web.Application()
        app.router.add_get("/tickets/{id}", ticket)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        conn.send(runner.addresses[0][1])
        await asyncio.Event().wait()  # until terminated

    asyncio.run(run())


@contextlib.contextmanager
def serving(parts: int) -> Iterator[str]:
    """Run the ticket server in a separate process; yield its base URL."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_serve, args=(parts, child), daemon=True)
    process.start()
    try:
        if not parent.poll(120):
            raise RuntimeError("the benchmark server did not start")
        yield f"http://127.0.0.1:{parent.recv()}"
    finally:
        process.terminate()
        process.join()


# -- contenders -------------------------------------------------------------------------------


def timer(gc_log: list[float] | None = None) -> Measure:
    """A ``Measure`` giving (wall s, CPU s), after a full collection; GC pauses go to gc_log."""

    def on_gc(phase: str, info: dict[str, int]) -> None:  # -start, +stop: the sum is the pauses
        if gc_log is not None:
            gc_log.append(time.process_time() * (1 if phase == "stop" else -1))

    async def measure(work: Awaitable[None]) -> Timing:
        gc.collect()
        gc.callbacks.append(on_gc)
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            await work
        finally:
            gc.callbacks.remove(on_gc)
        return time.perf_counter() - wall, time.process_time() - cpu

    return measure


async def run_ours(url: str, warm: list[str], ids: list[str], c: int, m: Measure) -> Timing:
    async with IntercomClient(token="bench", base_url=url) as client:

        async def fetch(batch: Iterable[str]) -> None:
            async for result in client.tickets.get_many(batch, concurrency=c):
                if not result.ok:
                    raise RuntimeError(f"ticket {result.id}: {result.error}")

        await fetch(warm)
        return await m(fetch(ids))


async def run_floor(url: str, warm: list[str], ids: list[str], c: int, m: Measure) -> Timing:
    async with aiohttp.ClientSession() as session:

        async def worker(todo: Iterator[str]) -> None:
            for ticket_id in todo:
                async with session.get(f"{url}/tickets/{ticket_id}", headers=HEADERS) as resp:
                    if resp.status != 200:
                        raise RuntimeError(f"ticket {ticket_id}: HTTP {resp.status}")
                    json.loads(await resp.read())

        async def fetch(batch: list[str]) -> None:
            todo = iter(batch)
            await asyncio.gather(*(worker(todo) for _ in range(c)))

        await fetch(warm)
        return await m(fetch(ids))


async def run_official(url: str, warm: list[str], ids: list[str], c: int, m: Measure) -> Timing:
    from intercom import AsyncIntercom

    client = AsyncIntercom(token="bench", base_url=url)
    semaphore = asyncio.Semaphore(c)

    async def one(ticket_id: str) -> None:
        async with semaphore:
            if await client.tickets.get(ticket_id=ticket_id) is None:
                raise RuntimeError(f"ticket {ticket_id}: no ticket")

    async def fetch(batch: list[str]) -> None:
        await asyncio.gather(*(one(ticket_id) for ticket_id in batch))

    try:
        await fetch(warm)
        return await m(fetch(ids))
    finally:  # the SDK has no close(); close the httpx client it made
        await client._client_wrapper.httpx_client.httpx_client.aclose()


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _official_isolated(url: str, warm: list[str], ids: list[str], c: int) -> Timing | str:
    """Run the official SDK in a process of its own: its imports (~30,000 GC-tracked objects)
    would slow every later full garbage collection of the main process, and so the others."""
    try:
        return asyncio.run(run_official(url, warm, ids, c, timer()))
    except Exception as exc:  # may not pickle: hand back the message
        return f"{type(exc).__name__}: {exc}"


def contenders() -> dict[str, Contender]:
    found: dict[str, Contender] = {FLOOR: run_floor, OURS: run_ours}
    if importlib.util.find_spec("intercom") is not None:
        found[f"python-intercom {_version('python-intercom')}"] = run_official
    return found


# -- timing mode ------------------------------------------------------------------------------


def _spread(values: list[float]) -> str:
    """``median (min-max)`` of ``values``."""
    return f"{statistics.median(values):.3g} ({min(values):.3g}-{max(values):.3g})"


def bench(parts: int, n: int, c: int, rounds: int) -> dict[str, Any]:
    """``rounds`` interleaved rounds of every contender; medians and spreads, printed and
    returned. A ratio is the median of the rounds' ratios (each round's contenders ran side by
    side, under the same load)."""
    size = len(json.dumps(generate_ticket("1", parts=parts)))
    warm = [str(i) for i in range(WARMUP)]
    ids = [str(10_000_000 + i) for i in range(n)]
    few = ids[: max(OFFICIAL_MIN, n // OFFICIAL_SHARE)]  # python-intercom is ~50x slower
    entries = contenders()
    runs: dict[str, list[Timing]] = {name: [] for name in entries}
    errors: dict[str, str] = {}
    spawn = multiprocessing.get_context("spawn")
    with serving(parts) as url, ProcessPoolExecutor(1, mp_context=spawn) as isolated:
        for _ in range(rounds):  # interleaved, so drift hits every contender alike
            for name, contender in entries.items():
                if name in errors:
                    continue
                try:
                    if contender is run_official:
                        got = isolated.submit(_official_isolated, url, warm, few, c).result()
                        if not isinstance(got, str):  # as if it had fetched all n
                            got = (got[0] * n / len(few), got[1] * n / len(few))
                    else:
                        got = asyncio.run(contender(url, warm, ids, c, timer()))
                except Exception as exc:
                    got = f"{type(exc).__name__}: {exc}"
                if isinstance(got, str):
                    errors[name] = got.splitlines()[0][:160]
                else:
                    runs[name].append(got)
    print(
        f"\n== {parts} parts/ticket (~{size / 1024:.1f} KiB JSON): N={n}, C={c}, "
        f"median (min-max) of {rounds} interleaved rounds; CPU is the client process's"
    )
    print(f"{'contender':<30}{'CPU s/1k':>22}{'wall s/1k':>22}{'CPU / floor':>22}")
    floor = runs.get(FLOOR) if FLOOR not in errors else None
    result: dict[str, Any] = {"parts": parts, "n": n, "rounds": rounds, "contenders": {}}
    for name, timings in runs.items():
        if name in errors:
            print(f"{name:<30}ERROR: {errors[name]}")
            continue
        cpu = [u * 1000 / n for _, u in timings]
        wall = [w * 1000 / n for w, _ in timings]
        line = f"{name:<30}{_spread(cpu):>22}{_spread(wall):>22}"
        entry: dict[str, Any] = {"cpu_s_per_1k": cpu, "wall_s_per_1k": wall}
        if floor:
            ratios = [u / f for (_, u), (_, f) in zip(timings, floor, strict=False)]
            line += f"{_spread(ratios):>22}"
            entry["cpu_ratio_to_floor"] = ratios
        result["contenders"][name] = entry
        print(line)
    official = [k for k in runs if k.startswith("python-intercom") and runs[k]]
    if official and runs.get(OURS):
        theirs = [u / o for (_, u), (_, o) in zip(runs[official[0]], runs[OURS], strict=False)]
        print(f"{official[0]} uses {_spread(theirs)} x the CPU of intercom-async get_many")
        result["official_over_ours"] = theirs
    return result


# -- the cost of observing ------------------------------------------------------------------


def _observed_client(url: str, mode: str) -> IntercomClient:
    """A client observed as ``mode`` says: ``none`` (no observer at all), ``api`` (what every
    client has with opentelemetry-api installed and no SDK set up) or ``sdk`` (the SDK's
    providers, spans batched to an exporter that drops them, metrics to an in-memory reader)."""
    from intercom_async._observe import Observer

    if mode != "sdk":
        client = IntercomClient(token="bench", base_url=url)
        if mode == "none":
            client._transport.observer = Observer()  # nothing listens: the NO_CALL path
        return client
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Dropped(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(Dropped()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    return IntercomClient(
        token="bench", base_url=url, tracer_provider=tracer_provider, meter_provider=meter_provider
    )


async def run_observed(
    url: str, warm: list[str], ids: list[str], c: int, m: Measure, mode: str
) -> Timing:
    async with _observed_client(url, mode) as client:

        async def fetch(batch: Iterable[str]) -> None:
            async for result in client.tickets.get_many(batch, concurrency=c):
                if not result.ok:
                    raise RuntimeError(f"ticket {result.id}: {result.error}")

        await fetch(warm)
        return await m(fetch(ids))


OBSERVE_MODES = {
    "no observer": "none",
    "otel api, no SDK (default)": "api",
    "otel SDK, no-op exporter": "sdk",
}


def observe_bench(parts: int, n: int, c: int, rounds: int) -> dict[str, Any]:
    """The CPU of get_many unobserved, with opentelemetry-api and no SDK (every client's
    default), and with the SDK recording to exporters that drop: interleaved rounds, medians
    (min-max), and each round's ratio to the unobserved run."""
    warm = [str(i) for i in range(WARMUP)]
    ids = [str(10_000_000 + i) for i in range(n)]
    runs: dict[str, list[Timing]] = {name: [] for name in OBSERVE_MODES}
    with serving(parts) as url:
        for _ in range(rounds):
            for name, mode in OBSERVE_MODES.items():
                runs[name].append(asyncio.run(run_observed(url, warm, ids, c, timer(), mode)))
    print(
        f"\n== observing: {parts} parts/ticket, N={n}, C={c}, median (min-max) of {rounds} "
        "interleaved rounds"
    )
    print(f"{'observer':<30}{'CPU s/1k':>22}{'wall s/1k':>22}{'CPU / none':>22}")
    base = runs["no observer"]
    result: dict[str, Any] = {"parts": parts, "n": n, "rounds": rounds, "modes": {}}
    for name, timings in runs.items():
        cpu = [u * 1000 / n for _, u in timings]
        wall = [w * 1000 / n for w, _ in timings]
        ratios = [u / b for (_, u), (_, b) in zip(timings, base, strict=True)]
        print(f"{name:<30}{_spread(cpu):>22}{_spread(wall):>22}{_spread(ratios):>22}")
        result["modes"][name] = {"cpu_s_per_1k": cpu, "wall_s_per_1k": wall, "ratio": ratios}
    return result


# -- import time ------------------------------------------------------------------------------


def import_times(rounds: int) -> dict[str, list[float]]:
    """Milliseconds to import each module in a fresh interpreter, less a bare interpreter's
    start, over ``rounds`` interleaved rounds."""
    modules = {"(bare interpreter)": "pass", "aiohttp": "import aiohttp"}
    modules["intercom_async"] = "import intercom_async"
    times: dict[str, list[float]] = {name: [] for name in modules}
    for _ in range(rounds):
        for name, code in modules.items():
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603 - ours
            times[name].append((time.perf_counter() - started) * 1000)
    bare = times.pop("(bare interpreter)")
    net = {name: [t - b for t, b in zip(ts, bare, strict=True)] for name, ts in times.items()}
    print(
        f"\n== import time, ms past a bare interpreter ({statistics.median(bare):.0f} ms), "
        f"median (min-max) of {rounds} interleaved rounds, a fresh process each"
    )
    for name, values in net.items():
        print(f"import {name:<24}{_spread(values):>22}")
    print("(import intercom_async includes aiohttp, attrs, cattrs and tenacity)")
    return net


# -- memory mode ------------------------------------------------------------------------------


async def _consume(url: str, n: int, c: int) -> None:
    async with IntercomClient(token="bench", base_url=url) as client:
        ok = 0
        async for result in client.tickets.get_many((str(i) for i in range(n)), concurrency=c):
            ok += result.ok  # the result is dropped here
        if ok != n:
            raise RuntimeError(f"only {ok} of {n} tickets fetched")


def memory_child(url: str, n: int, c: int, trace: bool) -> None:
    """In a fresh process: fetch n tickets, print peak RSS (and tracemalloc peak) as JSON."""
    asyncio.run(_consume(url, WARMUP, c))  # imports, lazy init, converter caches
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
    asyncio.run(_consume(url, n, c))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    traced = tracemalloc.get_traced_memory()[1] if trace else None
    print(json.dumps({"baseline_kib": baseline, "peak_kib": peak, "traced_peak": traced}))


def memory(c: int) -> None:
    print(f"\n== memory: get_many over a generator of ids, 20 parts, C={c}, fresh process each")
    print(f"{'ids':>8}{'RSS after warm-up':>19}{'peak RSS':>11}{'tracemalloc peak':>18}")
    peaks: list[int] = []
    traced: list[int] = []
    with serving(20) as url:
        for n in (2_000, 20_000):
            command = [sys.executable, __file__, "--memory-child", str(n), "--url", url]
            command += ["--concurrency", str(c)]
            rss = json.loads(subprocess.check_output(command))  # noqa: S603 - our own script
            peaks.append(rss["peak_kib"])
            line = f"{n:>8}{rss['baseline_kib'] / 1024:>15.1f} MiB{peaks[-1] / 1024:>7.1f} MiB"
            # a separate run: tracing slows the fetch and costs memory of its own
            out = subprocess.check_output([*command, "--tracemalloc"])  # noqa: S603
            traced.append(json.loads(out)["traced_peak"])
            print(f"{line}{traced[-1] / 2**20:>14.1f} MiB")
    growth = peaks[1] / peaks[0] - 1
    verdict = "OK" if growth <= 0.10 else "OVER TARGET"
    print(f"peak RSS, 20k vs 2k ids: {growth:+.1%} (target: at most +10%: {verdict})")
    print(f"tracemalloc peak, 20k vs 2k ids: {traced[1] / traced[0] - 1:+.1%}")


# -- profile mode -----------------------------------------------------------------------------

_AREAS = {  # a substring of a profiled function's file name -> the area it counts for
    "<attrs generated": "attrs-generated __init__",
    "<cattrs generated": "cattrs-generated hooks",
    "<intercom_async": "intercom_async generated code",
    "intercom_async/": "intercom_async/",
    "json/decoder.py": "json",
    **{name: name for name in ("cattrs", "tenacity", "aiohttp", "yarl", "multidict", "asyncio")},
}


def _area(filename: str) -> str:
    if filename == "~":
        return "C builtins"
    area = next((area for key, area in _AREAS.items() if key in filename), "other")
    return area + filename.rsplit("/", 1)[1] if area == "intercom_async/" else area


async def _profiled(contender: Contender, url: str, n: int, c: int) -> pstats.Stats:
    profiler = cProfile.Profile()

    async def measure(work: Awaitable[None]) -> Timing:
        profiler.enable()
        await work
        profiler.disable()
        return 0.0, 0.0

    await contender(url, [str(i) for i in range(WARMUP)], [str(i) for i in range(n)], c, measure)
    return pstats.Stats(profiler)


def _json_only(response: Any, into: Any, **_: Any) -> Any:
    return json.loads(response.body)


async def run_ours_no_models(
    url: str, warm: list[str], ids: list[str], c: int, m: Measure
) -> Timing:
    """get_many with the model building patched out (a private name): a diagnostic only."""
    with unittest.mock.patch.object(_transport, "decode", _json_only):
        return await run_ours(url, warm, ids, c, m)


async def run_gather_no_models(
    url: str, warm: list[str], ids: list[str], c: int, m: Measure
) -> Timing:
    """``tickets.get`` on ``c`` tasks of ``asyncio.gather`` (no ``get_many``), no models."""
    with unittest.mock.patch.object(_transport, "decode", _json_only):
        async with IntercomClient(token="bench", base_url=url) as client:

            async def fetch(batch: list[str]) -> None:
                todo = iter(batch)

                async def worker() -> None:
                    for ticket_id in todo:
                        await client.tickets.get(ticket_id)

                await asyncio.gather(*(worker() for _ in range(c)))

            await fetch(warm)
            return await m(fetch(ids))


def layers(parts: int, n: int, c: int, rounds: int) -> None:
    """What each layer adds per ticket: the floor, then the client's request path (with
    ``gather``), then ``get_many``'s hand-off, then the models; medians of interleaved rounds."""
    warm, ids = [str(i) for i in range(WARMUP)], [str(i) for i in range(n)]
    runs: dict[str, Contender] = {
        FLOOR: run_floor,
        "+ request path (gather of get, no models)": run_gather_no_models,
        "+ get_many (no models)": run_ours_no_models,
        "+ models (get_many)": run_ours,
    }
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    with serving(parts) as url:
        for _ in range(rounds):
            for name, run in runs.items():
                cpu[name].append(asyncio.run(run(url, warm, ids, c, timer()))[1] * 1e6 / n)
    print(
        f"\n== CPU µs per ticket by layer: {parts} parts, N={n}, C={c}, "
        f"median (min-max) of {rounds} interleaved rounds"
    )
    previous: float | None = None
    for name, values in cpu.items():
        median = statistics.median(values)
        step = "" if previous is None else f"{median - previous:+8.0f}"
        print(f"{name:<44}{_spread(values):>24}{step:>10}")
        previous = median


def profile(parts: int, n: int, c: int, top: int = 30) -> None:
    warm, ids = [str(i) for i in range(WARMUP)], [str(i) for i in range(n)]
    runs = {FLOOR: run_floor, "get_many, JSON only, no models": run_ours_no_models, OURS: run_ours}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    gc_us: dict[str, list[float]] = {name: [] for name in runs}
    with serving(parts) as url:
        for _ in range(3):
            for name, run in runs.items():
                log: list[float] = []
                cpu[name].append(asyncio.run(run(url, warm, ids, c, timer(log)))[1] * 1e6 / n)
                gc_us[name].append(sum(log) * 1e6 / n)
        stats = [asyncio.run(_profiled(run, url, n, c)) for run in (run_floor, run_ours)]
    print(f"\n== where get_many's CPU goes: {parts} parts, N={n}, C={c}, no profiler, best of 3")
    print(f"{'':<34}{'CPU µs/ticket':>14}{'of it in GC':>13}")
    for name in runs:
        print(f"{name:<34}{min(cpu[name]):>14.1f}{min(gc_us[name]):>13.1f}")
    areas: dict[str, list[float]] = {}
    for column, stat in enumerate(stats):
        for (filename, _, _), row in stat.stats.items():  # type: ignore[attr-defined]
            areas.setdefault(_area(filename), [0.0, 0.0])[column] += row[2] * 1e6 / n
    print("\n== cProfile: own time per ticket, µs (inflated by the profiler)")
    print(f"{'area':<34}{'floor':>9}{'get_many':>10}{'extra':>9}")
    for area, (f, o) in sorted(areas.items(), key=lambda kv: kv[1][0] - kv[1][1]):
        print(f"{area:<34}{f:>9.1f}{o:>10.1f}{o - f:>+9.1f}")
    total_f, total_o = (sum(v[i] for v in areas.values()) for i in (0, 1))
    print(f"{'total':<34}{total_f:>9.1f}{total_o:>10.1f}{total_o - total_f:>+9.1f}")
    print(f"\n-- get_many: top {top} functions by own time")
    stats[1].sort_stats("tottime").print_stats(top)


def _cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=2000, help="tickets per run")
    parser.add_argument(
        "--n-large", type=int, default=300, help=f"tickets per run at >= {LARGE_PARTS} parts"
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--parts", type=int, nargs="+", default=[20, 500])
    parser.add_argument(
        "--rounds", "--repeat", type=int, default=5, help="interleaved rounds; medians count"
    )
    parser.add_argument("--imports", action="store_true", help="import time only")
    parser.add_argument("--layers", action="store_true", help="CPU per layer (first --parts)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--memory", action="store_true", help="peak RSS, 2k vs 20k ids")
    parser.add_argument("--profile", action="store_true", help="profile get_many (first --parts)")
    parser.add_argument(
        "--observe", action="store_true", help="the cost of observing (first --parts)"
    )
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--tracemalloc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child is not None:
        memory_child(args.url, args.memory_child, args.concurrency, args.tracemalloc)
        return
    print(
        f"python {platform.python_version()} ({platform.python_implementation()}), "
        f"aiohttp {_version('aiohttp')}, intercom-async {_version('intercom-async')}, "
        f"cattrs {_version('cattrs')}, attrs {_version('attrs')}, "
        f"python-intercom {_version('python-intercom')}"
    )
    print(
        f"{platform.machine()}, {os.cpu_count()} CPUs ({_cpu_model()}), "
        f"load average {os.getloadavg()[0]:.2f} at the start, {time.strftime('%Y-%m-%d')}"
    )
    if args.memory:
        memory(args.concurrency)
    elif args.profile:
        profile(args.parts[0], args.n, args.concurrency)
    elif args.imports:
        import_times(args.rounds)
    elif args.layers:
        layers(args.parts[0], args.n, args.concurrency, args.rounds)
    elif args.observe:
        observe_bench(args.parts[0], args.n, args.concurrency, args.rounds)
    else:
        figures: dict[str, Any] = {"benches": []}
        for parts in args.parts:
            n = args.n_large if parts >= LARGE_PARTS else args.n
            figures["benches"].append(bench(parts, n, args.concurrency, args.rounds))
        figures["imports_ms"] = import_times(max(args.rounds, 7))
        if args.json:
            with open(args.json, "w", encoding="utf-8") as out:
                json.dump(figures, out, indent=1)


if __name__ == "__main__":
    main()
