"""``RedisQuota`` on the Redis that managed services run: a Redis Cluster, and a master found
through Redis Sentinel.

The cluster is real: three ``redis-server --cluster-enabled yes`` masters joined by
``redis-cli --cluster create``, started once per session (``redis_fixture.py``); the sentinel
is a real ``redis-server --sentinel`` watching a master of the test's own. Intercom is a real
``FakeIntercom`` that enforces one app-wide window.
"""

# ruff: noqa: F811 - the tests' parameters are the fixtures imported below by name

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time

import pytest
import redis as sync_redis
from redis.asyncio import Redis, RedisCluster
from redis.asyncio.sentinel import Sentinel
from redis.crc import key_slot

from intercom_async import IntercomClient
from intercom_async.redis import RedisQuota
from intercom_async.testing import FakeIntercom

from .redis_fixture import (  # noqa: F401 - fixtures, registered with pytest by being names here
    RedisClusterNodes,
    RedisSentinel,
    redis_cluster,
    redis_cluster_nodes,
    redis_sentinel,
)

TOKEN = "tok_REDIS-cluster-distinctive-SECRET-5d21"


async def cluster_client(cluster: RedisClusterNodes) -> RedisCluster:
    """The application's cluster client, in use: it knows one node, and has learnt the others
    (a first reading that takes redis-py 6 and later a tenth of a second or more, longer than
    the quota's timeout; see docs/shared-quota.md)."""
    client: RedisCluster = RedisCluster(host=cluster.host, port=cluster.port, socket_timeout=5)
    await client.initialize()
    return client


async def fetch_all(client: IntercomClient, first: int, last: int) -> list[bool]:
    async with client:
        results = await client.tickets.get_all(map(str, range(first, last + 1)), concurrency=32)
    return [result.ok for result in results]


def keys_by_node(cluster: RedisClusterNodes) -> list[list[str]]:
    """The keys each master holds, in the order of ``cluster.nodes``."""
    held = []
    for node in cluster.nodes:
        with sync_redis.Redis(host=node.host, port=node.port) as direct:
            held.append(sorted(key.decode() for key in direct.keys("*")))
    return held


def master_of(cluster: RedisClusterNodes, key: str) -> int:
    """The index in ``cluster.nodes`` of the master that serves ``key``'s slot."""
    with sync_redis.Redis(host=cluster.host, port=cluster.port) as direct:
        for start, end, master, *_ in direct.execute_command("CLUSTER", "SLOTS"):
            if start <= key_slot(key.encode()) <= end:
                port = master[1]
                return [node.port for node in cluster.nodes].index(port)
    raise AssertionError(f"no master serves {key!r}")


async def test_clients_share_one_budget_on_a_redis_cluster(
    redis_cluster: RedisClusterNodes,
) -> None:
    lent = [await cluster_client(redis_cluster) for _ in range(4)]
    try:
        async with FakeIntercom(
            token=TOKEN, tickets=80, parts=1, rate_limit=20, window=0.5
        ) as fake:
            clients = [fake.client(quota=RedisQuota(redis, app="clustered")) for redis in lent]
            oks = await asyncio.gather(
                *(fetch_all(client, 1 + 20 * n, 20 * (n + 1)) for n, client in enumerate(clients))
            )
        assert all(all(ok) for ok in oks)
        # As on one Redis (test_redis_quota.py): a straggler's 429 or two at most, where the
        # same four clients without the budget get well over a hundred.
        assert sum(r.status == 429 for r in fake.requests) <= 2 * len(clients)  # 84 without
        assert all(client.stats.rate_limit_waits > 0 for client in clients)
        # One key, hash-tagged, on the one master that serves its slot; the clients lent to
        # the quotas are left open.
        key = "intercom-async:{clustered}:budget"
        held = keys_by_node(redis_cluster)
        assert [k for keys in held for k in keys] == [key]
        assert held[master_of(redis_cluster, key)] == [key]
        for redis in lent:
            assert await redis.ping() is True
    finally:
        for redis in lent:
            await redis.aclose()


