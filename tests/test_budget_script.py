"""``_budget.lua`` driven call by call on a real redis-server, as several processes would drive it.

Each test plays the calls of a few processes (``RedisStore.sync``, with the times and the answers
they would report) and checks what the shared budget grants. Intercom's windows are taken to
turn *before* the ``X-RateLimit-Reset`` they report (it is a whole second, rounded up), so units
granted for one window may be counted in the next.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from intercom_async._redis_store import RedisStore
from intercom_async._shared import GRANTED, NEWS, SyncRequest, SyncResult

LIMIT = 10
OLD, NEW = 1010.0, 1020.0  # the resets of two windows, one after the other


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisStore]:
    store = RedisStore(Redis.from_url(redis_url), f"test-budget:{uuid.uuid4().hex}", owned=True)
    yield store
    await store.aclose()


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
