"""How long a call can hold a web request, and what a caller's session pool does to timeouts.

The cases of issue 10, against a local ``FakeIntercom``; each prints what happened and how long
it took. Run it on any checkout to compare (``with_options`` cases are skipped where it is
missing)::

    python benchmarks/call_bounds.py
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import aiohttp

from intercom_async import IntercomClient, RetryPolicy
from intercom_async.testing import FakeIntercom, Fault


async def one_call(client: IntercomClient, ticket_id: str) -> tuple[float, str]:
    started = time.monotonic()
    try:
        await client.tickets.get(ticket_id)
    except Exception as error:
        outcome = type(error).__name__
    else:
        outcome = "ok"
    return time.monotonic() - started, outcome


async def main() -> None:
    async with FakeIntercom(tickets=20, parts=1) as fake:
        fake.inject("1", Fault.slow(30.0), times=None)  # a dead Intercom, for ticket 1
        cases = [
            ("timeout=30, RetryPolicy(max_delay=2): a slow answer", 30, RetryPolicy(max_delay=2)),
            ("timeout=1, RetryPolicy(): a dead Intercom", 1, RetryPolicy()),
            ("timeout=1, RetryPolicy(max_delay=3): a dead Intercom", 1, RetryPolicy(max_delay=3)),
        ]
        for title, timeout, policy in cases:
            async with fake.client(timeout=timeout, retry=policy) as client:
                elapsed, outcome = await one_call(client, "1")
            print(f"{title:55} {elapsed:6.2f} s  {outcome}")
        async with fake.client(timeout=30) as client:
            if hasattr(client, "with_options"):
                quick = client.with_options(retry=RetryPolicy(max_attempts=3, max_delay=2.0))
                elapsed, outcome = await one_call(quick, "1")
                print(
                    f"{'with_options(max_delay=2) of a timeout=30 client':55} "
                    f"{elapsed:6.2f} s  {outcome}"
                )

        # 60 requests, 0.2 s answers, a 0.5 s timeout, a pool of 5: own pool vs caller's session.
        for n in range(2, 21):
            fake.inject(str(n), Fault.slow(0.2), times=None)
        ids = [str(2 + n % 19) for n in range(60)]
        own = fake.client(timeout=0.5, retry=RetryPolicy.never(), max_connections=5)
        async with own:
            outcomes = Counter(await asyncio.gather(*(one_call(own, i) for i in ids)))
        print(
            f"{'60 x 0.2 s, timeout 0.5, our pool of 5':55} "
            f"{dict(Counter(o for _, o in outcomes.elements()))}"
        )
        connector = aiohttp.TCPConnector(limit=5)
        async with aiohttp.ClientSession(connector=connector) as session:
            yours = fake.client(session=session, timeout=0.5, retry=RetryPolicy.never())
            async with yours:
                results = await asyncio.gather(*(one_call(yours, i) for i in ids))
        print(
            f"{'60 x 0.2 s, timeout 0.5, your session, limit 5':55} "
            f"{dict(Counter(o for _, o in results))}"
        )


if __name__ == "__main__":
    asyncio.run(main())
