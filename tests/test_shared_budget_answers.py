"""The shared budget against answers that ask too much or say too little, and against requests
that go away while their call to Redis is out.

Every test runs a real ``redis-server`` (``tests/redis_fixture.py``) and a real ``FakeIntercom``
whose answers a response hook changes as a hostile or buggy server would; the ``Outbox`` tests
drive the sans-I/O part of ``_shared.py`` (what a process tells the budget) directly.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import cast

import pytest
from aiohttp import web
from redis.asyncio import Redis

from intercom_async import IntercomClient, RateLimitError, RetryPolicy
from intercom_async._limits import MAX_SERVER_WAIT, LimitHeaders
from intercom_async._ratelimit import NO_WORD_HOLD
from intercom_async._redis_store import GRACE
from intercom_async._shared import Claim, Outbox
from intercom_async.redis import RedisQuota
from intercom_async.testing import FakeIntercom, Fault

TOKEN = "tok_SHARED-answers-distinctive-SECRET-91b3"
# The longest a budget's key may live: a hold the server imposed (capped), and the grace period.
LONGEST_TTL = (MAX_SERVER_WAIT + GRACE) * 1000


def heard(status: int, headers: dict[str, str]) -> LimitHeaders:
    """An answer's headers, parsed as the request path parses them."""
    return LimitHeaders.parse(status, headers, time.time())


def key(app: str) -> str:
    return f"intercom-async:{{{app}}}:budget"


def change_answers(
    fake: FakeIntercom, change: Callable[[web.StreamResponse], None]
) -> FakeIntercom:
    """``fake``, with ``change`` applied to every answer's headers before it goes out."""

    async def on_prepare(_request: web.Request, response: web.StreamResponse) -> None:
        change(response)

    fake.app.on_response_prepare.append(on_prepare)
    return fake


async def fetch(client: IntercomClient, ids: range) -> list[bool]:
    results = await client.tickets.get_all(map(str, ids), concurrency=16)
    return [result.ok for result in results]


async def budget_of(redis: Redis, app: str, field: str) -> tuple[str, int]:
    """A field of the budget's hash, once a call has written it, and the key's TTL (ms)."""
    async with asyncio.timeout(2.0):
        while (value := await cast("Awaitable[bytes | None]", redis.hget(key(app), field))) is None:
            await asyncio.sleep(0.01)
    ttl = await cast("Awaitable[int]", redis.pttl(key(app)))
    return value.decode(), ttl


def outages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]


# -- 3: what a server imposes is capped before it reaches Redis -------------------------------


