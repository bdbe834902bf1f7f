"""``intercom_async.testing``: the fake Intercom, over real connections on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import inspect
import json
import os
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import attrs
import pytest
import pytest_asyncio
from aiohttp import web
from multidict import CIMultiDictProxy
from yarl import URL

from intercom_async import (
    IntercomClient,
    NotFoundError,
    RetryPolicy,
    ServerError,
    Ticket,
    TransportError,
)
from intercom_async.testing import FakeIntercom, Fault, RecordedRequest, _plugin, generate_ticket

TOKEN = "s3cret-T0ken-for-the-fake"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-Request-Id")

Answer = tuple[int, "CIMultiDictProxy[str]", bytes]


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeIntercom]:
    async with FakeIntercom(token=TOKEN, tickets=5) as started:
        yield started


async def get(
    session: aiohttp.ClientSession, url: str, headers: Mapping[str, str] | None = None
) -> Answer:
    async with session.get(URL(url, encoded=True), headers=headers) as response:
        return response.status, response.headers, await response.read()


def error_list(body: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(body)
    assert data["type"] == "error.list"
    assert set(data) == {"type", "request_id", "errors"}
    return data


def part_count(ticket: Ticket) -> int:
    assert ticket.ticket_parts is not None
    assert ticket.ticket_parts.ticket_parts is not None
    return len(ticket.ticket_parts.ticket_parts)


async def sleep_until(unix_time: float) -> None:
    await asyncio.sleep(max(0.0, unix_time - time.time()) + 0.01)


# -- Intercom's answers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": "Basic x"}],
    ids=["missing", "wrong-token", "no-scheme", "basic"],
)
async def test_bad_or_missing_token_gets_401(
    fake: FakeIntercom, session: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    status, answer_headers, body = await get(session, f"{fake.base_url}/tickets/1", headers)
    assert status == 401
    assert answer_headers["Content-Type"] == "application/json; charset=utf-8"
    data = error_list(body)
    assert data["errors"] == [{"code": "unauthorized", "message": "Access Token Invalid"}]
    assert data["request_id"] == answer_headers["X-Request-Id"]
    uuid.UUID(data["request_id"])


@pytest.mark.parametrize("version", ["9.x", "2.09", "2", "unstable", "0.9", ""])
async def test_invalid_version_gets_400(
    fake: FakeIntercom, session: aiohttp.ClientSession, version: str
) -> None:
    headers = {**AUTH, "Intercom-Version": version}
    status, _, body = await get(session, f"{fake.base_url}/tickets/1", headers)
    assert status == 400
    [error] = error_list(body)["errors"]
    assert error["code"] == "intercom_version_invalid"
    assert f"'{version}'" in error["message"]


@pytest.mark.parametrize(
    "version", [None, "1.0", "1.4", "2.0", "2.9", "2.11", "2.14", "3.0", "Unstable"]
)
async def test_valid_versions_are_accepted(
    fake: FakeIntercom, session: aiohttp.ClientSession, version: str | None
) -> None:
    headers = AUTH if version is None else {**AUTH, "Intercom-Version": version}
    status, _, _ = await get(session, f"{fake.base_url}/tickets/1", headers)
    assert status == 200


async def test_unknown_id_gets_404(fake: FakeIntercom, session: aiohttp.ClientSession) -> None:
    for ticket_id in ("6", "0", "01", "nope"):
        status, _, body = await get(session, f"{fake.base_url}/tickets/{ticket_id}", AUTH)
        assert status == 404
        assert error_list(body)["errors"] == [{"code": "not_found", "message": "Ticket Not Found"}]
    async with fake.client(retry=RetryPolicy.never()) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.tickets.get("6")
    assert caught.value.code == "not_found"


async def test_other_paths_get_404(fake: FakeIntercom, session: aiohttp.ClientSession) -> None:
    status, headers, body = await get(session, f"{fake.base_url}/admins", AUTH)
    assert status == 404
    assert error_list(body)["errors"][0]["code"] == "not_found"
    assert all(name in headers for name in RATE_HEADERS)


async def test_ticket_is_the_generated_one(
    fake: FakeIntercom, session: aiohttp.ClientSession
) -> None:
    status, headers, body = await get(session, f"{fake.base_url}/tickets/5", AUTH)
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(body) == generate_ticket("5", parts=20, seed=0)
    async with fake.client(retry=RetryPolicy.never()) as client:
        ticket = await client.tickets.get(5)
    assert isinstance(ticket, Ticket)
    assert ticket.id == "5"
    assert part_count(ticket) == 20


async def test_seed_parts_and_given_tickets(session: aiohttp.ClientSession) -> None:
    custom = generate_ticket("custom-1", parts=1) | {"ticket_id": "777"}
    async with FakeIntercom(token=TOKEN, tickets=[custom], seed=7, parts=2) as fake:
        assert fake.add_ticket(generate_ticket("9", parts=3)) == "9"
        _, _, body = await get(session, f"{fake.base_url}/tickets/custom-1", AUTH)
        assert json.loads(body) == custom
        assert (await get(session, f"{fake.base_url}/tickets/1", AUTH))[0] == 404
        async with fake.client(retry=RetryPolicy.never()) as client:
            assert part_count(await client.tickets.get("9")) == 3
    async with FakeIntercom(token=TOKEN, tickets=2, seed=7, parts=2) as fake:
        _, _, body = await get(session, f"{fake.base_url}/tickets/2", AUTH)
        assert json.loads(body) == generate_ticket("2", parts=2, seed=7)


async def test_every_answer_carries_rate_limit_headers(session: aiohttp.ClientSession) -> None:
    async with FakeIntercom(token=TOKEN, tickets=1, rate_limit=5) as fake:
        url = f"{fake.base_url}/tickets/1"
        fake.inject("1", Fault.status(503))
        fake.inject("1", Fault.html())
        answers = [
            await get(session, url, AUTH),  # 503: a fault, not counted in the window
            await get(session, url, AUTH),  # 502 HTML: a fault, not counted
            await get(session, url, AUTH),  # 200, 1 of 5
            await get(session, url),  # 401
            await get(session, url, {**AUTH, "Intercom-Version": "0.1"}),  # 400
            await get(session, f"{fake.base_url}/tickets/2", AUTH),  # 404
            await get(session, url, AUTH),  # 200, 5 of 5
            await get(session, url, AUTH),  # 429
        ]
    assert [status for status, _, _ in answers] == [503, 502, 200, 401, 400, 404, 200, 429]
    assert [headers["X-RateLimit-Remaining"] for _, headers, _ in answers] == (
        ["5", "5", "4", "3", "2", "1", "0", "0"]
    )
    for _, headers, _ in answers:
        assert all(name in headers for name in RATE_HEADERS)
        assert headers["X-RateLimit-Limit"] == "5"
        assert re.fullmatch(r"\d+", headers["X-RateLimit-Reset"])
        assert time.time() < int(headers["X-RateLimit-Reset"]) <= time.time() + 11
        uuid.UUID(headers["X-Request-Id"])
    assert len({headers["X-Request-Id"] for _, headers, _ in answers}) == len(answers)


async def test_headers_without_a_rate_limit(
    fake: FakeIntercom, session: aiohttp.ClientSession
) -> None:
    for _ in range(3):
        _, headers, _ = await get(session, f"{fake.base_url}/tickets/1", AUTH)
        assert headers["X-RateLimit-Limit"] == headers["X-RateLimit-Remaining"] == "10000"


async def test_rate_limit_window(session: aiohttp.ClientSession) -> None:
    async with FakeIntercom(token=TOKEN, tickets=1, rate_limit=3, window=0.5) as fake:
        url = f"{fake.base_url}/tickets/1"
        for _ in range(5):  # start a burst right after a window opens; again if it straddled two
            _, headers, _ = await get(session, url, AUTH)
            await sleep_until(float(headers["X-RateLimit-Reset"]))
            burst = [await get(session, url, AUTH) for _ in range(4)]
            if len({headers["X-RateLimit-Reset"] for _, headers, _ in burst}) == 1:
                break
        else:
            pytest.fail("no four requests fitted in one 0.5 s window")
        assert [status for status, _, _ in burst] == [200, 200, 200, 429]
        assert [headers["X-RateLimit-Remaining"] for _, headers, _ in burst] == ["2", "1", "0", "0"]
        assert error_list(burst[3][2])["errors"] == [
            {
                "code": "rate_limit_exceeded",
                "message": "You have exceeded the rate limit. Please try again later.",
            }
        ]
        reset = burst[3][1]["X-RateLimit-Reset"]
        assert re.fullmatch(r"\d+\.\d{3}", reset)
        await sleep_until(float(reset))
        status, headers, _ = await get(session, url, AUTH)
        assert status == 200
        assert headers["X-RateLimit-Remaining"] == "2"
        assert [record.status for record in fake.requests][-5:] == [200, 200, 200, 429, 200]
        windows = [record.window for record in fake.requests][-5:]
        assert windows[:4] == [windows[0]] * 4  # the burst, 429 included, in one window
        assert windows[0] is not None
        assert windows[4] == windows[0] + 1  # the next window
        fake.inject("1", Fault.status(503))
        await get(session, url, AUTH)
        assert fake.requests[-1].window is None  # a fault answered it: no window counted it


# -- faults -------------------------------------------------------------------------------


async def test_status_fault_then_success(fake: FakeIntercom) -> None:
    fake.inject("1", Fault.status(503), times=2)
    async with fake.client(retry=RetryPolicy.no_wait()) as client:
        ticket = await client.tickets.get("1")
        assert ticket.id == "1"
        assert client.stats.retries == 2
    assert [record.status for record in fake.requests] == [503, 503, 200]

    fake.inject("2", Fault.status(500))
    async with fake.client(retry=RetryPolicy.never(), token="not-the-token") as client:
        with pytest.raises(ServerError) as caught:  # faults come before auth
            await client.tickets.get("2")
    assert caught.value.status == 500
    assert caught.value.code == "server_error"


@pytest.mark.parametrize(
    ("code", "error_code"),
    [(503, "service_unavailable"), (500, "server_error"), (429, "rate_limit_exceeded"),
     (404, "not_found"), (418, "client_error")],
)  # fmt: skip
async def test_status_fault_default_bodies(
    fake: FakeIntercom, session: aiohttp.ClientSession, code: int, error_code: str
) -> None:
    fake.inject("1", Fault.status(code))
    status, headers, body = await get(session, f"{fake.base_url}/tickets/1", AUTH)
    assert status == code
    data = error_list(body)
    assert data["errors"][0]["code"] == error_code
    assert data["request_id"] == headers["X-Request-Id"]


async def test_status_fault_with_a_body(fake: FakeIntercom, session: aiohttp.ClientSession) -> None:
    fake.inject("1", Fault.status(500, body={"oops": True}))
    fake.inject("1", Fault.status(500, body="not json"))
    assert (await get(session, f"{fake.base_url}/tickets/1", AUTH))[2] == b'{"oops": true}'
    assert (await get(session, f"{fake.base_url}/tickets/1", AUTH))[2] == b"not json"


async def test_reset_fault(fake: FakeIntercom) -> None:
    fake.inject("1", Fault.reset(), times=None)
    async with fake.client(retry=RetryPolicy.never()) as client:
        with pytest.raises(TransportError, match="disconnected"):
            await client.tickets.get("1")
    # aiohttp itself sends a GET once more when the server hangs up; so the fake saw two.
    assert [record.status for record in fake.requests] == [None, None]


async def test_single_reset_is_retried_by_aiohttp(fake: FakeIntercom) -> None:
    fake.inject("1", Fault.reset())
    async with fake.client(retry=RetryPolicy.never()) as client:
        assert (await client.tickets.get("1")).id == "1"
    assert [record.status for record in fake.requests] == [None, 200]


async def test_truncate_fault(fake: FakeIntercom) -> None:
    fake.inject("1", Fault.truncate())
    async with fake.client(retry=RetryPolicy.never()) as client:
        with pytest.raises(TransportError, match="Not enough data"):
            await client.tickets.get("1")
        assert (await client.tickets.get("1")).id == "1"
    assert [record.status for record in fake.requests] == [None, 200]


async def test_slow_fault_times_out(fake: FakeIntercom) -> None:
    fake.inject("1", Fault.slow(5.0))
    started = time.monotonic()
    async with fake.client(retry=RetryPolicy.never(), timeout=0.1) as client:
        with pytest.raises(TransportError, match="timed out"):
            await client.tickets.get("1")
    await fake.close()  # the slow answer is abandoned, not awaited
    assert time.monotonic() - started < 2.0
    assert [record.status for record in fake.requests] == [None]


async def test_slow_fault_answers_late(fake: FakeIntercom) -> None:
    fake.inject("1", Fault.slow(0.1))
    async with fake.client(retry=RetryPolicy.never()) as client:
        started = time.monotonic()
        assert (await client.tickets.get("1")).id == "1"
    assert time.monotonic() - started >= 0.1
    assert [record.status for record in fake.requests] == [200]


async def test_html_fault(fake: FakeIntercom, session: aiohttp.ClientSession) -> None:
    fake.inject("1", Fault.html(), times=None)
    status, headers, body = await get(session, f"{fake.base_url}/tickets/1", AUTH)
    assert status == 502
    assert headers["Content-Type"].startswith("text/html")
    assert b"<h1>502 Bad Gateway</h1>" in body
    async with fake.client(retry=RetryPolicy.never()) as client:
        with pytest.raises(ServerError) as caught:
            await client.tickets.get("1")
    assert caught.value.status == 502
    assert caught.value.errors == []


async def test_faults_queue_in_order_per_id(
    fake: FakeIntercom, session: aiohttp.ClientSession
) -> None:
    fake.inject("1", Fault.status(500), times=2)
    fake.inject("1", Fault.html(504))
    fake.inject("2", Fault.status(404))
    for ticket_id in ("1", "2", "1", "1", "1", "2"):
        await get(session, f"{fake.base_url}/tickets/{ticket_id}", AUTH)
    assert [(record.ticket_id, record.status) for record in fake.requests] == [
        ("1", 500), ("2", 404), ("1", 500), ("1", 504), ("1", 200), ("2", 200),
    ]  # fmt: skip


async def test_random_faults_are_deterministic(session: aiohttp.ClientSession) -> None:
    async def statuses(probability: float, seed: int) -> list[int | None]:
        async with FakeIntercom(token=TOKEN, tickets=3) as fake:
            kinds = [Fault.status(500), Fault.status(503)]
            fake.random_faults(probability, seed=seed, kinds=kinds)
            for index in range(30):
                await get(session, f"{fake.base_url}/tickets/{index % 3 + 1}", AUTH)
            return [record.status for record in fake.requests]

    first = await statuses(0.5, seed=7)
    assert first == await statuses(0.5, seed=7)
    assert set(first) == {200, 500, 503}
    assert first != await statuses(0.5, seed=8)
    assert set(await statuses(0.0, seed=7)) == {200}
    assert set(await statuses(1.0, seed=7)) == {500, 503}


async def test_random_faults_recovered_by_retries(fake: FakeIntercom) -> None:
    fake.random_faults(0.3, seed=1)  # the default kinds: 5xx, HTML, resets, cut bodies
    async with fake.client(retry=RetryPolicy.no_wait(max_attempts=10)) as client:
        results = await client.tickets.get_all(["1", "2", "3", "4", "5"] * 4)
    assert all(result.ok for result in results)
    assert {record.status for record in fake.requests} > {200}


# -- the request log ----------------------------------------------------------------------


async def test_request_log_redacts_the_token(
    fake: FakeIntercom, session: aiohttp.ClientSession
) -> None:
    before = time.time()
    async with fake.client(retry=RetryPolicy.never()) as client:
        await client.tickets.get("2")
    await get(session, f"{fake.base_url}/tickets/..%2Fadmins?q={TOKEN}", {"X-Echo": TOKEN})
    await get(session, f"{fake.base_url}/tickets/1", {"Authorization": f"Bearer x{TOKEN}x"})
    records = fake.requests
    assert [(r.method, r.path, r.ticket_id, r.status) for r in records] == [
        ("GET", "/tickets/2", "2", 200),
        ("GET", "/tickets/..%2Fadmins", "../admins", 401),
        ("GET", "/tickets/1", "1", 401),
    ]
    assert all(isinstance(record, RecordedRequest) for record in records)
    assert before <= records[0].time <= records[1].time <= records[2].time <= time.time()
    assert records[0].headers["Authorization"] == "Bearer <redacted>"
    assert records[0].headers["Intercom-Version"] == "2.9"
    assert records[1].headers["X-Echo"] == "<redacted>"
    assert records[2].headers["Authorization"] == "Bearer <redacted>"
    for record in records:
        assert TOKEN not in repr(record)
        assert TOKEN not in json.dumps(record.headers)
    assert TOKEN not in repr(fake)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        records[0].status = 500  # type: ignore[misc]
    fake.clear_requests()
    assert fake.requests == []


# -- life cycle and arguments ---------------------------------------------------------------


async def test_life_cycle() -> None:
    fake = FakeIntercom(token=TOKEN)
    assert isinstance(fake.app, web.Application)
    with pytest.raises(RuntimeError, match="not started"):
        _ = fake.base_url
    with pytest.raises(RuntimeError, match="not started"):
        fake.client()
    await fake.start()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", fake.base_url)
    client = fake.client(version="2.11", retry=RetryPolicy.never())
    assert isinstance(client, IntercomClient)
    assert client.version == "2.11"
    await client.aclose()
    await fake.close()
    await fake.close()
    with pytest.raises(RuntimeError, match="starts once"):
        await fake.start()
    assert TOKEN not in repr(fake)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="token") as caught:
        FakeIntercom(token=" padded ")
    assert "padded" not in str(caught.value)
    with pytest.raises(ValueError, match="rate_limit"):
        FakeIntercom(rate_limit=0)
    with pytest.raises(ValueError, match="window"):
        FakeIntercom(window=0)
    with pytest.raises(ValueError, match="id"):
        FakeIntercom(tickets=[{"type": "ticket"}])
    with pytest.raises(ValueError, match="400 to 599"):
        Fault.status(200)
    with pytest.raises(ValueError, match=">= 0"):
        Fault.slow(-1)
    fake = FakeIntercom()
    with pytest.raises(ValueError, match="times"):
        fake.inject("1", Fault.reset(), times=0)
    with pytest.raises(ValueError, match="probability"):
        fake.random_faults(1.5)
    with pytest.raises(ValueError, match="kinds"):
        fake.random_faults(0.5, kinds=[])


def test_fault_reprs() -> None:
    assert repr(Fault.status(503)) == "Fault.status(503)"
    assert repr(Fault.slow(0.5)) == "Fault.slow(0.5)"
    assert repr(Fault.html()) == "Fault.html(502)"
    assert repr(Fault.reset()) == "Fault.reset()"
    assert Fault.truncate() == Fault.truncate()


# -- the pytest plugin ----------------------------------------------------------------------


async def test_plugin_fixtures(
    intercom_fake: FakeIntercom, intercom_client: IntercomClient
) -> None:
    assert intercom_client.base_url == intercom_fake.base_url
    assert (await intercom_client.tickets.get("10")).id == "10"
    intercom_fake.inject("3", Fault.status(503), times=3)
    assert (await intercom_client.tickets.get("3")).id == "3"  # retried without waiting
    with pytest.raises(NotFoundError):
        await intercom_client.tickets.get("11")
    assert [record.status for record in intercom_fake.requests] == [200, 503, 503, 503, 200, 404]


def test_plugin_defines_nothing_without_pytest_asyncio(monkeypatch: pytest.MonkeyPatch) -> None:
    assert callable(_plugin.intercom_fake)
    monkeypatch.setitem(sys.modules, "pytest_asyncio", None)  # import pytest_asyncio fails
    spec = importlib.util.spec_from_file_location(
        "intercom_async.testing._plugin_without_asyncio", _plugin.__file__
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert not hasattr(module, "intercom_fake")
    assert not hasattr(module, "intercom_client")


# -- memory over a long run (issue 16, defect 12) ---------------------------------------------


def _resident() -> int:
    """This process's resident memory, in bytes (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
