"""What a web app needs of one shared client (issue 10): views with their own retry policy and
timeout (``with_options``), a hard bound on a call's time (``RetryPolicy.max_delay``), a closed
client that is not an ``IntercomError``, errors as JSON, and pool waits on a caller's session
that do not eat an attempt's timeout. All against ``FakeIntercom`` on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import time
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from intercom_async import (
    ApiError,
    ClientClosedError,
    IntercomClient,
    IntercomError,
    InvalidTicketIdError,
    NotFoundError,
    RateLimitError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
    TransportError,
)
from intercom_async.redis import RedisQuota
from intercom_async.testing import FakeIntercom, Fault

# A call bounded by max_delay ends within this much past it (timer and task switches).
SLACK = 0.25


@pytest.fixture(params=["local", "redis"])
def quota(request: pytest.FixtureRequest) -> Callable[[], RedisQuota | None]:
    """What paces the client: its own pacer, or a ``RedisQuota`` on a real redis-server."""
    if request.param == "local":
        return lambda: None
    url = request.getfixturevalue("redis_url")
    return lambda: RedisQuota(url, app="views")


@pytest.fixture
async def fake() -> AsyncIterator[FakeIntercom]:
    async with FakeIntercom(tickets=20, parts=1) as server:
        yield server


def idle(client: IntercomClient) -> None:
    """Nothing of the client is held: no turn in flight or queued, every pool slot free."""
    assert client._pacer.in_flight == 0
    assert client._pacer.queued == 0
    assert not getattr(client._quota, "_waiting", ())  # nor by a shared quota
    assert not getattr(client._quota, "_asks", {})
    if client._transport.slots is not None:
        assert not client._transport.slots.locked()


async def timed(call: object) -> tuple[float, BaseException | None]:
    assert asyncio.iscoroutine(call)
    started = time.monotonic()
    try:
        await call
    except Exception as error:
        return time.monotonic() - started, error
    return time.monotonic() - started, None


# -- with_options ---------------------------------------------------------------------------


async def test_a_view_has_its_own_policy_and_timeout_and_leaves_the_client_unchanged(
    fake: FakeIntercom,
) -> None:
    policy = RetryPolicy(max_attempts=2, max_delay=3.0, initial_backoff=0.1)
    async with fake.client(timeout=10) as client:
        view = client.with_options(retry=policy, timeout=0.3)
        assert view.retry is policy
        assert view.timeout.total == 0.3
        assert client.retry == RetryPolicy()
        assert client.timeout.total == 10
        assert view.base_url == client.base_url and view.version == client.version
        assert "view" in repr(view) and "view" not in repr(client)
        fake.inject("3", Fault.slow(1.0), times=2)
        elapsed, error = await timed(view.tickets.get("3"))  # two attempts of 0.3 s
        assert isinstance(error, TransportError) and error.timed_out
        assert "timed out" in str(error)
        assert elapsed < 1.0
        fake.inject("3", Fault.slow(0.5))
        assert (await client.tickets.get("3")).id == "3"  # the client's 10 s are enough
        idle(client)


async def test_a_view_shares_stats_pacing_and_session(fake: FakeIntercom) -> None:
    async with fake.client(retry=RetryPolicy.no_wait()) as client:
        view = client.with_options(timeout=5)
        again = view.with_options(retry=RetryPolicy.never())  # a view of a view
        await client.tickets.get("1")
        await view.tickets.get("2")
        fake.inject("4", Fault.status(503))
        with pytest.raises(ServerError):
            await again.tickets.get("4")  # never retried
        assert client.stats == view.stats == again.stats
        assert client.stats.requests == 3 and client.stats.retries == 0
        assert view._pacer is client._pacer and again._quota is client._quota
        assert view._session is client._session
        assert client.rate_limit is not None and view.rate_limit == client.rate_limit
        assert len({request.headers.get("Authorization") for request in fake.requests}) == 1


async def test_closing_the_client_closes_its_views_and_a_view_closes_nothing(
    fake: FakeIntercom,
) -> None:
    client = fake.client()
    view = client.with_options(timeout=5)
    async with view:  # the end of a view's `async with` closes nothing
        await view.tickets.get("1")
    await view.aclose()
    assert not view.closed and not client.closed
    assert (await client.tickets.get("2")).id == "2"
    await client.aclose()
    assert view.closed
    with pytest.raises(ClientClosedError):
        await view.tickets.get("1")
    with pytest.raises(ClientClosedError):
        await client.with_options(timeout=1).tickets.get("1")


async def test_with_options_checks_what_it_is_given(fake: FakeIntercom) -> None:
    async with fake.client() as client:
        with pytest.raises(TypeError, match="RetryPolicy"):
            client.with_options(retry=3)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="timeout"):
            client.with_options(timeout=0)
        with pytest.raises(ValueError, match="timeout"):
            client.with_options(timeout=float("nan"))
        with pytest.raises(TypeError):
            client.with_options(RetryPolicy())  # type: ignore[call-arg]
        same = client.with_options()
        assert same.retry is client.retry and same.timeout is client.timeout


async def test_a_view_on_a_callers_session_gets_its_own_timeout(fake: FakeIntercom) -> None:
    async with aiohttp.ClientSession() as session:
        async with fake.client(session=session, timeout=10) as client:
            view = client.with_options(retry=RetryPolicy.never(), timeout=0.2)
            fake.inject("5", Fault.slow(1.0))
            elapsed, error = await timed(view.tickets.get("5"))
            assert isinstance(error, TransportError) and error.timed_out
            assert elapsed < 0.8
        assert not session.closed  # the caller's session stays the caller's


# -- max_delay bounds the whole call ---------------------------------------------------------


async def test_max_delay_bounds_a_slow_answer_within_a_long_timeout(fake: FakeIntercom) -> None:
    async with fake.client(timeout=30, retry=RetryPolicy(max_delay=1.0)) as client:
        fake.inject("6", Fault.slow(10.0))
        elapsed, error = await timed(client.tickets.get("6"))
        assert isinstance(error, TransportError)
        assert error.timed_out and error.retryable
        assert "max_delay of 1s" in str(error) and "waiting for the answer" in str(error)
        assert isinstance(error.__cause__, TimeoutError)
        assert 1.0 <= elapsed < 1.0 + SLACK
        idle(client)
        started = time.monotonic()
        assert (await client.tickets.get("7")).id == "7"  # as good as new, at once
        assert time.monotonic() - started < 0.5


async def test_max_delay_bounds_retries_of_a_dead_server(fake: FakeIntercom) -> None:
    """The issue's case: timeout=1 and a dead Intercom held a request for 10.8 s."""
    policy = RetryPolicy(max_delay=2.5, initial_backoff=0.2, jitter=False)
    async with fake.client(timeout=1, retry=policy) as client:
        fake.inject("8", Fault.slow(30.0), times=None)
        elapsed, error = await timed(client.tickets.get("8"))
        assert isinstance(error, TransportError) and error.timed_out
        # 1 s, 0.2 s, 1 s: a 0.4 s backoff and a third attempt would end past the bound.
        assert 2.0 <= elapsed < 2.5 + SLACK
        assert client.stats.retries == 1
        idle(client)


