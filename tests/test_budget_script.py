"""``_budget.lua`` driven call by call on a real redis-server, as several processes would drive it.

Each test plays the calls of a few processes (``RedisStore.sync``, with the times and the answers
they would report) and checks what the shared budget grants. Intercom's windows are taken to
turn *before* the ``X-RateLimit-Reset`` they report (it is a whole second, rounded up), so units
granted for one window may be counted in the next.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import Any, cast

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from intercom_async._protocol import MAX_SERVER_WAIT
from intercom_async._redis_store import GRACE, SCRIPT, RedisStore
from intercom_async._shared import GRANTED, NEWS, WAIT, SyncRequest, SyncResult

LIMIT = 10
OLD, NEW = 1010.0, 1020.0  # the resets of two windows, one after the other


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def store(redis: Redis) -> RedisStore:
    return RedisStore(redis, f"test-budget:{uuid.uuid4().hex}", owned=False)


async def call(store: RedisStore, now: float, want: int, **heard: object) -> SyncResult:
    request = SyncRequest(now=now, want=want, prefetch=0, look_timeout=2.0, **heard)  # type: ignore[arg-type]
    return await store.sync(request)


async def a_spent_window(store: RedisStore) -> int:
    """A look, then the whole window granted: its generation (all its units still out)."""
    look = await call(store, 1000.0, 1)
    assert (look.code, look.look) == (GRANTED, True)
    granted = await call(
        store,
        1000.1,
        LIMIT - 1,
        reset=OLD,
        limit=LIMIT,
        remaining=LIMIT - 1,
        reset_gen=look.gen,
        settled=((look.gen, OLD, 1),),
    )
    assert (granted.code, granted.granted) == (GRANTED, LIMIT - 1)
    return granted.gen


async def test_units_out_when_the_window_turns_are_counted_in_the_next(store: RedisStore) -> None:
    gen = await a_spent_window(store)
    # Past the reset by our clock: the window is taken to be over, and one request looks.
    look = await call(store, OLD, 5)
    assert (look.code, look.look) == (GRANTED, True)
    # Another process: 3 of its units were counted in the new window (it turned before OLD).
    # The 6 others of the old window's units are still out: they too may land in the new one.
    waiting = await call(
        store,
        OLD + 0.01,
        5,
        reset=NEW,
        limit=LIMIT,
        remaining=LIMIT - 3,
        reset_gen=gen,
        settled=((gen, NEW, 3),),
    )
    assert waiting.granted == 0  # 3 counted + 6 out + the look: the window may be full
    assert waiting.code == NEWS  # ask again soon: the units out will be answered
    # Their answers: counted in the old window, so not in this one; the look counted in it.
    freed = await call(
        store,
        OLD + 0.05,
        10,
        reset=NEW,
        limit=LIMIT,
        remaining=LIMIT - 4,
        reset_gen=look.gen,
        settled=((gen, OLD, 6), (look.gen, NEW, 1)),
    )
    assert (freed.code, freed.granted) == (GRANTED, LIMIT - 4)


async def test_units_a_dead_process_held_cost_the_next_window_two_seconds_at_most(
    store: RedisStore,
) -> None:
    gen = await a_spent_window(store)
    # The window turns; the process that holds the 9 units out dies, and never says more.
    turned = OLD - 0.5
    first = await call(
        store, turned, 10, reset=NEW, limit=LIMIT, remaining=LIMIT - 1, reset_gen=gen
    )
    assert (first.granted, first.code) == (0, NEWS)  # 1 counted, 9 out: ask again soon
    assert first.until <= turned + 2.0
    still = await call(store, turned + 1.9, 10)
    assert still.granted == 0
    # Two seconds on, any of them that went out has reached Intercom, and Remaining says so.
    after = await call(store, turned + 2.0, 10)
    assert (after.code, after.granted) == (GRANTED, LIMIT - 1)


async def test_units_given_back_leave_the_carry(store: RedisStore) -> None:
    gen = await a_spent_window(store)
    await call(store, OLD, 1)  # the window taken to be over: a look
    # Units of the old window never sent: given back, they free the new window at once.
    result = await call(
        store,
        OLD + 0.01,
        10,
        reset=NEW,
        limit=LIMIT,
        remaining=LIMIT - 1,
        reset_gen=gen,
        refunds=((gen, LIMIT - 1),),
    )
    assert (result.code, result.granted) == (GRANTED, LIMIT - 2)  # 1 counted, the look out


async def test_a_look_found_early_tells_every_process_once(store: RedisStore) -> None:
    await a_spent_window(store)
    # One process takes the window to be over, looks, and finds it still running.
    look = await call(store, OLD + 0.1, 1)
    assert (look.code, look.look) == (GRANTED, True)
    found = await call(
        store,
        OLD + 0.15,
        0,
        reset=OLD,
        limit=LIMIT,
        remaining=0,
        reset_gen=look.gen,
        settled=((look.gen, OLD, 1),),
    )
    assert found.early
    # Another process takes it to be over too: rather than a look of its own (a 429 more), it
    # is told, once, and asks again by a clock set back.
    told = await call(store, OLD + 0.2, 5)
    assert (told.code, told.granted, told.early) == (NEWS, 0, True)
    again = await call(store, OLD + 0.2, 5, learnt_gen=told.gen)
    assert (again.code, again.look, again.early) == (GRANTED, True, False)


# -- what a server may impose, and what the script accepts --------------------------------------
#
# A server's answer is untrusted: the waits it imposes are capped at MAX_SERVER_WAIT before they
# reach the budget, and the script checks every argument again before it writes anything, so
# that no call leaves the key without a TTL or holds every process of the app for longer.

NOW = 1000.0
# The key outlives what it holds (MAX_SERVER_WAIT at most) by the grace period (60 s).
LONGEST_TTL = (MAX_SERVER_WAIT + GRACE) * 1000


async def state(redis: Redis, key: str) -> tuple[dict[str, str], int]:
    """The budget's hash and its TTL in milliseconds (-2: no key, -1: no TTL)."""
    raw = await cast("Awaitable[dict[bytes, bytes]]", redis.hgetall(key))
    ttl = await cast("Awaitable[int]", redis.pttl(key))
    return {name.decode(): value.decode() for name, value in raw.items()}, ttl


