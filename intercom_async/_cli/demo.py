"""``intercom-async demo``: the bulk fetch of ``get-many`` against an in-process
``FakeIntercom`` whose rate limit bites a few times, whose transient faults all recover under
the default retry policy, and which is asked for ``DEMO_UNKNOWN_IDS`` ids it does not have
(404, not retried). No token, no network; the exit status is 0 when every ticket the fake has
was fetched.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .common import EXIT_FAILED, EXIT_OK, say
from .fetch import auto_progress, fetch_into, run_bulk
from .output import open_output

if TYPE_CHECKING:
    from .progress import LiveProgress, Tally

__all__ = ["demo_ids", "run_demo"]

DEMO_RATE_LIMIT = 1000
DEMO_WINDOW = 2.0
DEMO_FAULT_PROBABILITY = 0.02
DEMO_SLOW = 1.0  # a slow answer comes this late ...
DEMO_TIMEOUT = 0.75  # ... and the client gives up on it first, then retries
DEMO_UNKNOWN_IDS = 20


def demo_ids(tickets: int, seed: int) -> Iterator[str]:
    """``"1"`` to ``str(tickets)``, with ``DEMO_UNKNOWN_IDS`` unknown ids mixed in at random."""
    rng = random.Random(seed)
    slots = set(rng.sample(range(tickets + DEMO_UNKNOWN_IDS), DEMO_UNKNOWN_IDS))
    known = unknown = 0
    for slot in range(tickets + DEMO_UNKNOWN_IDS):
        if slot in slots:
            unknown += 1
            yield str(tickets + unknown)  # past the last ticket the fake has
        else:
            known += 1
            yield str(known)


def run_demo(
    *, tickets: int, concurrency: int, seed: int, output: str | None, progress: bool | None
) -> int:
    """``intercom-async demo``: ``get-many`` against an in-process fake Intercom.

    Exit status 0 when every ticket the fake has was fetched (the unknown ids fail, as meant).
    """
    from ..testing import FakeIntercom, Fault
    from .progress import Tally

    kinds = [
        Fault.status(503),
        Fault.status(500),
        Fault.html(502),
        Fault.reset(),
        Fault.truncate(),
        Fault.slow(DEMO_SLOW),
    ]
    with contextlib.ExitStack() as stack:
        target = output if output is not None else os.devnull
        sink = open_output(target, stack)

        async def fetch(tally: Tally, live: LiveProgress) -> None:
            async with FakeIntercom(
                tickets=tickets, seed=seed, rate_limit=DEMO_RATE_LIMIT, window=DEMO_WINDOW
            ) as fake:
                fake.random_faults(DEMO_FAULT_PROBABILITY, seed=seed, kinds=kinds)
                client = fake.client(timeout=DEMO_TIMEOUT, max_connections=max(100, concurrency))
                await fetch_into(
                    client,
                    demo_ids(tickets, seed),
                    sink=sink,
                    tally=tally,
                    progress=live,
                    concurrency=concurrency,
                    ordered=False,
                    report_errors=False,
                )

        say(
            f"demo: a fake Intercom on 127.0.0.1 with {tickets} tickets, a rate limit of "
            f"{DEMO_RATE_LIMIT} requests per {DEMO_WINDOW:g}s, "
            f"{DEMO_FAULT_PROBABILITY:.0%} of requests failing "
            f"(500, 502, 503, reset, cut body, {DEMO_SLOW:g}s late with a "
            f"{DEMO_TIMEOUT:g}s timeout) and {DEMO_UNKNOWN_IDS} unknown ids"
        )
        tally = Tally(total=tickets + DEMO_UNKNOWN_IDS)
        status = run_bulk(
            fetch, tally=tally, show_progress=auto_progress(progress, target), title="demo"
        )
    if status == EXIT_FAILED and tally.fetched == tickets and not tally.output_failed:
        return EXIT_OK  # only the unknown ids failed
    return status
