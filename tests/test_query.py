"""Search queries checked before sending, the helpers that build them, the request body and the
version rule; and the fake Intercom's agreement with all of it, over real connections."""

from __future__ import annotations

import json
import pickle
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from intercom_async import (
    Filter,
    IntercomError,
    InvalidQueryError,
    UnsupportedVersionError,
    all_of,
    any_of,
    updated_since,
    where,
)
from intercom_async._query import MAX_DEPTH, MAX_GROUP, check_query
from intercom_async._search_request import MAX_PER_PAGE, SEARCH_PATH, search_body
from intercom_async._versions import SEARCH_SINCE, is_lenient, require_version
from intercom_async.testing import FakeIntercom, generate_ticket
from intercom_async.testing import _query as fake_query

from .conftest import load

TOKEN = "s3cret-T0ken-for-queries"
SPEC_DIR = Path(__file__).parents[2] / "shared" / "spec"
EXAMPLES: dict[str, Any] = load("search_examples.json")
SEARCH_VERSIONS = tuple(EXAMPLES)  # 2.10 to 2.16
REQUEST_EXAMPLES = [
    pytest.param(body, id=f"{version}-{name}")
    for version, examples in EXAMPLES.items()
    for name, body in examples["requests"].items()
]


def refusal(query: object) -> InvalidQueryError:
    with pytest.raises(InvalidQueryError) as info:
        check_query(query)
    return info.value


def f(field: Any = "state", operator: Any = "=", value: Any = "submitted") -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


def nest(depth: int) -> dict[str, Any]:
    """A query of ``depth`` groups inside one another."""
    query: dict[str, Any] = f()
    for _ in range(depth):
        query = {"operator": "AND", "value": [query]}
    return query


# -- the descriptions' examples ------------------------------------------------------------


@pytest.mark.parametrize("version", SEARCH_VERSIONS)
def test_the_example_copy_matches_the_spec(version: str) -> None:
    spec = SPEC_DIR / f"intercom-openapi-{version}.yaml"
    if not spec.exists():
        pytest.skip("../shared/spec is not beside this checkout")
    yaml = pytest.importorskip("yaml")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    operation = yaml.load(spec.read_text(encoding="utf-8"), Loader=loader)["paths"][
        "/tickets/search"
    ]["post"]
    requests = operation["requestBody"]["content"]["application/json"]["examples"]
    responses = operation["responses"]["200"]["content"]["application/json"]["examples"]
    assert {k: e["value"] for k, e in requests.items()} == EXAMPLES[version]["requests"]
    assert {k: e["value"] for k, e in responses.items()} == EXAMPLES[version]["responses"]


@pytest.mark.parametrize("body", REQUEST_EXAMPLES)
def test_every_example_of_the_descriptions_is_a_valid_query(body: dict[str, Any]) -> None:
    assert check_query(body["query"]) == body["query"]
    per_page = body["pagination"]["per_page"]
    assert search_body(body["query"], per_page=per_page) == body


@pytest.mark.parametrize("version", SEARCH_VERSIONS)
async def test_the_fake_accepts_every_example(version: str) -> None:
    tickets = [generate_ticket(str(n), parts=1, version=version) for n in range(1, 4)]
    async with (
        FakeIntercom(token=TOKEN, tickets=tickets) as fake,
        aiohttp.ClientSession() as session,
    ):
        for name, body in EXAMPLES[version]["requests"].items():
            async with session.post(
                f"{fake.base_url}{SEARCH_PATH}",
                json=search_body(body["query"], per_page=body["pagination"]["per_page"]),
                headers={"Authorization": f"Bearer {TOKEN}", "Intercom-Version": version},
            ) as response:
                data = await response.json()
            assert response.status == 200, (name, data)
            assert data["type"] == "ticket.list"
            assert data["total_count"] == 3  # every ticket was created after 2011