async def raw_call(redis: Redis, key: str, *args: str) -> list[Any]:
    """The script run with exactly ``args`` (15 of them, ``""`` for none), as a caller that
    does not check them would."""
    result: list[Any] = await redis.register_script(SCRIPT)(keys=[key], args=list(args))
    return result


def arguments(**changes: str) -> list[str]:
    """Sound arguments for a call that wants one unit, with ``changes`` by name."""
    names = [
        *("now", "want", "prefetch", "look_timeout", "reset", "limit", "remaining"),
        *("reset_gen", "held", "refunds", "released_gen", "grace", "settled", "learnt", "looks"),
    ]
    values = dict.fromkeys(names, "")
    values.update(now="1000.0", want="1", prefetch="0", look_timeout="2.0", grace="60.0")
    values.update(changes)
    return [values[name] for name in names]


def test_the_script_s_cap_is_the_protocol_s() -> None:
    assert f"local MAX_WAIT = {MAX_SERVER_WAIT:g}\n" in SCRIPT


@pytest.mark.parametrize("wait", [31_536_000.0, 1e15, 1e300])
async def test_a_hold_longer_than_the_cap_holds_for_the_cap(
    redis: Redis, store: RedisStore, wait: float
) -> None:
    # Retry-After: a year, or 1e15 seconds (which made the script fail on PEXPIRE after it had
    # written the hold, leaving a key with no TTL that failed every later call).
    held = await call(store, NOW, 1, held=NOW + wait)
    assert (held.code, held.until) == (WAIT, NOW + MAX_SERVER_WAIT)
    fields, ttl = await state(redis, store.key)
    assert float(fields["held"]) == NOW + MAX_SERVER_WAIT
    assert (MAX_SERVER_WAIT + GRACE - 1) * 1000 < ttl <= LONGEST_TTL
    # And once the capped hold is over, a request goes to look.
    after = await call(store, NOW + MAX_SERVER_WAIT, 1)
    assert (after.code, after.look) == (GRANTED, True)


