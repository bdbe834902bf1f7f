"""What ``RedisQuota`` does to the connections of a Redis client it is lent, when Redis stalls.

After a failed or stalled call the quota drops connections a failure may have left broken; of
a client the application lent it, only the idle ones: the application's subscribers and the
commands it has in flight are its own. Each test stalls a real ``redis-server`` with
SIGSTOP while the quota calls it, against a real ``FakeIntercom``. And a client closed after
its event loop ended closes the quota's connections all the same (and leaves the
application's alone).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import time
import warnings
from collections.abc import Callable

import pytest
import redis
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from intercom_async import IntercomClient
from intercom_async._redis_store import _close_sockets
from intercom_async.redis import RedisQuota
from intercom_async.testing import FakeIntercom

from .redis_fixture import RedisServer

TOKEN = "tok_REDIS-connections-distinctive-SECRET-71b0"
STALL = 0.6  # seconds Redis is stopped, against the quota's timeout of 0.2


def outages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "is unavailable" in r.getMessage()]


async def subscribed(redis: Redis, channel: str) -> PubSub:
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel)
    message = await pubsub.get_message(timeout=2)
    assert message is not None and message["type"] == "subscribe"
    return pubsub


async def stall_during_a_call(client: IntercomClient, server: RedisServer) -> None:
    """Stall Redis (SIGSTOP, for ``STALL`` seconds) while ``client``'s quota calls it: the call
    times out, and the quota drops the connections it drops while Redis is still stalled."""
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        await client.tickets.get("2")  # its turn: Redis answers too late, so local pacing
        assert client._quota.shared is False  # type: ignore[attr-defined]
        await asyncio.sleep(STALL - (time.monotonic() - started))
    finally:
        os.kill(server.process.pid, signal.SIGCONT)


async def test_a_stall_leaves_the_application_s_subscriber_and_commands_alone(
    own_redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    lent = Redis.from_url(own_redis_server.url)  # the application's, lent to the quota
    other = Redis.from_url(own_redis_server.url)  # another program's: it publishes
    pubsub = await subscribed(lent, "news")
    try:
        async with FakeIntercom(token=TOKEN, tickets=5, parts=1) as fake:
            client = fake.client(quota=RedisQuota(lent, app="lent", timeout=0.2))
            async with client:
                await client.tickets.get("1")  # the quota has a connection of the pool too
                waiting = asyncio.create_task(lent.blpop(["jobs"], timeout=10))
                await asyncio.sleep(0.05)  # BLPOP waits in Redis: a command in flight
                with caplog.at_level(logging.WARNING, logger="intercom_async"):
                    await stall_during_a_call(client, own_redis_server)
                assert len(outages(caplog)) == 1
                # The application's connections are as they were: its subscriber hears, and
                # its command in flight gets its answer.
                assert await other.publish("news", "after the stall") == 1
                message = await pubsub.get_message(timeout=2)
                assert message is not None and message["data"] == b"after the stall"
                await other.rpush("jobs", "job-1")
                assert list(await asyncio.wait_for(waiting, 2)) == [b"jobs", b"job-1"]
                await client.tickets.get("3")
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]
        await lent.aclose()
        await other.aclose()


async def test_a_stall_drops_the_quota_s_own_connections_and_it_comes_back(
    own_redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    # A quota made from a URL owns its client: every connection of it may go, and after a
    # restart of Redis, every one must (they are dead); the quota comes back by itself.
    async with FakeIntercom(token=TOKEN, tickets=5, parts=1, window=0.5) as fake:
        client = fake.client(quota=RedisQuota(own_redis_server.url, app="own", timeout=0.2))
        async with client:
            await client.tickets.get("1")
            with caplog.at_level(logging.WARNING, logger="intercom_async"):
                await stall_during_a_call(client, own_redis_server)
                own_redis_server.restart()
                for _ in range(200):  # back within the retry's first pauses
                    if client._quota.shared:  # type: ignore[attr-defined]
                        break
                    await asyncio.sleep(0.02)
            assert client._quota.shared  # type: ignore[attr-defined]
            await client.tickets.get("3")
    lines = [r.getMessage() for r in caplog.records if "budget" in r.getMessage()]
    assert len(outages(caplog)) == 1
    assert sum("is back" in line for line in lines) == 1


# -- closing after the event loop ended ---------------------------------------------------------


def clients_of(server: RedisServer) -> int:
    """How many clients ``server`` has, besides the one that asks."""
    with redis.Redis.from_url(server.url) as asking:
        return len(asking.client_list()) - 1


async def fetch_and_settle(client: IntercomClient) -> None:
    assert (await client.tickets.get("1")).id == "1"
    assert client._quota.shared  # type: ignore[attr-defined]
    # Let the quota's last call end: one the loop's end cancels makes redis-py drop the
    # connection it was on (the application's too), which is redis-py's business.
    for _ in range(200):
        syncing = client._quota._syncing  # type: ignore[attr-defined]
        if syncing is None or syncing.done():
            break
        await asyncio.sleep(0.01)


def used_then_closed_by_another_loop(quota: Callable[[], RedisQuota]) -> list[str]:
    """Fetch with a client sharing ``quota()`` in one ``asyncio.run``, close it in a second
    (the first loop is closed by then), and return the ResourceWarnings left once it is
    collected; the closing must raise nothing."""
    with FakeIntercom(token=TOKEN, tickets=3) as fake:
        client = fake.client(quota=quota())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            asyncio.run(fetch_and_settle(client))
            asyncio.run(client.aclose())
            assert client.closed
            del client
            gc.collect()
            gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


def test_closing_after_its_event_loop_ended_closes_the_quota_s_own_redis_connections(
    own_redis_server: RedisServer,
) -> None:
    # Before: aclose() raised "RuntimeError: Event loop is closed" and the connection to
    # Redis stayed open (an "unclosed Connection" ResourceWarning when collected).
    quota = lambda: RedisQuota(own_redis_server.url, app="ended")  # noqa: E731
    assert used_then_closed_by_another_loop(quota) == []
    assert clients_of(own_redis_server) == 0


def test_closing_after_its_event_loop_ended_leaves_the_application_s_redis_client_alone(
    own_redis_server: RedisServer,
) -> None:
    lent = Redis.from_url(own_redis_server.url)  # the application's: its connections are its own
    assert used_then_closed_by_another_loop(lambda: RedisQuota(lent, app="lent-ended")) == []
    assert clients_of(own_redis_server) == 1
    _close_sockets(lent)  # as the application would have to: its loop is closed
    assert clients_of(own_redis_server) == 0
