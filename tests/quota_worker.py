"""A worker process for the shared-budget tests: ``python -m tests.quota_worker BASE FIRST LAST
REDIS APP`` fetches tickets FIRST to LAST with ``get_many(concurrency=32)`` through a
``RedisQuota`` (REDIS a URL, or ``-`` for none) and prints one JSON line of what it did. It
prints ``READY`` once its client is made, and starts on a line on stdin."""

from __future__ import annotations

import asyncio
import json
import logging
import sys

from intercom_async import IntercomClient
from intercom_async.redis import RedisQuota

TOKEN = "tok_QUOTA-worker-distinctive-SECRET-61d0"


async def main(base_url: str, first: int, last: int, redis_url: str, app: str) -> None:
    quota = None if redis_url == "-" else RedisQuota(redis_url, app=app or None)
    async with IntercomClient(TOKEN, base_url=base_url, quota=quota) as client:
        print("READY", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        ok, failed = 0, []
        ids = (str(n) for n in range(first, last + 1))
        async for result in client.tickets.get_many(ids, concurrency=32):
            if result.ok:
                ok += 1
            else:
                failed.append(f"{result.id}: {result.error}")
        stats = client.stats
    print(json.dumps({"ok": ok, "failed": failed, "rate_limited": stats.rate_limited}), flush=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    base, first, last, redis_url, app = sys.argv[1:6]
    asyncio.run(main(base, int(first), int(last), redis_url, app))