async def test_a_reset_further_than_the_cap_is_not_believed(
    redis: Redis, store: RedisStore
) -> None:
    look = await call(store, NOW, 1)
    far = NOW + 86_400.0  # a Reset a day away
    result = await call(
        store, NOW + 0.1, 20, reset=far, limit=LIMIT, remaining=LIMIT - 1, reset_gen=look.gen
    )
    # No window a day long: the look's answer taught nothing, so the look is still out.
    assert (result.code, result.granted, result.until, result.end) == (NEWS, 0, NOW + 2.0, None)
    fields, ttl = await state(redis, store.key)
    assert "newest" not in fields and "end" not in fields
    assert 0 < ttl <= (2.0 + GRACE) * 1000
    # A reset within the cap is believed.
    near = await call(
        store,
        NOW + 0.2,
        20,
        reset=NOW + MAX_SERVER_WAIT,
        limit=LIMIT,
        remaining=LIMIT - 1,
        settled=((look.gen, NOW + MAX_SERVER_WAIT, 1),),
    )
    assert (near.code, near.granted, near.end) == (GRANTED, LIMIT - 1, NOW + MAX_SERVER_WAIT)


@pytest.mark.parametrize(
    ("held", "code", "until"),
    [
        ("1e+18", GRANTED, 0.0),  # beyond belief: dropped, and a request goes to look
        ("1e999", GRANTED, 0.0),
        ("nan", GRANTED, 0.0),
        (repr(NOW + 500), WAIT, NOW + MAX_SERVER_WAIT),  # longer than the cap: cut to it
    ],
)
async def test_a_key_left_without_a_ttl_gets_one_and_what_it_holds_is_checked(
    redis: Redis, store: RedisStore, held: str, code: int, until: float
) -> None:
    # As an earlier version left it: a hold of 1e18, a window a year away, and no TTL (the key
    # had expired, the hold's HSET made it again, and its PEXPIRE failed).
    year = repr(NOW + 31_536_000.0)
    stored = {"held": held, "newest": year, "end": year, "look": "1e+18"}
    await cast("Awaitable[int]", redis.hset(store.key, mapping=stored))
    assert (await state(redis, store.key))[1] == -1
    result = await call(store, NOW, 1)
    assert (result.code, result.until, result.end) == (code, until, None)
    fields, ttl = await state(redis, store.key)
    assert "newest" not in fields and "end" not in fields
    assert float(fields["held"]) == max(until, 0.0)
    assert float(fields["look"]) <= NOW + 2.0
    assert 0 < ttl <= LONGEST_TTL


@pytest.mark.parametrize(
    "changes",
    [
        {"now": "nan"},
        {"now": "inf"},
        {"now": "-inf"},
        {"now": "-1"},
        {"now": "1e300"},
        {"now": "soon"},
        {"want": "-1"},
        {"want": "1.5"},
        {"want": "1e300"},
        {"want": ""},
        {"prefetch": "-1"},
        {"look_timeout": "0"},
        {"look_timeout": "inf"},
        {"look_timeout": "nan"},
        {"look_timeout": "1e9"},
        {"grace": "-1"},
        {"grace": "inf"},
        {"grace": "1e9"},
    ],
)
async def test_a_call_with_unsound_arguments_is_refused_before_any_write(
    redis: Redis, store: RedisStore, changes: dict[str, str]
) -> None:
    with pytest.raises(ResponseError, match="intercom-async budget"):
        await raw_call(redis, store.key, *arguments(**changes))
    assert await cast("Awaitable[int]", redis.exists(store.key)) == 0  # nothing written
    # A budget that was there is left as it was.
    await raw_call(redis, store.key, *arguments())
    before = await state(redis, store.key)
    with pytest.raises(ResponseError, match="intercom-async budget"):
        await raw_call(redis, store.key, *arguments(**changes))
    after = await state(redis, store.key)
    assert after[0] == before[0]
    assert before[1] - 1000 < after[1] <= before[1]  # (the TTL only ran on)