async def test_max_delay_bounds_the_backoffs(fake: FakeIntercom) -> None:
    policy = RetryPolicy(max_delay=1.0, initial_backoff=0.4, jitter=False)
    async with fake.client(retry=policy) as client:
        fake.inject("9", Fault.status(503), times=None)
        elapsed, error = await timed(client.tickets.get("9"))
        # 503, 0.4 s, 503, and a 0.8 s backoff would end past the bound: the 503 is raised.
        assert isinstance(error, ServerError) and error.status == 503
        assert elapsed < 1.0 + SLACK
        assert len(fake.requests) == 2
        idle(client)


async def test_max_delay_bounds_the_wait_for_a_turn_under_the_local_cap(
    fake: FakeIntercom,
) -> None:
    policy = RetryPolicy(max_delay=1.0)
    async with fake.client(retry=policy, max_requests_per_second=2) as client:
        calls = [timed(client.tickets.get(str(n))) for n in range(1, 5)]
        outcomes = await asyncio.gather(*calls)
        # Starts 0.5 s apart: 0, 0.5 and 1.0 s... the fourth would start at 1.5 s.
        errors = [error for _, error in outcomes if error is not None]
        assert len(errors) >= 1
        for error in errors:
            assert isinstance(error, TransportError) and error.timed_out
            assert "waiting for its turn under the rate limit" in str(error)
        assert max(elapsed for elapsed, _ in outcomes) < 1.0 + SLACK
        assert len(fake.requests) == 4 - len(errors)  # nothing sent for those that gave up
        idle(client)