# -- what is refused, and where ------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "path", "words"),
    [
        ([f()], "query", "not an array"),
        ("state = submitted", "query", "not a string"),
        ({}, "query", "expected a filter"),
        ({"operator": "AND"}, "query.value", "non-empty array"),
        ({"operator": "AND", "value": []}, "query.value", "non-empty array"),
        ({"operator": "AND", "value": f()}, "query.value", "non-empty array"),
        ({"operator": "and", "value": [f()]}, "query.operator", "written 'AND'"),
        ({"operator": "XOR", "value": [f()]}, "query", "expected a filter"),
        ({"operator": "OR", "value": [f()], "field": "state"}, "query.operator", "no field"),
        ({"operator": "OR", "value": [f()], "limit": 3}, "query.limit", "not a key of a group"),
        ({**f(), "fields": "x"}, "query.fields", "not a key of a filter"),
        ({"field": "state", "operator": "="}, "query", "needs a value"),
        (f(field=""), "query.field", "field name"),
        (f(field=3), "query.field", "field name"),
        (f(field="ticket_attribute."), "query.field", "field name"),
        (f(operator="=="), "query.operator", "not an operator"),
        (f(operator=None), "query.operator", "not an operator"),
        (f(operator=">"), "query.operator", "> cannot be used on state, a string field"),
        (f("created_at", "~", "2024"), "query.operator", "a date field"),
        (f("open", ">", 1), "query.operator", "a boolean field"),
        (f(operator="IN"), "query.value", "IN takes a non-empty array"),
        (f(operator="NIN", value=[]), "query.value", "NIN takes a non-empty array"),
        (f(operator="IN", value=["submitted", None]), "query.value[1]", "not null"),
        (f(operator="IN", value=["submitted", ["x"]]), "query.value[1]", "an array"),
        (f("created_at", ">", "yesterday"), "query.value", "number or a timestamp"),
        (f("created_at", ">", 1.5), "query.value", "number or a timestamp"),
        (f("created_at", "=", True), "query.value", "Unix timestamp"),
        (f("created_at", "=", "-5"), "query.value", "Unix timestamp"),
        (f("ticket_attribute.7", "<", "3"), "query.value", "number or a timestamp"),
        (f("ticket_attribute.7", "<", True), "query.value", "a boolean"),
        (f("ticket_attribute.7", ">", None), "query.value", "not null"),
        (f("ticket_attribute.7", "=", float("nan")), "query.value", "JSON"),
        (f("ticket_attribute.7", "=", {"a": 1}), "query.value", "a string, a number"),
        (f("title", "~", 5), "query.value", "~ takes a string"),
        (f("title", "^", None), "query.value", "^ takes a string"),
        (f("open", "=", "yes"), "query.value", "true or false"),
        (f("open", "=", 1), "query.value", "true or false"),
        (f("id", "=", True), "query.value", "takes a string"),
        (f("id", "=", 1.5), "query.value", "takes a string"),
        (f("id", "=", datetime(2026, 1, 1, tzinfo=UTC)), "query.value", "no datetime"),
        (f("updated_at", ">", datetime(2026, 1, 1)), "query.value", "naive datetime"),
        (
            {"operator": "OR", "value": [f(), {"operator": "AND", "value": [f(), f("x", "!")]}]},
            "query.value[1].value[1].operator",
            "not an operator",
        ),
        (
            {"operator": "OR", "value": [f(), f(), f("open", "IN", [True, "no"])]},
            "query.value[2].value[1]",
            "true or false",
        ),
    ],
)
def test_a_malformed_query_names_the_path_of_what_is_wrong(
    query: object, path: str, words: str
) -> None:
    error = refusal(query)
    assert error.path == path
    assert str(error).startswith(f"{path}: ")
    assert words in str(error)


def test_groups_nest_two_deep_the_outermost_counted() -> None:
    assert check_query(nest(MAX_DEPTH)) == nest(MAX_DEPTH)
    error = refusal(nest(MAX_DEPTH + 1))
    assert error.path == "query.value[0].value[0]"
    assert f"at most {MAX_DEPTH} deep" in str(error)


def test_a_group_holds_fifteen_queries() -> None:
    full = {"operator": "OR", "value": [f(value=str(n)) for n in range(MAX_GROUP)]}
    assert check_query(full) == full
    error = refusal({"operator": "OR", "value": [f()] * (MAX_GROUP + 1)})
    assert error.path == "query.value"
    assert "16 queries in one OR group; at most 15" in str(error)


def test_the_limits_are_the_fake_intercom_s() -> None:
    assert (MAX_DEPTH, MAX_GROUP) == (fake_query.MAX_DEPTH, fake_query.MAX_GROUP) == (2, 15)


AGREED = [
    nest(0),
    nest(1),
    nest(2),
    nest(3),
    {"operator": "AND", "value": [f()] * 15},
    {"operator": "AND", "value": [f()] * 16},
    {"operator": "OR", "value": []},
    f("created_at", ">", "1306054154"),
    f("created_at", ">=", 1306054154),
    f("created_at", "<=", 1.5),
    f("created_at", "~", "13"),
    f("updated_at", "IN", [1, 2]),
    f("updated_at", "IN", []),
    f("snoozed_until", "=", None),
    f("snoozed_until", ">", None),
    f("open", "=", True),
    f("open", "!=", "false"),
    f("open", "=", "no"),
    f("open", "<", 1),
    f("state", "^", "sub"),
    f("state", ">", "a"),
    f("title", "NIN", ["a", "b"]),
    f("category", "=", "request"),
    f("ticket_attribute.12", ">", 3.5),
    f("ticket_attribute.12", "<", "3"),
    f("ticket_attribute.12", "$", "x"),
    f("ticket_attribute.12", "IN", ["x", 1, True]),
    f(operator="=="),
    {"field": "state", "operator": "="},
]


