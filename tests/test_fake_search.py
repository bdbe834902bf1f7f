"""``POST /tickets/search`` on the fake Intercom, over real connections on 127.0.0.1.

Each search is checked against the tickets themselves: the expected ids are worked out here
from the JSON that ``GET /tickets/{id}`` serves, independently of the fake's own reading.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from multidict import CIMultiDictProxy

from intercom_async.testing import FakeIntercom, Fault, generate_ticket
from intercom_async.testing._data import plan_ticket
from intercom_async.testing._facts import Facts

TOKEN = "s3cret-T0ken-for-the-search"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Intercom-Version": "2.10"}
N = 60
SEED = 4
PARTS = 3

Answer = tuple[int, "CIMultiDictProxy[str]", Any]


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeIntercom]:
    async with FakeIntercom(token=TOKEN, tickets=N, seed=SEED, parts=PARTS) as started:
        yield started


def ticket(ticket_id: int | str, version: str = "2.10") -> dict[str, Any]:
    return generate_ticket(str(ticket_id), parts=PARTS, seed=SEED, version=version)


ALL = [ticket(n) for n in range(1, N + 1)]


async def search(
    session: aiohttp.ClientSession,
    fake: FakeIntercom,
    body: object,
    headers: dict[str, str] | None = None,
) -> Answer:
    async with session.post(
        f"{fake.base_url}/tickets/search",
        json=body,
        headers=HEADERS if headers is None else headers,
    ) as response:
        text = await response.read()
        return response.status, response.headers, json.loads(text)


async def search_all(
    session: aiohttp.ClientSession, fake: FakeIntercom, query: object, per_page: int
) -> tuple[list[str], list[dict[str, Any]]]:
    """Every id the search gives, page after page, and every page's ``pages``."""
    ids: list[str] = []
    pages: list[dict[str, Any]] = []
    paging: dict[str, Any] = {"per_page": per_page}
    while True:
        status, _, data = await search(session, fake, {"query": query, "pagination": paging})
        assert status == 200, data
        ids += [t["id"] for t in data["tickets"]]
        pages.append(data["pages"])
        if "next" not in data["pages"]:
            return ids, pages
        paging = data["pages"]["next"]


# -- the expected results, worked out from the tickets' JSON -------------------------------


def _attribute_ids(data: dict[str, Any]) -> dict[str, str]:
    listing = data["ticket_type"]["ticket_type_attributes"]
    return {a["id"]: a["name"] for a in listing.get("data") or listing["ticket_type_attributes"]}


def _read(data: dict[str, Any], field: str) -> list[Any]:
    """The values of ``field`` in a ticket's JSON (a list: some fields hold several)."""
    if field == "title":
        return [data["ticket_attributes"]["_default_title_"]]
    if field == "description":
        return [data["ticket_attributes"]["_default_description_"]]
    if field == "state":
        return [data["ticket_state"]]
    if field == "ticket_type_id":
        return [data["ticket_type"]["id"]]
    if field == "contact_ids":
        return [c["id"] for c in data["contacts"]["contacts"]]
    if field == "teammate_ids":
        parts = data["ticket_parts"]["ticket_parts"]
        return sorted({p["author"]["id"] for p in parts if p["author"]["type"] == "admin"})
    if field.startswith("ticket_attribute."):
        name = _attribute_ids(data)[field.split(".", 1)[1]]
        return [data["ticket_attributes"][name]]
    value = data[field]
    return [] if value is None else [value]


def _holds(operator: str, have: Any, want: Any) -> bool:
    if operator in (">", "<", ">=", "<="):
        return bool(
            {">": have > want, "<": have < want, ">=": have >= want, "<=": have <= want}[operator]
        )
    if operator in ("~", "^", "$"):
        have, want = have.lower(), want.lower()
        return bool(
            {"~": want in have, "^": have.startswith(want), "$": have.endswith(want)}[operator]
        )
    return bool(have == want)


