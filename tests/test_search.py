"""``client.tickets.search``: the client against the fake Intercom (and, for what the fake never
does, an ``aiohttp.web`` server of our own) on 127.0.0.1, over real connections."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from intercom_async import (
    IntercomClient,
    InvalidQueryError,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
    Ticket,
    TicketList,
    TicketSearch,
    UnsupportedVersionError,
    all_of,
    updated_since,
    where,
)
from intercom_async.testing import FakeIntercom, Fault, generate_ticket

TOKEN = "search-test-token"
N = 23
EVERYTHING = {"field": "updated_at", "operator": ">", "value": 0}
EXAMPLES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "search_examples.json").read_text(encoding="utf-8")
)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeIntercom]:
    async with FakeIntercom(token=TOKEN, tickets=N, parts=2) as started:
        yield started


@pytest_asyncio.fixture
async def client(fake: FakeIntercom) -> AsyncIterator[IntercomClient]:
    async with fake.client(version="2.10", retry=RetryPolicy.no_wait()) as made:
        yield made


def searches(fake: FakeIntercom) -> list[dict[str, Any]]:
    """The bodies of the search requests the fake received, in order."""
    return [json.loads(r.body) for r in fake.requests if r.path == "/tickets/search"]


def cursors(fake: FakeIntercom) -> list[str | None]:
    return [body["pagination"].get("starting_after") for body in searches(fake)]


ALL_IDS = [str(n) for n in range(1, N + 1)]


async def test_search_follows_the_pages_to_the_end(
    fake: FakeIntercom, client: IntercomClient
) -> None:
    found = [ticket async for ticket in client.tickets.search(EVERYTHING, per_page=5)]
    assert all(isinstance(ticket, Ticket) for ticket in found)
    assert [ticket.id for ticket in found] == ALL_IDS
    sent = cursors(fake)
    assert len(sent) == 5  # 23 tickets, 5 a page
    assert sent[0] is None
    assert all(isinstance(cursor, str) and cursor for cursor in sent[1:])
    assert len(set(sent[1:])) == 4
    assert all(body["pagination"]["per_page"] == 5 for body in searches(fake))
    assert all(body["query"] == EVERYTHING for body in searches(fake))


async def test_pages_give_total_count_and_each_page(
    fake: FakeIntercom, client: IntercomClient
) -> None:
    pages = [page async for page in client.tickets.search(EVERYTHING, per_page=10).pages()]
    assert all(isinstance(page, TicketList) for page in pages)
    assert [len(page) for page in pages] == [10, 10, 3]
    assert [page.total_count for page in pages] == [N, N, N]
    assert [page.pages.page for page in pages if page.pages] == [1, 2, 3]
    assert pages[-1].next_cursor is None
    assert [ticket.id for page in pages for ticket in page] == ALL_IDS


async def test_raw_pages_carry_request_ids_attempts_and_the_page(
    fake: FakeIntercom, client: IntercomClient
) -> None:
    fake.inject_route("POST /tickets/search", Fault.status(503), times=1)
    raws = [raw async for raw in client.tickets.with_raw_response.search(EVERYTHING, per_page=10)]
    assert [raw.status for raw in raws] == [200, 200, 200]
    assert [raw.attempts for raw in raws] == [2, 1, 1]  # the first page was retried once
    assert all(raw.request_id for raw in raws)
    assert len({raw.request_id for raw in raws}) == 3
    assert all(raw.elapsed > 0 for raw in raws)
    pages = [raw.parse() for raw in raws]
    assert pages[0] is raws[0].parse()  # decoded once
    assert [ticket.id for page in pages for ticket in page] == ALL_IDS
    assert cursors(fake) == [None, None, pages[0].next_cursor, pages[1].next_cursor]


async def test_raw_search_checks_before_sending(fake: FakeIntercom) -> None:
    async with fake.client(version="2.9") as old:
        with pytest.raises(UnsupportedVersionError):
            old.tickets.with_raw_response.search(EVERYTHING)
    async with fake.client(version="2.10") as client:
        with pytest.raises(InvalidQueryError):
            client.tickets.with_raw_response.search({"field": "id", "operator": "??", "value": 1})
    assert fake.requests == []


async def test_per_page_defaults_to_50(fake: FakeIntercom, client: IntercomClient) -> None:
    found = [ticket.id async for ticket in client.tickets.search(EVERYTHING)]
    assert found == ALL_IDS
    assert [body["pagination"] for body in searches(fake)] == [{"per_page": 50}]


async def test_the_helpers_and_a_dict_query_find_the_same(
    fake: FakeIntercom, client: IntercomClient
) -> None:
    states = {t.id: t.ticket_state for t in [await client.tickets.get(i) for i in ALL_IDS]}
    query = all_of(updated_since(0), where("state", "=", "submitted"))
    found = [ticket.id async for ticket in client.tickets.search(query, per_page=4)]
    assert found == [i for i in ALL_IDS if states[i] == "submitted"]
    assert found  # the generated tickets have some of each state


async def test_breaking_out_sends_nothing_more(fake: FakeIntercom, client: IntercomClient) -> None:
    found = []
    async for ticket in client.tickets.search(EVERYTHING, per_page=5):
        found.append(ticket.id)
        if len(found) == 7:
            break
    await asyncio.sleep(0.05)
    assert found == ALL_IDS[:7]
    assert len(searches(fake)) == 2  # the page of ticket 7, and no more


async def test_aclosing_stops_it_and_a_closed_search_ends(
    fake: FakeIntercom, client: IntercomClient
) -> None:
    search = client.tickets.search(EVERYTHING, per_page=5)
    async with contextlib.aclosing(search) as tickets:
        async for ticket in tickets:
            assert ticket.id == "1"
            break
    assert [t async for t in search] == []  # closed: over, nothing sent
    assert len(searches(fake)) == 1
    unused = client.tickets.search(EVERYTHING)
    await unused.aclose()
    assert [t async for t in unused] == []
    assert len(searches(fake)) == 1


async def test_the_last_ticket_of_a_page_asks_for_no_more(
    fake: FakeIntercom, client: IntercomClient
) -> None:
    search = client.tickets.search(EVERYTHING, per_page=5)
    for _ in range(5):
        await anext(search)
    assert len(searches(fake)) == 1
    await search.aclose()
    assert len(searches(fake)) == 1


@pytest.mark.parametrize(
    "fault",
    [Fault.status(429), Fault.status(503), Fault.reset()],
    ids=["429", "503", "dropped connection"],
)
async def test_a_failure_mid_pagination_resumes_from_the_last_cursor(
    fake: FakeIntercom, client: IntercomClient, fault: Fault
) -> None:
    found = []
    async for ticket in client.tickets.search(EVERYTHING, per_page=5):
        found.append(ticket.id)
        if len(found) == 10:  # the end of page 2: page 3 fails once, then comes
            fake.inject_route("POST /tickets/search", fault, times=2)
    assert found == ALL_IDS  # none lost, none repeated
    sent = cursors(fake)
    assert len(sent) == 7  # five pages and two failed attempts
    assert sent[2] == sent[3] == sent[4]  # the same page's request, resent as it was
    assert client.stats.retries == 2


async def test_a_429_under_the_default_policy_waits_and_resumes() -> None:
    async with (
        FakeIntercom(token=TOKEN, tickets=N, parts=1, window=0.5) as fake,
        fake.client(version="2.10") as client,
    ):
        found = []
        async for ticket in client.tickets.search(EVERYTHING, per_page=10):
            found.append(ticket.id)
            if len(found) == 10:
                fake.inject_route("POST /tickets/search", Fault.status(429))
        assert found == ALL_IDS
        assert client.stats.rate_limited == 1
        assert cursors(fake)[1] == cursors(fake)[2]


async def test_a_version_before_2_10_is_refused_before_sending(fake: FakeIntercom) -> None:
    async with fake.client() as client:  # 2.9
        with pytest.raises(UnsupportedVersionError) as caught:
            client.tickets.search(EVERYTHING)  # at the call, not at the first iteration
        assert 'version="2.10"' in str(caught.value)
        assert "2.9" in str(caught.value)
        with pytest.raises(UnsupportedVersionError):
            client.with_options(timeout=5).tickets.search(EVERYTHING)
    assert fake.requests == []


@pytest.mark.parametrize("version", ["2.10", "2.16", "3.0", "Preview", "Unstable"])
async def test_versions_that_have_search(fake: FakeIntercom, version: str) -> None:
    async with fake.client(version=version) as client:
        found = [t.id async for t in client.tickets.search(EVERYTHING, per_page=150)]
    assert found == ALL_IDS


@pytest.mark.parametrize(
    ("query", "per_page", "error", "words"),
    [
        ({"field": "updated_at", "operator": "~", "value": "x"}, 5, InvalidQueryError, "~"),
        ({"operator": "and", "value": [EVERYTHING]}, 5, InvalidQueryError, "'AND'"),
        ("updated_at > 0", 5, InvalidQueryError, "a filter or a group"),
        (EVERYTHING, 0, ValueError, "from 1 to 150"),
        (EVERYTHING, 151, ValueError, "from 1 to 150"),
        (EVERYTHING, "5", TypeError, "per_page must be an int"),
    ],
)
async def test_a_bad_query_or_per_page_is_refused_before_sending(
    fake: FakeIntercom,
    client: IntercomClient,
    query: Any,
    per_page: Any,
    error: type[Exception],
    words: str,
) -> None:
    with pytest.raises(error, match=None) as caught:
        client.tickets.search(query, per_page=per_page)
    assert words in str(caught.value)
    assert fake.requests == []


async def test_the_query_is_copied_when_the_search_is_made(
    fake: FakeIntercom, client: IntercomClient
) -> None:
    query: dict[str, Any] = {"field": "id", "operator": "=", "value": "3"}
    search = client.tickets.search(query)
    query["value"] = "4"
    assert [t.id async for t in search] == ["3"]
    assert search.query == {"field": "id", "operator": "=", "value": "3"}
    assert search.per_page == 50


async def test_a_view_s_policy_applies_to_each_page(fake: FakeIntercom) -> None:
    async with fake.client(version="2.10", retry=RetryPolicy.no_wait()) as client:
        once = client.with_options(retry=RetryPolicy.never())
        fake.inject_route("POST /tickets/search", Fault.status(503), times=1)
        with pytest.raises(ServerError):
            [t async for t in once.tickets.search(EVERYTHING)]
        assert len(searches(fake)) == 1  # no retry under the view's policy
        fake.inject_route("POST /tickets/search", Fault.status(503), times=1)
        assert [t.id async for t in client.tickets.search(EVERYTHING)] == ALL_IDS


async def test_max_delay_bounds_each_page(fake: FakeIntercom) -> None:
    policy = RetryPolicy(max_attempts=5, max_delay=0.3)
    async with fake.client(version="2.10", retry=policy) as client:
        fake.inject_route("POST /tickets/search", Fault.slow(2.0))
        started = asyncio.get_running_loop().time()
        with pytest.raises(Exception, match="max_delay"):
            [t async for t in client.tickets.search(EVERYTHING)]
        assert asyncio.get_running_loop().time() - started < 1.5


def _odd_ticket(ticket_id: str) -> dict[str, Any]:
    """A ticket whose ``open`` is a string: strict structuring refuses it."""
    data = generate_ticket(ticket_id, parts=1, version="2.10")
    data["open"] = "yes"
    return data


async def test_preview_is_structured_leniently_in_search_and_get() -> None:
    async with FakeIntercom(token=TOKEN, tickets=[_odd_ticket("1")]) as fake:
        async with fake.client(version="Preview") as client:
            (found,) = [t async for t in client.tickets.search(EVERYTHING)]
            assert found.open is None and found.extra["open"] == "yes"
            got = await client.tickets.get("1")
            assert got.open is None and got.extra["open"] == "yes"
        async with fake.client(version="2.10") as strict:
            with pytest.raises(ResponseDecodeError, match="open"):
                [t async for t in strict.tickets.search(EVERYTHING)]
            with pytest.raises(ResponseDecodeError, match="open"):
                await strict.tickets.get("1")


# -- a server that sends the same cursor again ------------------------------------------------


@pytest_asyncio.fixture
async def looping_server() -> AsyncIterator[tuple[str, list[Any]]]:
    """A search endpoint whose every page says the next starts after "again"."""
    received: list[Any] = []

    async def search(request: web.Request) -> web.Response:
        received.append(await request.json())
        page = {
            "type": "ticket.list",
            "tickets": [generate_ticket(str(len(received)), parts=0, version="2.10")],
            "total_count": 99,
            "pages": {"type": "pages", "next": {"per_page": 1, "starting_after": "again"}},
        }
        return web.json_response(page)

    app = web.Application()
    app.router.add_post("/tickets/search", search)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", received
    finally:
        await runner.cleanup()


async def test_a_cursor_sent_again_is_an_error_not_a_loop(
    looping_server: tuple[str, list[Any]],
) -> None:
    url, received = looping_server
    async with IntercomClient("t", base_url=url, version="2.10") as client:
        found: list[str | None] = []

        async def collect() -> None:
            async for ticket in client.tickets.search(EVERYTHING, per_page=1):
                found.append(ticket.id)

        with pytest.raises(ResponseDecodeError) as caught:
            await collect()
    assert found == ["1", "2"]  # both pages' tickets came out before the error
    assert len(received) == 2
    assert caught.value.json_path == "$.pages.next.starting_after"
    assert "cursor it sent before" in str(caught.value)


# -- feeding get_many ---------------------------------------------------------------------


async def test_get_many_pulls_search_pages_only_as_fast_as_it_consumes() -> None:
    async with (
        FakeIntercom(token=TOKEN, tickets=300, parts=1) as fake,
        fake.client(version="2.10", retry=RetryPolicy.no_wait()) as client,
    ):
        search = client.tickets.search(EVERYTHING, per_page=5)
        results = client.tickets.get_many(search.ids(), concurrency=2)
        got = []
        async with contextlib.aclosing(results):
            async for result in results:
                assert result.ticket is not None
                got.append(result.ticket.id)
                if len(got) == 10:
                    break
        await asyncio.sleep(0.05)
        pages = len(searches(fake))
    assert len(set(got)) == 10
    # 10 ids consumed, a few in flight or queued: a handful of pages out of 60.
    assert pages <= 5, pages


async def test_search_feeds_get_many_to_the_end(fake: FakeIntercom, client: IntercomClient) -> None:
    search = client.tickets.search(updated_since(0), per_page=7)
    results = [r async for r in client.tickets.get_many(search.ids())]
    assert sorted(str(r.ticket.id) for r in results if r.ticket) == sorted(ALL_IDS)
    assert all(r.error is None for r in results)
    # the generator expression of the issue works too (ids are never None in practice)
    again = client.tickets.search(updated_since(0), per_page=7)
    ids = (t.id async for t in again)
    results = [r async for r in client.tickets.get_many(ids, ordered=True)]  # type: ignore[arg-type]
    assert [r.id for r in results] == ALL_IDS


# -- the examples of each description ---------------------------------------------------------


@pytest.mark.parametrize("version", list(EXAMPLES))
async def test_the_examples_of_each_description_run(fake: FakeIntercom, version: str) -> None:
    async with fake.client(version=version, retry=RetryPolicy.no_wait()) as client:
        for body in EXAMPLES[version]["requests"].values():
            search = client.tickets.search(body["query"], **body["pagination"])
            assert isinstance(search, TicketSearch)
            pages = [page async for page in search.pages()]
            found = [ticket.id for page in pages for ticket in page]
            # every generated ticket was created after 1306054154 (2011)
            assert found == ALL_IDS
            assert {page.total_count for page in pages} == {N}
            assert all(len(page) <= body["pagination"]["per_page"] for page in pages)
    assert all(r.headers["Intercom-Version"] == version for r in fake.requests)