@pytest.mark.parametrize("query", AGREED)
def test_the_client_refuses_what_the_fake_refuses(query: dict[str, Any]) -> None:
    try:
        fake_query.compile_query(query)
    except fake_query.QueryError:
        fake_accepts = False
    else:
        fake_accepts = True
    try:
        check_query(query)
    except InvalidQueryError:
        client_accepts = False
    else:
        client_accepts = True
    assert client_accepts == fake_accepts


def test_fields_outside_the_table_get_the_operator_and_value_checks_only() -> None:
    assert check_query(f("ticket_attribute.12", "~", "x")) == f("ticket_attribute.12", "~", "x")
    assert check_query(f("is_shared", "=", False)) == f("is_shared", "=", False)
    assert "a boolean" in str(refusal(f("is_shared", ">", False)))


def test_the_query_is_copied_not_changed() -> None:
    when = datetime(2026, 11, 1, tzinfo=UTC)
    query: dict[str, Any] = {
        "operator": "AND",
        "value": (f("updated_at", ">", when), f("id", "IN", ("1", "2"))),
    }
    checked = check_query(query)
    assert checked == {
        "operator": "AND",
        "value": [f("updated_at", ">", int(when.timestamp())), f("id", "IN", ["1", "2"])],
    }
    assert query["value"][0]["value"] is when  # the caller's query is left as it was
    json.dumps(checked)  # JSON-ready


# -- datetimes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "seconds"),
    [(">", 1000), ("<=", 1000), ("=", 1000), ("<", 1001), (">=", 1001)],
)
def test_a_datetime_becomes_seconds_that_compare_the_same(operator: str, seconds: int) -> None:
    when = datetime.fromtimestamp(1000.25, UTC)
    assert check_query(f("updated_at", operator, when))["value"] == seconds


def test_a_datetime_in_any_zone_is_the_same_instant() -> None:
    tokyo = datetime(2026, 11, 1, 9, tzinfo=timezone(timedelta(hours=9)))
    assert check_query(f("created_at", "=", tokyo))["value"] == int(
        datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    )
    assert check_query(f("created_at", "IN", [tokyo]))["value"] == [1793491200]


# -- the helpers ---------------------------------------------------------------------------


def test_the_helpers_build_the_dict() -> None:
    since = datetime(2026, 11, 1, tzinfo=UTC)
    query = all_of(
        where("state", "IN", ["submitted", "in_progress"]),
        any_of(where("title", "~", "refund"), where("ticket_attribute.7", "=", True)),
        updated_since(since),
    )
    assert query == {
        "operator": "AND",
        "value": [
            f("state", "IN", ["submitted", "in_progress"]),
            {
                "operator": "OR",
                "value": [f("title", "~", "refund"), f("ticket_attribute.7", "=", True)],
            },
            f("updated_at", ">", int(since.timestamp()) - 1),
        ],
    }
    plain = {"field": "open", "operator": "=", "value": True}  # a dict works alongside
    assert any_of(plain, query["value"][0]) == {
        "operator": "OR",
        "value": [plain, query["value"][0]],
    }


def test_the_helpers_refuse_at_once() -> None:
    with pytest.raises(InvalidQueryError, match="cannot be used on title"):
        where("title", ">", 3)
    with pytest.raises(InvalidQueryError, match="at most 2 deep"):
        all_of(any_of(all_of(where("id", "=", "1"))))
    with pytest.raises(InvalidQueryError, match="non-empty array"):
        any_of()
    with pytest.raises(InvalidQueryError, match="naive datetime"):
        updated_since(datetime(2026, 11, 1))
    with pytest.raises(InvalidQueryError, match="aware datetime or Unix seconds"):
        updated_since("2026-11-01")  # type: ignore[arg-type]


def test_updated_since_takes_seconds_or_a_datetime() -> None:
    at: Filter = updated_since(1_790_000_000)
    assert at == f("updated_at", ">", 1_789_999_999)
    assert updated_since(datetime.fromtimestamp(1_790_000_000.9, UTC)) == at