def matches(data: dict[str, Any], query: dict[str, Any]) -> bool:
    if query["operator"] in ("AND", "OR"):
        results = [matches(data, member) for member in query["value"]]
        return all(results) if query["operator"] == "AND" else any(results)
    values, operator, want = _read(data, query["field"]), query["operator"], query["value"]
    if operator == "IN":
        return any(v in want for v in values)
    if operator == "NIN":
        return not any(v in want for v in values)
    if operator == "!=":
        return want not in values
    if operator == "!~":
        return not any(_holds("~", v, want) for v in values)
    return any(_holds(operator, v, want) for v in values)


def expected(query: dict[str, Any]) -> list[str]:
    return [data["id"] for data in ALL if matches(data, query)]


def some(
    field: str, pick: Callable[[list[Any]], Any] = lambda values: values[len(values) // 2]
) -> Any:
    values = sorted({v for data in ALL for v in _read(data, field)}, key=str)
    return pick(values)


MIDDLE = sorted(data["updated_at"] for data in ALL)[N // 2]

FILTERS = [
    {"field": "updated_at", "operator": ">", "value": MIDDLE},
    {"field": "updated_at", "operator": ">=", "value": MIDDLE},
    {"field": "created_at", "operator": "<", "value": MIDDLE},
    {"field": "created_at", "operator": "<=", "value": ALL[5]["created_at"]},
    {"field": "created_at", "operator": "=", "value": ALL[7]["created_at"]},
    {"field": "id", "operator": "=", "value": "17"},
    {"field": "id", "operator": "IN", "value": ["3", "30", "300"]},
    {"field": "id", "operator": "NIN", "value": [str(n) for n in range(1, 50)]},
    {"field": "id", "operator": "^", "value": "1"},
    {"field": "id", "operator": "$", "value": "7"},
    {"field": "title", "operator": "~", "value": "csv"},
    {"field": "title", "operator": "!~", "value": "password"},
    {"field": "title", "operator": "=", "value": ALL[0]["ticket_attributes"]["_default_title_"]},
    {"field": "description", "operator": "~", "value": "screenshot"},
    {"field": "category", "operator": "=", "value": "Tracker"},
    {"field": "category", "operator": "!=", "value": "Customer"},
    {"field": "ticket_type_id", "operator": "IN", "value": ["75", "77"]},
    {"field": "contact_ids", "operator": "=", "value": some("contact_ids")},
    {"field": "teammate_ids", "operator": "=", "value": some("teammate_ids")},
    {"field": "teammate_ids", "operator": "NIN", "value": [some("teammate_ids")]},
    {"field": "admin_assignee_id", "operator": "=", "value": "0"},
    {"field": "admin_assignee_id", "operator": "!=", "value": some("admin_assignee_id")},
    {"field": "team_assignee_id", "operator": "!=", "value": "0"},
    {"field": "open", "operator": "=", "value": False},
    {"field": "open", "operator": "!=", "value": False},
    {"field": "state", "operator": "IN", "value": ["submitted", "in_progress"]},
    {"field": "state", "operator": "NIN", "value": ["resolved"]},
    {"field": "snoozed_until", "operator": ">", "value": MIDDLE},
    {"field": "ticket_attribute.202", "operator": "=", "value": "high"},
    {"field": "ticket_attribute.200", "operator": "^", "value": "Export"},
]


@pytest.mark.parametrize("query", FILTERS, ids=lambda q: f"{q['field']} {q['operator']}")
async def test_each_field_and_operator(
    fake: FakeIntercom, session: aiohttp.ClientSession, query: dict[str, Any]
) -> None:
    want = expected(query)
    assert 0 < len(want) < N or query["field"] == "id", "a filter that tells tickets apart"
    ids, _ = await search_all(session, fake, query, per_page=150)
    assert ids == want


def test_the_filters_are_varied_enough() -> None:
    """The seeded tickets differ in what search looks at, so that queries mean something."""
    assert len({data["updated_at"] for data in ALL}) == N
    for field in ("state", "open", "category", "admin_assignee_id", "team_assignee_id"):
        assert len({str(_read(data, field)) for data in ALL}) > 1, field
    assert 0 < sum(data["snoozed_until"] is not None for data in ALL) < N


async def test_nested_and_or(fake: FakeIntercom, session: aiohttp.ClientSession) -> None:
    query = {
        "operator": "AND",
        "value": [
            {"operator": "OR", "value": FILTERS[0:1] + FILTERS[23:24]},
            {"operator": "OR", "value": FILTERS[14:16]},
        ],
    }
    want = expected(query)
    assert 0 < len(want) < N
    assert (await search_all(session, fake, query, per_page=150))[0] == want


async def test_a_date_may_be_a_string_of_digits(
    fake: FakeIntercom, session: aiohttp.ClientSession
) -> None:
    """As in the example of Intercom's description: ``"value": "1306054154"``."""
    query = {
        "operator": "AND",
        "value": [{"field": "created_at", "operator": ">", "value": "1306054154"}],
    }
    assert (await search_all(session, fake, query, per_page=150))[0] == [
        str(n) for n in range(1, N + 1)
    ]


async def test_category_by_the_words_of_2_14(
    fake: FakeIntercom, session: aiohttp.ClientSession
) -> None:
    words = {"request": "Customer", "task": "Back-office", "tracker": "Tracker"}
    for word, name in words.items():
        by_word = await search_all(
            session, fake, {"field": "category", "operator": "=", "value": word}, 150
        )
        by_name = await search_all(
            session, fake, {"field": "category", "operator": "=", "value": name}, 150
        )
        assert (
            by_word[0]
            == by_name[0]
            == expected({"field": "category", "operator": "=", "value": name})
        )


# -- pages ----------------------------------------------------------------------------------


async def test_pages_follow_one_another(fake: FakeIntercom, session: aiohttp.ClientSession) -> None:
    query = {"field": "updated_at", "operator": ">", "value": 0}
    ids, pages = await search_all(session, fake, query, per_page=7)
    assert ids == [str(n) for n in range(1, N + 1)]  # each once, in order
    assert [p["page"] for p in pages] == list(range(1, 10))
    for p in pages:
        assert p["type"] == "pages"
        assert p["per_page"] == 7
        assert p["total_pages"] == 9
    assert all(p["next"]["per_page"] == 7 for p in pages[:-1])
    assert "next" not in pages[-1]


async def test_the_answer_is_a_ticket_list(
    fake: FakeIntercom, session: aiohttp.ClientSession
) -> None:
    query = {"field": "state", "operator": "=", "value": "resolved"}
    status, headers, data = await search(
        session, fake, {"query": query, "pagination": {"per_page": 5}}
    )
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    want = expected(query)
    assert set(data) == {"type", "tickets", "total_count", "pages"}
    assert data["type"] == "ticket.list"
    assert data["total_count"] == len(want)
    assert data["tickets"] == [ticket(i) for i in want[:5]]  # as GET serves them, in 2.10
    assert data["pages"]["total_pages"] == -(-len(want) // 5)


async def test_per_page_default_and_limits(
    fake: FakeIntercom, session: aiohttp.ClientSession
) -> None:
    query = {"field": "id", "operator": "!=", "value": "x"}
    _, _, data = await search(session, fake, {"query": query})
    assert len(data["tickets"]) == 20
    assert data["pages"]["per_page"] == 20
    async with FakeIntercom(token=TOKEN, tickets=160, parts=0) as big:
        _, _, data = await search(session, big, {"query": query, "pagination": {"per_page": 150}})
        assert len(data["tickets"]) == 150
        assert data["pages"]["total_pages"] == 2
    for per_page in (0, 151, "5", True):
        status, _, data = await search(
            session, fake, {"query": query, "pagination": {"per_page": per_page}}
        )
        assert status == 400
        assert "per_page" in data["errors"][0]["message"]


async def test_no_results(fake: FakeIntercom, session: aiohttp.ClientSession) -> None:
    query = {"field": "id", "operator": "=", "value": "nope"}
    status, _, data = await search(session, fake, {"query": query})
    assert status == 200
    assert data["tickets"] == []
    assert data["total_count"] == 0
    assert data["pages"] == {"type": "pages", "page": 1, "per_page": 20, "total_pages": 0}


async def test_a_ticket_changed_between_pages(
    fake: FakeIntercom, session: aiohttp.ClientSession
) -> None:
    """A ticket updated mid-pagination neither repeats nor loses the others."""
    query = {"field": "updated_at", "operator": ">", "value": 0}
    paging: dict[str, Any] = {"per_page": 10}
    ids: list[str] = []
    for round_ in range(10):
        _, _, data = await search(session, fake, {"query": query, "pagination": paging})
        ids += [t["id"] for t in data["tickets"]]
        if round_ == 1:  # a served ticket and one still to come both change
            fake.add_ticket(ticket(5) | {"updated_at": int(time.time())})
            fake.add_ticket(ticket(45) | {"updated_at": int(time.time())})
            fake.add_ticket(ticket("zz-new"))  # a new ticket, after every numeric id
        if "next" not in data["pages"]:
            break
        paging = data["pages"]["next"]
    assert ids == [str(n) for n in range(1, N + 1)] + ["zz-new"]


async def test_a_ticket_added_before_the_cursor_is_not_served(
    fake: FakeIntercom, session: aiohttp.ClientSession
) -> None:
    query = {"field": "id", "operator": "!=", "value": "x"}
    _, _, first = await search(session, fake, {"query": query, "pagination": {"per_page": 30}})
    fake.add_ticket(ticket("0"))  # "0" is not a generated id: it sorts after the numbers
    fake.add_ticket(ticket(10) | {"id": "10"})  # replaced, already served
    paging = {**first["pages"]["next"], "per_page": 150}
    _, _, second = await search(session, fake, {"query": query, "pagination": paging})
    assert [t["id"] for t in second["tickets"]] == [str(n) for n in range(31, N + 1)] + ["0"]
    assert second["total_count"] == N + 1


# -- what is refused ------------------------------------------------------------------------


@pytest.mark.parametrize("version", [None, "1.4", "2.0", "2.9"])
async def test_search_needs_version_2_10(
    fake: FakeIntercom, session: aiohttp.ClientSession, version: str | None
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if version is not None:
        headers["Intercom-Version"] = version
    query = {"field": "id", "operator": "=", "value": "1"}
    status, answer_headers, data = await search(session, fake, {"query": query}, headers)
    assert status == 400
    assert data == {
        "type": "error.list",
        "request_id": answer_headers["X-Request-Id"],
        "errors": [
            {
                "code": "intercom_version_invalid",
                "message": "Requested resource is not available in current API version.",
            }
        ],
    }


@pytest.mark.parametrize("version", ["2.10", "2.11", "2.14", "2.16", "3.0", "Unstable", "Preview"])
async def test_search_in_later_versions(
    fake: FakeIntercom, session: aiohttp.ClientSession, version: str
) -> None:
    query = {"field": "id", "operator": "=", "value": "3"}
    headers = {**HEADERS, "Intercom-Version": version}
    status, _, data = await search(session, fake, {"query": query}, headers)
    assert status == 200
    assert data["tickets"] == [ticket(3, version)]


def _filters(count: int) -> list[dict[str, Any]]:
    return [{"field": "id", "operator": "=", "value": str(n)} for n in range(count)]


BAD = {
    "no query": {"pagination": {"per_page": 5}},
    "not an object": ["query"],
    "unknown field": {"query": {"field": "source.body", "operator": "=", "value": "x"}},
    "unknown operator": {"query": {"field": "id", "operator": "==", "value": "1"}},
    "> on a string": {"query": {"field": "title", "operator": ">", "value": "a"}},
    "~ on a date": {"query": {"field": "created_at", "operator": "~", "value": "1"}},
    "a word for a date": {"query": {"field": "created_at", "operator": ">", "value": "foobar"}},
    "a string for a boolean": {"query": {"field": "open", "operator": "=", "value": "yes"}},
    "IN without an array": {"query": {"field": "id", "operator": "IN", "value": "1"}},
    "no value": {"query": {"field": "id", "operator": "="}},
    "empty group": {"query": {"operator": "AND", "value": []}},
    "16 in a group": {"query": {"operator": "OR", "value": _filters(16)}},
    "3 levels": {
        "query": {
            "operator": "AND",
            "value": [{"operator": "OR", "value": [{"operator": "AND", "value": _filters(2)}]}],
        }
    },
    "a bad cursor": {
        "query": _filters(1)[0],
        "pagination": {"starting_after": "not-a-cursor"},
    },
    "pagination not an object": {"query": _filters(1)[0], "pagination": 5},
}


@pytest.mark.parametrize("body", list(BAD.values()), ids=list(BAD))
async def test_malformed_queries_get_400(
    fake: FakeIntercom, session: aiohttp.ClientSession, body: object
) -> None:
    status, headers, data = await search(session, fake, body)
    assert status == 400
    assert set(data) == {"type", "request_id", "errors"}
    assert data["type"] == "error.list"
    assert data["request_id"] == headers["X-Request-Id"]
    [error] = data["errors"]
    assert error["code"] == "parameter_invalid"
    assert error["message"]


async def test_the_limits_themselves_are_allowed(
    fake: FakeIntercom, session: aiohttp.ClientSession
) -> None:
    fifteen = {"operator": "OR", "value": _filters(15)}
    two_levels = {"operator": "AND", "value": [fifteen, {"operator": "OR", "value": _filters(15)}]}
    for query in (fifteen, two_levels):
        status, _, data = await search(session, fake, {"query": query})
        assert status == 200
        assert [t["id"] for t in data["tickets"]] == [str(n) for n in range(1, 15)]


async def test_a_body_that_is_not_json(fake: FakeIntercom, session: aiohttp.ClientSession) -> None:
    async with session.post(
        f"{fake.base_url}/tickets/search", data=b"{", headers=HEADERS
    ) as response:
        assert response.status == 400
        assert (await response.json())["errors"][0]["code"] == "parameter_invalid"


# -- the same treatment as every route ------------------------------------------------------


async def test_auth_and_rate_limit_apply(session: aiohttp.ClientSession) -> None:
    query = {"query": {"field": "id", "operator": "=", "value": "1"}}
    async with FakeIntercom(token=TOKEN, tickets=3, rate_limit=2) as fake:
        answers = [
            await search(session, fake, query),
            await search(session, fake, query, {"Intercom-Version": "2.10"}),
            await search(session, fake, query),
        ]
    assert [status for status, _, _ in answers] == [200, 401, 429]
    assert [h["X-RateLimit-Remaining"] for _, h, _ in answers] == ["1", "0", "0"]
    assert answers[2][2]["errors"][0]["code"] == "rate_limit_exceeded"
    for _, headers, _ in answers:
        assert headers["X-RateLimit-Limit"] == "2"
        uuid.UUID(headers["X-Request-Id"])


async def test_a_429_mid_pagination_resumes_from_the_cursor(
    fake: FakeIntercom, session: aiohttp.ClientSession
) -> None:
    query = {"field": "updated_at", "operator": ">", "value": 0}
    _, _, first = await search(session, fake, {"query": query, "pagination": {"per_page": 25}})
    fake.inject_route("POST /tickets/search", Fault.status(429))
    fake.inject_route("POST /tickets/search", Fault.status(503))
    again = {"query": query, "pagination": first["pages"]["next"]}
    status, headers, data = await search(session, fake, again)
    assert status == 429
    assert data["errors"][0]["code"] == "rate_limit_exceeded"
    assert re.fullmatch(r"\d+", headers["X-RateLimit-Reset"])
    assert (await search(session, fake, again))[0] == 503
    status, _, second = await search(session, fake, again)
    assert status == 200
    assert [t["id"] for t in second["tickets"]] == [str(n) for n in range(26, 51)]
    assert [(r.route, r.status) for r in fake.requests] == [
        ("POST /tickets/search", s) for s in (200, 429, 503, 200)
    ]
    sent = [json.loads(r.body)["pagination"].get("starting_after") for r in fake.requests]
    assert sent[1:] == [first["pages"]["next"]["starting_after"]] * 3


async def test_a_dropped_connection_mid_pagination(
    fake: FakeIntercom, session: aiohttp.ClientSession
) -> None:
    query = {"field": "updated_at", "operator": ">", "value": 0}
    _, _, first = await search(session, fake, {"query": query, "pagination": {"per_page": 25}})
    fake.inject_route("POST /tickets/search", Fault.reset())
    fake.inject_route("POST /tickets/search", Fault.truncate())
    again = {"query": query, "pagination": first["pages"]["next"]}
    with pytest.raises(aiohttp.ServerDisconnectedError):  # aiohttp sends no POST twice
        await search(session, fake, again)
    with pytest.raises(aiohttp.ClientPayloadError):
        await search(session, fake, again)
    status, _, second = await search(session, fake, again)
    assert status == 200
    assert [t["id"] for t in second["tickets"]] == [str(n) for n in range(26, 51)]
    assert [r.status for r in fake.requests] == [200, None, None, 200]


async def test_faults_for_one_ticket_leave_search_alone(
    fake: FakeIntercom, session: aiohttp.ClientSession
) -> None:
    fake.inject("1", Fault.status(500), times=None)
    fake.inject_route("GET /tickets/{id}", Fault.status(503))
    status, _, data = await search(
        session, fake, {"query": {"field": "id", "operator": "=", "value": "1"}}
    )
    assert status == 200
    assert data["total_count"] == 1
    async with session.get(f"{fake.base_url}/tickets/2", headers=HEADERS) as response:
        assert response.status == 503  # the route's fault, for any id
    async with session.get(f"{fake.base_url}/tickets/2", headers=HEADERS) as response:
        assert response.status == 200
    with pytest.raises(ValueError, match="unknown route"):
        fake.inject_route("DELETE /tickets/{id}", Fault.reset())


async def test_random_faults_reach_search(
    fake: FakeIntercom, session: aiohttp.ClientSession
) -> None:
    fake.random_faults(1.0, kinds=[Fault.status(502)])
    status, _, _ = await search(
        session, fake, {"query": {"field": "id", "operator": "=", "value": "1"}}
    )
    assert status == 502


async def test_the_log_keeps_the_body_without_the_token(
    fake: FakeIntercom, session: aiohttp.ClientSession
) -> None:
    body = {"query": {"field": "title", "operator": "~", "value": TOKEN}}
    await search(session, fake, body)
    [record] = fake.requests
    assert record.method == "POST"
    assert record.path == "/tickets/search"
    assert record.ticket_id is None
    assert record.route == "POST /tickets/search"
    assert TOKEN not in record.body
    assert json.loads(record.body)["query"]["value"] == "<redacted>"


# -- the fixtures ---------------------------------------------------------------------------


async def test_the_async_fixture_searches(
    intercom_fake: FakeIntercom, session: aiohttp.ClientSession
) -> None:
    headers = {"Authorization": "Bearer test-token", "Intercom-Version": "2.10"}
    query = {"query": {"field": "id", "operator": "IN", "value": ["2", "10", "11"]}}
    async with session.post(
        f"{intercom_fake.base_url}/tickets/search", json=query, headers=headers
    ) as r:
        data = await r.json()
    assert [t["id"] for t in data["tickets"]] == ["2", "10"]  # tickets "1" to "10"


def test_the_thread_fixture_searches(intercom_fake_thread: FakeIntercom) -> None:
    async def ids() -> list[str]:
        headers = {"Authorization": "Bearer test-token", "Intercom-Version": "2.10"}
        query = {
            "query": {"field": "updated_at", "operator": ">", "value": 0},
            "pagination": {"per_page": 4},
        }
        async with (
            aiohttp.ClientSession() as client_session,
            client_session.post(
                f"{intercom_fake_thread.base_url}/tickets/search", json=query, headers=headers
            ) as response,
        ):
            return [t["id"] for t in (await response.json())["tickets"]]

    assert asyncio.run(ids()) == ["1", "2", "3", "4"]


# -- the facts search reads -----------------------------------------------------------------


@pytest.mark.parametrize("version", ["2.10", "2.12", "2.13", "2.16"])
def test_plans_and_tickets_agree(version: str) -> None:
    """What search reads of a generated ticket (drawn without its parts) is in its JSON."""
    for n in range(1, 80):
        for parts in (0, 1, 4):
            data = generate_ticket(str(n), parts=parts, seed="s", version=version)
            assert Facts.of(str(n), data) == plan_ticket(str(n), parts=parts, seed="s").facts()