async def test_a_views_max_delay_fails_at_once_on_a_spent_window(
    quota: Callable[[], RedisQuota | None],
) -> None:
    async with (
        FakeIntercom(tickets=5, rate_limit=1, window=5.0) as fake,
        fake.client(quota=quota()) as client,
    ):
        quick = client.with_options(retry=RetryPolicy(max_delay=1.0))  # the client's is 60 s
        await client.tickets.get("1")  # the window's one request
        elapsed, error = await timed(quick.tickets.get("2"))
        assert isinstance(error, RateLimitError)
        assert "max_delay of 1s; nothing was sent" in str(error)
        assert elapsed < 0.3
        assert len(fake.requests) == 1
        idle(client)


async def test_a_no_wait_view_of_a_waiting_client_is_never_held(
    quota: Callable[[], RedisQuota | None],
) -> None:
    async with (
        FakeIntercom(tickets=5, rate_limit=1, window=5.0) as fake,
        fake.client(quota=quota()) as client,
    ):
        hasty = client.with_options(retry=RetryPolicy.no_wait(max_attempts=2))
        await client.tickets.get("1")  # the window's one request
        elapsed, error = await timed(hasty.tickets.get("2"))
        assert isinstance(error, RateLimitError)  # Intercom's own 429s: sent, not held
        assert elapsed < 0.5
        assert [r.status for r in fake.requests] == [200, 429, 429]
        idle(client)


async def test_a_waiting_view_of_a_no_wait_client_is_paced(
    quota: Callable[[], RedisQuota | None],
) -> None:
    async with FakeIntercom(tickets=10, rate_limit=2, window=0.4) as fake:
        async with fake.client(retry=RetryPolicy.no_wait(), quota=quota()) as client:
            patient = client.with_options(retry=RetryPolicy())
            for n in range(1, 7):
                assert (await patient.tickets.get(str(n))).id == str(n)
            assert client.stats.rate_limit_waits >= 2
        assert [r.status for r in fake.requests] == [200] * 6  # no 429: it waited its turns


async def test_behind_a_patient_call_a_view_in_a_hurry_fails_at_once_and_one_that_may_not_wait_goes(
    quota: Callable[[], RedisQuota | None],
) -> None:
    async with (
        FakeIntercom(tickets=5, rate_limit=1, window=2.0) as fake,
        fake.client(quota=quota()) as client,
    ):
        await client.tickets.get("1")  # the window's one request
        patient = asyncio.create_task(client.tickets.get("2"))  # waits for the next window
        await asyncio.sleep(0.2)
        quick = client.with_options(retry=RetryPolicy(max_delay=1.0))
        elapsed, error = await timed(quick.tickets.get("3"))
        assert isinstance(error, RateLimitError)
        assert "max_delay of 1s; nothing was sent" in str(error)
        assert elapsed < 0.3
        hasty = client.with_options(retry=RetryPolicy.no_wait(max_attempts=1))
        elapsed, error = await timed(hasty.tickets.get("4"))
        assert isinstance(error, RateLimitError) and "nothing was sent" not in str(error)
        assert elapsed < 0.3
        assert [r.ticket_id for r in fake.requests] == ["1", "4"]
        assert not patient.done()
        assert (await patient).id == "2"
        idle(client)