@pytest_asyncio.fixture
async def stamped() -> AsyncIterator[tuple[FakeIntercom, aiohttp.ClientSession]]:
    """A fake with tickets updated at 1000, 1001 ... 1009."""
    tickets = []
    for n in range(10):
        ticket = generate_ticket(str(n + 1), parts=0, version="2.10")
        tickets.append({**ticket, "updated_at": 1000 + n})
    async with (
        FakeIntercom(token=TOKEN, tickets=tickets) as fake,
        aiohttp.ClientSession() as session,
    ):
        yield fake, session


async def found(fake: FakeIntercom, session: aiohttp.ClientSession, query: Any) -> list[int]:
    async with session.post(
        f"{fake.base_url}{SEARCH_PATH}",
        json=search_body(query, per_page=MAX_PER_PAGE),
        headers={"Authorization": f"Bearer {TOKEN}", "Intercom-Version": "2.16"},
    ) as response:
        data = await response.json()
    assert response.status == 200, data
    return sorted(ticket["updated_at"] for ticket in data["tickets"])


async def test_updated_since_finds_the_tickets_updated_at_or_after(
    stamped: tuple[FakeIntercom, aiohttp.ClientSession],
) -> None:
    fake, session = stamped
    assert await found(fake, session, updated_since(1005)) == [1005, 1006, 1007, 1008, 1009]
    aware = datetime.fromtimestamp(1007.5, UTC)
    assert await found(fake, session, updated_since(aware)) == [1007, 1008, 1009]
    half = datetime.fromtimestamp(1002.5, UTC)
    assert await found(fake, session, where("updated_at", "<", half)) == [1000, 1001, 1002]
    assert await found(fake, session, where("updated_at", ">=", half)) == list(range(1003, 1010))


# -- the error -----------------------------------------------------------------------------


def test_invalid_query_error_is_a_value_error_that_pickles() -> None:
    error = refusal(f(operator="=="))
    assert isinstance(error, IntercomError)
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.path) == (str(error), error.path)
    assert error.to_dict()["error"] == "InvalidQueryError"


def test_a_huge_value_makes_a_short_message() -> None:
    error = refusal(f("title", "~", 10**300))
    assert len(str(error)) < 300
    assert "a number" in str(error)


# -- the body ------------------------------------------------------------------------------


def test_the_first_page_has_no_cursor_and_the_next_ones_do() -> None:
    assert search_body(f()) == {"query": f(), "pagination": {"per_page": 50}}
    assert search_body(f(), per_page=150, starting_after="WzIsIjEwIl0") == {
        "query": f(),
        "pagination": {"per_page": 150, "starting_after": "WzIsIjEwIl0"},
    }


@pytest.mark.parametrize("per_page", [0, -1, MAX_PER_PAGE + 1])
def test_per_page_is_from_1_to_150(per_page: int) -> None:
    with pytest.raises(ValueError, match="per_page must be from 1 to 150"):
        search_body(f(), per_page=per_page)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"per_page": 5.0}, TypeError),
        ({"per_page": True}, TypeError),
        ({"starting_after": 5}, TypeError),
        ({"starting_after": ""}, ValueError),
    ],
)
def test_the_body_refuses_wrong_arguments(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        search_body(f(), **kwargs)


def test_the_body_checks_the_query() -> None:
    with pytest.raises(InvalidQueryError, match=r"^query.operator: "):
        search_body(f(operator="=="))


# -- the version rule ----------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2.10", "2.11", "2.16", "2.100", "3.0", "Preview", "Unstable"])
def test_search_is_allowed_from_2_10(version: str) -> None:
    require_version(version, SEARCH_SINCE, "POST /tickets/search")


@pytest.mark.parametrize("version", ["2.9", "2.1", "1.4", "1.0"])
def test_an_older_version_is_refused_naming_the_one_to_use(version: str) -> None:
    with pytest.raises(UnsupportedVersionError) as info:
        require_version(version, SEARCH_SINCE, "POST /tickets/search")
    assert str(info.value) == (
        f"POST /tickets/search needs Intercom-Version 2.10 or later; this client sends "
        f'{version}: IntercomClient(version="2.10")'
    )
    assert (info.value.version, info.value.since) == (version, "2.10")
    assert isinstance(info.value, IntercomError)
    assert isinstance(info.value, ValueError)


def test_preview_and_unstable_are_parsed_leniently() -> None:
    assert is_lenient("Preview")
    assert is_lenient("Unstable")
    assert not is_lenient("2.16")
    assert not is_lenient("2.9")