@pytest.mark.parametrize("retry_after", ["31536000", "1e15"])
async def test_a_429_s_retry_after_holds_every_process_no_longer_than_the_cap(
    redis_url: str, retry_after: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A year, or 1e15 s (which made the script fail on PEXPIRE after writing its hold).
    def hostile(response: web.StreamResponse) -> None:
        if response.status == 429:
            response.headers["Retry-After"] = retry_after

    fake = change_answers(FakeIntercom(token=TOKEN, tickets=5, parts=1), hostile)
    fake.inject("1", Fault.status(429))
    redis = Redis.from_url(redis_url)
    policy = RetryPolicy(max_delay=2)
    async with fake:
        first = fake.client(quota=RedisQuota(redis_url, app="hostile"), retry=policy)
        second = fake.client(quota=RedisQuota(redis_url, app="hostile"), retry=policy)
        async with first, second:
            with caplog.at_level(logging.WARNING, logger="intercom_async"):
                await first.tickets.get_all(["1"])
                held, ttl = await budget_of(redis, "hostile", "held")
                asked_at = time.time()
                with pytest.raises(RateLimitError) as caught:
                    await second.tickets.get("2")  # held by the other's 429: for the cap
    await redis.aclose()
    assert outages(caplog) == []  # the script took it
    assert asked_at + MAX_SERVER_WAIT - 2 < float(held) <= asked_at + MAX_SERVER_WAIT
    assert (MAX_SERVER_WAIT + GRACE - 3) * 1000 < ttl <= LONGEST_TTL
    assert "spent for 300s" in str(caught.value)
    assert [r.ticket_id for r in fake.requests] == ["1"]  # the second sent nothing


async def test_a_reset_a_day_away_locks_no_process_out(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    def a_day_away(response: web.StreamResponse) -> None:
        response.headers["X-RateLimit-Reset"] = str(int(time.time()) + 86_400)

    fake = change_answers(
        FakeIntercom(token=TOKEN, tickets=20, parts=1, rate_limit=100, window=10.0), a_day_away
    )
    redis = Redis.from_url(redis_url)
    async with fake:
        first = fake.client(quota=RedisQuota(redis_url, app="tomorrow"))
        second = fake.client(quota=RedisQuota(redis_url, app="tomorrow"))
        async with first, second:
            with caplog.at_level(logging.WARNING, logger="intercom_async"):
                started = time.monotonic()
                oks = await asyncio.gather(fetch(first, range(1, 11)), fetch(second, range(11, 21)))
                took = time.monotonic() - started
                _, ttl = await budget_of(redis, "tomorrow", "gen")
                stored = await redis.hgetall(key("tomorrow"))
    await redis.aclose()
    assert list(oks) == [[True] * 10] * 2
    assert took < 3.0  # not one request per look timeout, each look's answer learnt nothing
    assert outages(caplog) == []
    assert b"end" not in stored and b"newest" not in stored  # no window a day long
    assert 0 < ttl <= LONGEST_TTL


async def test_a_429_whose_reset_is_a_day_away_holds_for_the_cap(redis_url: str) -> None:
    def a_day_away(response: web.StreamResponse) -> None:
        if response.status == 429:
            response.headers["X-RateLimit-Reset"] = str(int(time.time()) + 86_400)

    fake = change_answers(FakeIntercom(token=TOKEN, tickets=5, parts=1), a_day_away)
    fake.inject("1", Fault.status(429))
    redis = Redis.from_url(redis_url)
    async with fake:
        client = fake.client(
            quota=RedisQuota(redis_url, app="no-tomorrow"), retry=RetryPolicy(max_delay=2)
        )
        async with client:
            await client.tickets.get_all(["1"])
            held, ttl = await budget_of(redis, "no-tomorrow", "held")
    await redis.aclose()
    assert time.time() + MAX_SERVER_WAIT - 3 < float(held) <= time.time() + MAX_SERVER_WAIT
    assert 0 < ttl <= LONGEST_TTL


# -- 5: a look granted to a request that went away goes back -----------------------------------

# A Lua script that keeps Redis busy for ARGV[1] seconds: every other call waits behind it.
STALL = """
local function micros() local t = redis.call('TIME'); return t[1] * 1e6 + t[2] end
local till = micros() + tonumber(ARGV[1]) * 1e6
while micros() < till do end
return 1
"""


async def test_a_look_granted_to_a_request_cancelled_meanwhile_goes_back(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    async with FakeIntercom(token=TOKEN, tickets=5, parts=1, rate_limit=10, window=10.0) as fake:
        first = fake.client(quota=RedisQuota(redis_url, app="look", timeout=2.0))
        second = fake.client(quota=RedisQuota(redis_url, app="look", timeout=2.0))
        async with first, second:
            stall = asyncio.create_task(redis.eval(STALL, 0, "0.4"))
            await asyncio.sleep(0.1)
            gone = asyncio.create_task(first.tickets.get("1"))
            await asyncio.sleep(0.15)  # its call to Redis waits behind the stall
            gone.cancel()
            await stall  # then the script runs: the window is unknown, so it grants the look
            await asyncio.sleep(0.1)
            look, _ = await budget_of(redis, "look", "look")
            out, _ = await budget_of(redis, "look", "out")
            started = time.monotonic()
            await second.tickets.get("2")  # at once: not after the lost look's 2 seconds
            took = time.monotonic() - started
        assert gone.cancelled()
    await redis.aclose()
    assert (float(look), int(out)) == (0.0, 0)  # given back
    assert took < 0.5
    assert [r.ticket_id for r in fake.requests] == ["2"]


# -- 6: answers without X-RateLimit-Limit --------------------------------------------------------


async def test_answers_without_a_limit_are_paced_by_what_remains(redis_url: str) -> None:
    def no_limit(response: web.StreamResponse) -> None:
        response.headers.popall("X-RateLimit-Limit", None)

    fake = change_answers(
        FakeIntercom(token=TOKEN, tickets=15, parts=1, rate_limit=5, window=0.5), no_limit
    )
    async with fake:
        clients = [fake.client(quota=RedisQuota(redis_url, app="no-limit")) for _ in range(2)]
        async with clients[0], clients[1]:
            oks = await asyncio.gather(
                fetch(clients[0], range(1, 9)), fetch(clients[1], range(9, 16))
            )
            assert clients[0].rate_limit is not None and clients[0].rate_limit.limit is None
    assert list(oks) == [[True] * 8, [True] * 7]
    assert sum(r.status == 429 for r in fake.requests) <= 2  # a straggler or two, not 10


# -- the Outbox: what a process tells the others -----------------------------------------------

NOW = 1_700_000_000.0


def answer(**headers: str) -> dict[str, str]:
    return {f"X-RateLimit-{name.capitalize()}": value for name, value in headers.items()}


def test_a_retry_after_longer_than_the_cap_is_told_as_the_cap() -> None:
    outbox = Outbox()
    outbox.answered(Claim(3), heard(429, {"Retry-After": "1e15"}), NOW)
    assert (outbox.held, outbox.urgent) == (NOW + MAX_SERVER_WAIT, True)
    outbox.answered(Claim(3), heard(429, {"Retry-After": "299"}), NOW)
    assert outbox.held == NOW + MAX_SERVER_WAIT  # the longest hold heard holds
    outbox = Outbox()
    outbox.answered(Claim(3), heard(429, {"Retry-After": "299"}), NOW)
    assert outbox.held == NOW + 299


def test_a_reset_further_than_the_cap_is_not_told() -> None:
    outbox = Outbox()
    far = answer(limit="10", remaining="9", reset=str(NOW + MAX_SERVER_WAIT + 1))
    outbox.answered(Claim(3, look=True), heard(200, far), NOW)
    # Nothing believed of the window: the look learnt nothing, so another may go.
    request = outbox.request(NOW, 0, 0, 2.0)
    assert (request.reset, request.remaining, request.limit) == (None, None, None)
    assert (request.released_gen, request.settled) == (3, ((3, None, 1),))
    near = answer(limit="10", remaining="9", reset=str(NOW + MAX_SERVER_WAIT))
    outbox.answered(Claim(4), heard(200, near), NOW)
    request = outbox.request(NOW, 0, 0, 2.0)
    assert (request.reset, request.remaining, request.limit) == (NOW + MAX_SERVER_WAIT, 9, 10)


def test_a_429_whose_reset_is_further_than_the_cap_holds_for_the_cap() -> None:
    outbox = Outbox()
    far = answer(limit="10", remaining="0", reset=str(NOW + 86_400))
    outbox.answered(Claim(3), heard(429, far), NOW)
    assert (outbox.held, outbox.reset) == (NOW + MAX_SERVER_WAIT, None)
    outbox = Outbox()  # a 429 that says nothing holds a moment, then one looks
    outbox.answered(Claim(3), heard(429, {}), NOW)
    assert (outbox.held, outbox.reset) == (NOW + NO_WORD_HOLD, None)
    outbox = Outbox()  # and one with a reset near holds until it, in Redis
    outbox.answered(Claim(3), heard(429, answer(remaining="0", reset=str(NOW + 5))), NOW)
    assert (outbox.held, outbox.reset, outbox.remaining) == (None, NOW + 5, 0)


def test_a_look_never_sent_goes_back_as_a_look() -> None:
    outbox = Outbox()
    outbox.unanswered(Claim(7, look=True), sent=False)
    outbox.unanswered(Claim(6), sent=False)
    request = outbox.request(NOW, 1, 0, 2.0)
    # Not "no word" (which would take the window to answer without headers): back, unused.
    assert (request.looks, request.refunds, request.released_gen) == (((7, 1),), ((6, 1),), None)
    assert request.settled == ()
    assert outbox.request(NOW, 0, 0, 2.0).looks == ()  # sent once
    outbox.unanswered(Claim(7, look=True), sent=True)  # sent, and no answer: no word
    request = outbox.request(NOW, 1, 0, 2.0)
    assert (request.looks, request.released_gen, request.settled) == ((), 7, ((7, None, 1),))