async def test_budgets_on_every_master_of_the_cluster(redis_cluster: RedisClusterNodes) -> None:
    # Apps whose budgets fall on each of the three masters: the script runs on every one.
    wanted: dict[int, str] = {}
    for n in range(200):
        app = f"app-{n}"
        wanted.setdefault(master_of(redis_cluster, f"intercom-async:{{{app}}}:budget"), app)
        if len(wanted) == len(redis_cluster.nodes):
            break
    lent = await cluster_client(redis_cluster)
    try:
        async with FakeIntercom(token=TOKEN, tickets=10, parts=1, rate_limit=100) as fake:
            for app in wanted.values():
                assert all(await fetch_all(fake.client(quota=RedisQuota(lent, app=app)), 1, 10))
    finally:
        await lent.aclose()
    held = keys_by_node(redis_cluster)
    for node, app in wanted.items():
        assert held[node] == [f"intercom-async:{{{app}}}:budget"]


async def test_a_stalled_master_of_the_cluster_is_an_outage_and_a_recovery(
    redis_cluster: RedisClusterNodes, caplog: pytest.LogCaptureFixture
) -> None:
    key = "intercom-async:{stalled}:budget"
    node = redis_cluster.nodes[master_of(redis_cluster, key)]
    assert node.process is not None
    lent = await cluster_client(redis_cluster)
    try:
        async with FakeIntercom(token=TOKEN, tickets=5, parts=1, window=0.5) as fake:
            client = fake.client(quota=RedisQuota(lent, app="stalled", timeout=0.2))
            async with client:
                await client.tickets.get("1")
                with caplog.at_level(logging.WARNING, logger="intercom_async"):
                    os.kill(node.process.pid, signal.SIGSTOP)
                    try:
                        started = time.monotonic()
                        await client.tickets.get("2")  # paced locally, at once
                        assert time.monotonic() - started < 1.0
                    finally:
                        os.kill(node.process.pid, signal.SIGCONT)
                    for _ in range(200):
                        if client._quota.shared:  # type: ignore[attr-defined]
                            break
                        await asyncio.sleep(0.02)
                assert client._quota.shared  # type: ignore[attr-defined]
                await client.tickets.get("3")
        assert await lent.ping() is True
    finally:
        await lent.aclose()
    lines = [r.getMessage() for r in caplog.records if "budget" in r.getMessage()]
    assert sum("is unavailable" in line for line in lines) == 1
    assert sum("is back" in line for line in lines) == 1


async def test_a_master_found_by_redis_sentinel_holds_the_budget(
    redis_sentinel: RedisSentinel,
) -> None:
    where = [(redis_sentinel.sentinel.host, redis_sentinel.sentinel.port)]
    sentinel = Sentinel(where, socket_timeout=5)  # type: ignore[no-untyped-call,unused-ignore]
    lent = [sentinel.master_for(redis_sentinel.name, socket_timeout=5) for _ in range(2)]
    try:
        async with FakeIntercom(
            token=TOKEN, tickets=60, parts=1, rate_limit=20, window=0.5
        ) as fake:
            clients = [fake.client(quota=RedisQuota(redis, app="watched")) for redis in lent]
            oks = await asyncio.gather(fetch_all(clients[0], 1, 30), fetch_all(clients[1], 31, 60))
        assert all(all(ok) for ok in oks)
        assert sum(r.status == 429 for r in fake.requests) <= 2 * len(clients)
        async with Redis.from_url(redis_sentinel.master.url) as master:
            assert await master.keys("*") == [b"intercom-async:{watched}:budget"]
    finally:
        for redis in [*lent, *sentinel.sentinels]:
            await redis.aclose()


def test_the_synchronous_clients_are_refused_with_what_will_do(
    redis_cluster: RedisClusterNodes,
) -> None:
    cluster = sync_redis.RedisCluster(host=redis_cluster.host, port=redis_cluster.port)
    with cluster, pytest.raises(TypeError) as refused:
        RedisQuota(cluster)  # (redis-py 5 types the synchronous RedisCluster as Any)
    message = str(refused.value)
    assert "redis.asyncio.RedisCluster" in message and "redis.asyncio.Redis" in message
    assert "not a redis.cluster.RedisCluster" in message and "synchronous" in message
    with pytest.raises(TypeError, match=r"not a builtins\.object$"):
        RedisQuota(object())  # type: ignore[arg-type]