async def test_a_call_on_time_is_not_cut(fake: FakeIntercom) -> None:
    async with fake.client(retry=RetryPolicy(max_delay=1.0)) as client:
        fake.inject("10", Fault.slow(0.6))
        assert (await client.tickets.get("10")).id == "10"


async def test_get_many_bounds_each_call_by_the_views_max_delay(fake: FakeIntercom) -> None:
    async with fake.client() as client:
        quick = client.with_options(retry=RetryPolicy(max_delay=0.5))
        fake.inject("2", Fault.slow(5.0))
        started = time.monotonic()
        results = await quick.tickets.get_all(["1", "2", "3"])
        assert time.monotonic() - started < 0.5 + SLACK
        assert [r.ok for r in results] == [True, False, True]
        error = results[1].error
        assert isinstance(error, TransportError) and error.timed_out


# -- a closed client is a programming error, not an IntercomError ---------------------------


async def test_a_closed_client_is_a_runtime_error_not_an_intercom_error(
    fake: FakeIntercom,
) -> None:
    assert issubclass(ClientClosedError, RuntimeError)
    assert not issubclass(ClientClosedError, IntercomError)
    client = fake.client()
    await client.aclose()
    with pytest.raises(ClientClosedError) as info:
        await client.tickets.get("1")
    assert not isinstance(info.value, IntercomError)
    with pytest.raises(ClientClosedError):
        await client.tickets.get_all(["1", "2"])  # raised, not one result per id


def test_a_client_used_from_a_second_loop_is_a_runtime_error_not_an_intercom_error() -> None:
    async def use(client: IntercomClient) -> None:
        await client.tickets.get("1")

    first = asyncio.new_event_loop()
    with FakeIntercom(tickets=2) as fake:
        client = fake.client()
        try:
            first.run_until_complete(use(client))
            with pytest.raises(ClientClosedError, match="event loop") as info:
                asyncio.run(use(client))
            assert isinstance(info.value, RuntimeError)
            assert not isinstance(info.value, IntercomError)
        finally:
            first.run_until_complete(client.aclose())
            first.close()


# -- errors as JSON ---------------------------------------------------------------------------


async def test_errors_to_dict_say_what_happened_and_never_the_token(fake: FakeIntercom) -> None:
    fake.inject("11", Fault.status(503), times=None)
    fake.inject("12", Fault.html(502))
    async with fake.client(retry=RetryPolicy.never()) as client:
        with pytest.raises(NotFoundError) as not_found:
            await client.tickets.get("999")
        with pytest.raises(ServerError) as unavailable:
            await client.tickets.get("11")
        with pytest.raises(ApiError) as html:
            await client.tickets.get("12")
        with pytest.raises(InvalidTicketIdError) as invalid:
            await client.tickets.get(" ")
    other = FakeIntercom(token="other-token", tickets=1)
    async with other, other.client(token="secret-token-123", retry=RetryPolicy.never()) as client:
        with pytest.raises(ApiError) as unauthorized:
            await client.tickets.get("1")

    data = not_found.value.to_dict()
    assert data["error"] == "NotFoundError" and data["status"] == 404
    assert data["code"] == "ticket_not_found" or data["code"] == "not_found"
    assert data["message"] == str(not_found.value)
    assert data["request_id"] == not_found.value.request_id is not None
    assert unavailable.value.to_dict()["status"] == 503
    assert html.value.to_dict()["code"] is None
    assert invalid.value.to_dict() == {
        "error": "InvalidTicketIdError",
        "status": None,
        "code": None,
        "message": str(invalid.value),
        "request_id": None,
    }
    auth = unauthorized.value.to_dict()
    assert auth["status"] == 401 and auth["code"] == "unauthorized"
    for error in (not_found, unavailable, html, invalid, unauthorized):
        text = json.dumps(error.value.to_dict())  # JSON-ready as it is
        assert "secret-token-123" not in text and "Bearer" not in text
        assert set(error.value.to_dict()) == {"error", "status", "code", "message", "request_id"}