@pytest.mark.parametrize(
    "changes",
    [
        {"held": "nan"},
        {"held": "inf"},
        {"held": "1e400"},
        {"reset": "nan"},
        {"reset": "inf"},
        {"reset": "-inf"},
        {"reset": "1e300", "limit": "10", "remaining": "9"},
        {"reset": "1300.001", "limit": "10", "remaining": "9"},
        {"released_gen": "inf"},
        {"learnt": "-inf"},
        {"settled": "0 nan 1"},
        {"settled": "0 inf 1"},
        {"looks": "0 1e999"},
    ],
)
async def test_unsound_news_from_a_server_is_ignored(
    redis: Redis, store: RedisStore, changes: dict[str, str]
) -> None:
    code, granted, until, _gen, look, *_ = await raw_call(redis, store.key, *arguments(**changes))
    assert (code, granted, look) == (GRANTED, 1, 1)  # the first call: the look, as ever
    fields, ttl = await state(redis, store.key)
    assert 0 < ttl <= LONGEST_TTL
    assert float(fields["held"]) <= NOW
    assert "newest" not in fields
    assert float(until) == 0


@pytest.mark.parametrize(
    ("limit", "remaining", "granted", "stored"),
    [
        ("-1", "9", 9, "10"),  # no limit believed: what remained, and this answer's own
        ("1.5", "4", 4, "5"),
        ("10", "-1", 10, "10"),  # no count believed: the limit, nothing counted yet
        ("10", "1e300", 10, "10"),
        ("10", "0.5", 10, "10"),
        ("10", "90", 10, "10"),  # more left than the limit: nothing counted, not less
    ],
)
async def test_unsound_counts_from_a_server_are_ignored(
    redis: Redis, store: RedisStore, limit: str, remaining: str, granted: int, stored: str
) -> None:
    args = arguments(want="20", reset="1010", limit=limit, remaining=remaining, reset_gen="nan")
    code, got, _until, _gen, look, *_ = await raw_call(redis, store.key, *args)
    assert (code, got, look) == (GRANTED, granted, 0)
    fields, ttl = await state(redis, store.key)
    assert fields["limit"] == stored
    assert int(fields["taken"]) == int(stored)  # counted, and granted
    assert 0 < ttl <= LONGEST_TTL


async def test_without_a_limit_the_budget_is_what_remains(redis: Redis, store: RedisStore) -> None:
    # Answers with Remaining and Reset but no X-RateLimit-Limit: the window's size is not
    # known, but what it has left is; the budget goes by that, not unpaced.
    look = await call(store, NOW, 1)
    first = await call(
        store,
        NOW + 0.1,
        20,
        reset=OLD,
        remaining=LIMIT - 1,
        reset_gen=look.gen,
        settled=((look.gen, OLD, 1),),
    )
    assert (first.code, first.granted) == (GRANTED, LIMIT - 1)
    spent = await call(store, NOW + 0.2, 1)
    assert (spent.code, spent.until) == (WAIT, OLD)
    # The size learnt is the most an answer showed: a Remaining lower later does not shrink it.
    await call(store, NOW + 0.3, 0, reset=OLD, remaining=0, settled=((first.gen, OLD, 9),))
    assert (await state(redis, store.key))[0]["limit"] == str(LIMIT)
    # And a Limit header, when one comes, wins.
    look = await call(store, OLD, 1)
    assert look.look
    new = await call(
        store,
        OLD + 0.1,
        20,
        reset=NEW,
        limit=4,
        remaining=3,
        reset_gen=look.gen,
        settled=((look.gen, NEW, 1),),
    )
    assert (new.code, new.granted) == (GRANTED, 3)