async def test_generated_tickets_are_not_all_kept() -> None:
    """150 distinct 300 kB tickets served: 45 MB if every body were kept, 8 MB here."""
    ids = [str(n) for n in range(1, 151)]
    async with (
        FakeIntercom(token=TOKEN, tickets=1000, parts=600) as fake,
        aiohttp.ClientSession(headers=AUTH) as session,
    ):
        await get(session, f"{fake.base_url}/tickets/1000")  # warm up
        gc.collect()
        before = _resident()
        for start in range(0, len(ids), 10):
            batch = ids[start : start + 10]
            answers = await asyncio.gather(
                *(get(session, f"{fake.base_url}/tickets/{i}") for i in batch)
            )
            assert {status for status, _, _ in answers} == {200}
            del answers
        gc.collect()
        grown = _resident() - before
        # Served again, a body is the same: regenerating it is deterministic.
        status, _, body = await get(session, f"{fake.base_url}/tickets/1")
    assert status == 200
    assert json.loads(body) == generate_ticket("1", parts=600)
    assert grown < 24 * 1024 * 1024, f"grew by {grown / 2**20:.1f} MiB for 150 tickets"


async def test_the_request_log_keeps_the_latest_requests(session: aiohttp.ClientSession) -> None:
    async with FakeIntercom(token=TOKEN, tickets=9, request_log_size=3) as fake:
        for n in range(1, 9):
            await get(session, f"{fake.base_url}/tickets/{n}", AUTH)
        assert [r.ticket_id for r in fake.requests] == ["6", "7", "8"]
        assert repr(fake).endswith("requests=8>")  # every request counts, kept or not
        fake.clear_requests()
        await get(session, f"{fake.base_url}/tickets/9", AUTH)
        assert [r.ticket_id for r in fake.requests] == ["9"]