def test_to_dict_of_errors_without_an_answer() -> None:
    timeout = TransportError("timed out", path="/tickets/1", timed_out=True)
    assert timeout.to_dict() == {
        "error": "TransportError",
        "status": None,
        "code": None,
        "message": "GET /tickets/1: timed out",
        "request_id": None,
    }
    decode = ResponseDecodeError("not JSON", status=200, request_id="req-1")
    assert decode.to_dict()["status"] == 200 and decode.to_dict()["request_id"] == "req-1"
    copy = pickle.loads(pickle.dumps(timeout))
    assert copy.timed_out and copy.to_dict() == timeout.to_dict()


# -- a caller's session: pool waits do not count against the attempt --------------------------


async def test_pool_waits_on_a_callers_session_do_not_eat_the_timeout(
    fake: FakeIntercom,
) -> None:
    """The issue's case: 60 requests, 0.2 s answers, a 0.5 s timeout, a pool of 5."""
    for n in range(1, 21):
        fake.inject(str(n), Fault.slow(0.2), times=None)
    connector = aiohttp.TCPConnector(limit=5)
    async with aiohttp.ClientSession(connector=connector) as session:
        policy = RetryPolicy.never()
        async with fake.client(session=session, timeout=0.5, retry=policy) as client:
            assert client._transport.slots is not None
            ids = [str(1 + n % 20) for n in range(60)]
            results = await client.tickets.get_all(ids, concurrency=60)
            assert [r.error for r in results if not r.ok] == []
            idle(client)


async def test_a_callers_session_without_a_connection_limit_takes_no_slot(
    fake: FakeIntercom,
) -> None:
    unlimited = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    async with unlimited, fake.client(session=unlimited) as client:
        assert client._transport.slots is None
        assert (await client.tickets.get("1")).id == "1"
    per_host = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50, limit_per_host=3))
    async with per_host, fake.client(session=per_host) as client:
        assert client._transport.slots is not None and client._transport.slots._value == 3


async def test_max_delay_bounds_the_wait_for_a_free_connection(fake: FakeIntercom) -> None:
    async with fake.client(max_connections=1, retry=RetryPolicy(max_delay=0.6)) as client:
        fake.inject("13", Fault.slow(0.5))
        fake.inject("14", Fault.slow(0.5))
        first, second = await asyncio.gather(
            timed(client.tickets.get("13")), timed(client.tickets.get("14"))
        )
        assert first[1] is None  # 0.5 s: on time
        error = second[1]
        assert isinstance(error, TransportError) and error.timed_out
        assert "waiting for" in str(error)  # a free connection, or the answer: what was left
        assert second[0] < 0.6 + SLACK
        idle(client)


# -- the fake on a thread of its own ---------------------------------------------------------


def test_the_fake_on_its_own_thread_answers_a_blocked_thread() -> None:
    import urllib.request

    with FakeIntercom(tickets=2) as fake:
        fake.inject("2", Fault.status(503))
        request = urllib.request.Request(  # noqa: S310 - the fake, on 127.0.0.1
            fake.base_url + "/tickets/1", headers={"Authorization": "Bearer test-token"}
        )
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - blocks
            assert json.load(answer)["id"] == "1"
        with pytest.raises(RuntimeError, match="with block"):
            asyncio.run(fake.close())
        with pytest.raises(RuntimeError, match="starts once"):
            fake.__enter__()
        assert [r.path for r in fake.requests] == ["/tickets/1"]
    assert len(fake.requests) == 1  # stopped; the log is kept
    with pytest.raises(RuntimeError, match="starts once"), fake:
        pass