def test_the_request_log_is_bounded_by_default() -> None:
    default = inspect.signature(FakeIntercom).parameters["request_log_size"].default
    assert default == 10_000
    with pytest.raises(ValueError, match="request_log_size"):
        FakeIntercom(request_log_size=0)
    assert FakeIntercom(request_log_size=None) is not None  # unbounded, when asked for


# -- the route table (issue 17) ---------------------------------------------------------------


async def test_a_method_the_route_does_not_take(
    fake: FakeIntercom, session: aiohttp.ClientSession
) -> None:
    async with session.post(f"{fake.base_url}/tickets/1", headers=AUTH) as response:
        assert response.status == 404
        body = await response.read()
    assert error_list(body)["errors"] == [{"code": "not_found", "message": "Resource Not Found"}]
    status, _, body = await get(session, f"{fake.base_url}/tickets/search", AUTH)
    assert status == 404  # GET /tickets/search asks for the ticket "search"
    assert error_list(body)["errors"] == [{"code": "not_found", "message": "Ticket Not Found"}]
    assert [(r.method, r.route, r.ticket_id, r.body) for r in fake.requests] == [
        ("POST", None, None, ""),
        ("GET", "GET /tickets/{id}", "search", ""),
    ]


@pytest.mark.parametrize(
    ("version", "state"),
    [(None, "str"), ("2.9", "str"), ("2.10", "str"), ("2.12", "dict"), ("2.16", "dict")],
)
async def test_tickets_take_the_shape_of_the_version_asked_for(
    fake: FakeIntercom, session: aiohttp.ClientSession, version: str | None, state: str
) -> None:
    headers = AUTH if version is None else {**AUTH, "Intercom-Version": version}
    _, _, body = await get(session, f"{fake.base_url}/tickets/4", headers)
    data = json.loads(body)
    assert data == generate_ticket("4", version=version)
    assert type(data["ticket_state"]).__name__ == state
    newer = version not in (None, "2.9")
    assert ("open" in data) is newer
    assert ("category" in data["ticket_type"]) is newer
    assert isinstance(data["admin_assignee_id"], int) is (version == "2.16")


async def test_added_tickets_are_sent_as_given_in_every_version(
    fake: FakeIntercom, session: aiohttp.ClientSession
) -> None:
    fake.add_ticket({"id": "x", "type": "ticket"})
    for version in ("2.9", "2.16"):
        _, _, body = await get(
            session, f"{fake.base_url}/tickets/x", {**AUTH, "Intercom-Version": version}
        )
        assert json.loads(body) == {"id": "x", "type": "ticket"}
