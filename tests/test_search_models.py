"""Pages of search results (``TicketList``) structured and written back, strictly and leniently:
the descriptions' examples, pages drawn from each version's ticket schema, and the fake
Intercom's own pages fetched over real connections."""

from __future__ import annotations

import copy
from typing import Any

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intercom_async import (
    CursorPages,
    PageCursor,
    Ticket,
    TicketList,
    TicketPart,
    TicketState,
    to_dict,
)
from intercom_async._convert import StructureError, error_path, structure
from intercom_async._search_request import SEARCH_PATH, search_body
from intercom_async.testing import FakeIntercom, generate_ticket

from .conftest import drop_nulls, load
from .schema_strategies import tickets

TOKEN = "s3cret-T0ken-for-pages"
EXAMPLES: dict[str, Any] = load("search_examples.json")
SEARCH_VERSIONS = tuple(EXAMPLES)  # 2.10 to 2.16
RESPONSE_EXAMPLES = [
    pytest.param(body, id=f"{version}-{name}")
    for version, examples in EXAMPLES.items()
    for name, body in examples["responses"].items()
]


def page(*tickets: dict[str, Any], cursor: str | None = None) -> dict[str, Any]:
    pages: dict[str, Any] = {"type": "pages", "page": 1, "per_page": 2, "total_pages": 3}
    if cursor is not None:
        pages["next"] = {"per_page": 2, "starting_after": cursor}
    return {"type": "ticket.list", "tickets": list(tickets), "total_count": 5, "pages": pages}


def failure(data: Any, *, lenient: bool = False) -> tuple[str, str]:
    with pytest.raises(StructureError) as info:
        structure(data, TicketList, lenient=lenient)
    return error_path(info.value)


# -- strict ----------------------------------------------------------------------------------


@pytest.mark.parametrize("body", RESPONSE_EXAMPLES)
def test_every_answer_example_structures_and_round_trips(body: dict[str, Any]) -> None:
    result = structure(body, TicketList)
    assert isinstance(result, TicketList)
    assert result.total_count == len(result) == 1
    ticket = next(iter(result))
    assert isinstance(ticket, Ticket)
    assert ticket.state is TicketState.SUBMITTED
    assert ticket.parts and isinstance(ticket.parts[0], TicketPart)
    assert result.pages == CursorPages(type="pages", page=1, per_page=5, total_pages=1)
    assert result.next_cursor is None  # the last page: no "next"
    assert to_dict(result) == drop_nulls(body)


def test_a_page_with_a_next_page_gives_its_cursor() -> None:
    data = page(generate_ticket("1", parts=0, version="2.16"), cursor="WzIsIjEiXQ")
    result = structure(data, TicketList)
    assert result.pages is not None
    assert result.pages.next == PageCursor(per_page=2, starting_after="WzIsIjEiXQ")
    assert result.next_cursor == result.pages.next_cursor == "WzIsIjEiXQ"
    assert to_dict(result) == drop_nulls(data)


def test_a_result_without_parts_or_anything_else_structures() -> None:
    bare = generate_ticket("7", parts=3, version="2.12")
    del bare["ticket_parts"]
    result = structure(page(bare, {"type": "ticket", "id": "8"}), TicketList)
    assert [t.id for t in result] == ["7", "8"]
    assert all(t.ticket_parts is None and t.parts == () for t in result)
    assert structure({}, TicketList) == TicketList()
    assert len(TicketList()) == 0 and TicketList().next_cursor is None


def test_unknown_keys_go_to_extra_at_every_level() -> None:
    data = page({"type": "ticket", "id": "1", "x_new": 1}, cursor="c")
    data["x_facets"] = {"state": 3}
    data["pages"]["x_total_pages_exact"] = True
    data["pages"]["next"]["x_hint"] = "h"
    result = structure(data, TicketList)
    assert result.extra == {"x_facets": {"state": 3}}
    assert result.pages is not None and result.pages.extra == {"x_total_pages_exact": True}
    assert result.pages.next is not None and result.pages.next.extra == {"x_hint": "h"}
    assert next(iter(result)).extra == {"x_new": 1}
    assert to_dict(result) == data


@pytest.mark.parametrize(
    ("mutate", "path", "message"),
    [
        (lambda d: d.update(type="ticket"), "$.type", '"ticket.list"'),
        (lambda d: d.update(tickets={}), "$.tickets", "array"),
        (lambda d: d["tickets"].append("9"), "$.tickets[1]", "an object"),
        (lambda d: d["tickets"][0].update(id=9), "$.tickets[0].id", "string"),
        (lambda d: d.update(total_count="5"), "$.total_count", "integer"),
        (lambda d: d["pages"].update(page=1.0), "$.pages.page", "integer"),
        (lambda d: d["pages"]["next"].update(starting_after=3), "$.pages.next.starting_after", ""),
        (lambda d: d["pages"].update(next="c"), "$.pages.next", "an object"),
    ],
)
def test_a_wrong_page_names_the_json_path(mutate: Any, path: str, message: str) -> None:
    data = page({"type": "ticket", "id": "1"}, cursor="c")
    mutate(data)
    where, what = failure(data)
    assert where == path
    assert message in what


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_pages_of_schema_drawn_tickets_round_trip(data: st.DataObject) -> None:
    version = data.draw(st.sampled_from(SEARCH_VERSIONS))
    drawn = data.draw(st.lists(tickets(version), max_size=3))
    body = page(*drawn, cursor=data.draw(st.none() | st.text(min_size=1, max_size=12)))
    result = structure(body, TicketList)
    assert len(result) == len(drawn)
    assert to_dict(result) == drop_nulls(body)


# -- the fake's own pages, over real connections ---------------------------------------------


async def pages_of(version: str, per_page: int) -> list[dict[str, Any]]:
    """Every page of a search of the fake for tickets with an id other than 3."""
    query = {"field": "id", "operator": "!=", "value": "3"}
    found: list[dict[str, Any]] = []
    cursor = None
    async with (
        FakeIntercom(token=TOKEN, tickets=11, parts=2, seed=5) as fake,
        aiohttp.ClientSession() as session,
    ):
        while True:
            async with session.post(
                f"{fake.base_url}{SEARCH_PATH}",
                json=search_body(query, per_page=per_page, starting_after=cursor),
                headers={"Authorization": f"Bearer {TOKEN}", "Intercom-Version": version},
            ) as response:
                assert response.status == 200
                found.append(await response.json())
            cursor = found[-1]["pages"].get("next", {}).get("starting_after")
            if cursor is None:
                return found


@pytest.mark.parametrize("version", [*SEARCH_VERSIONS, "Preview", "Unstable"])
async def test_the_fake_s_pages_structure_and_round_trip(version: str) -> None:
    answers = await pages_of(version, per_page=4)
    results = [structure(answer, TicketList) for answer in answers]
    assert [to_dict(result) for result in results] == [drop_nulls(a) for a in answers]
    ids = [ticket.id for result in results for ticket in result]
    assert ids == [str(n) for n in range(1, 12) if n != 3]
    assert [r.pages.page for r in results if r.pages] == [1, 2, 3]
    assert all(r.total_count == 10 for r in results)
    assert [r.next_cursor is None for r in results] == [False, False, True]
    first = next(iter(results[0]))
    assert first == structure(answers[0]["tickets"][0], Ticket)  # a ticket like get's


# -- lenient (Preview, Unstable) -------------------------------------------------------------


def odd_page() -> dict[str, Any]:
    """A page whose known fields have types no description gives them."""
    first = generate_ticket("1", parts=3, version="2.16")
    first["created_at"] = "2026-11-01T00:00:00Z"
    first["ticket_parts"]["ticket_parts"][1]["redacted"] = "no"
    first["ticket_parts"]["ticket_parts"][2]["author"] = "admin:5"
    first["ticket_type"]["ticket_type_attributes"] = {
        "type": "list",
        "data": [{"type": "ticket_type_attribute", "id": 12, "name": "Priority"}],
    }
    second = generate_ticket("2", parts=1, version="2.16")
    second["open"] = 1
    second["contacts"] = "none"
    data = page(first, second, cursor="WzIsIjIiXQ")
    data["total_count"] = "many"
    return data


def test_lenient_moves_each_odd_field_into_the_extra_of_its_object() -> None:
    data = odd_page()
    sent = copy.deepcopy(data)
    assert failure(data)[0] == "$.tickets[0].ticket_type.ticket_type_attributes.data[0].id"
    result = structure(data, TicketList, lenient=True)
    assert data == sent
    assert result.extra == {"total_count": "many"} and result.total_count is None
    first, second = result
    assert first.created_at is None and first.extra == {"created_at": "2026-11-01T00:00:00Z"}
    parts = first.parts
    assert parts[0].extra == {} and parts[0].redacted is not None
    assert parts[1].redacted is None and parts[1].extra == {"redacted": "no"}
    assert parts[2].author is None and parts[2].extra == {"author": "admin:5"}
    assert first.ticket_type is not None and first.ticket_type.ticket_type_attributes is not None
    attributes = first.ticket_type.ticket_type_attributes
    assert attributes.items_key == "data"
    (attribute,) = attributes
    assert attribute is not None and attribute.name == "Priority"
    assert attribute.id is None and attribute.extra == {"id": 12}
    assert second.open is None and second.contacts is None
    assert second.extra == {"open": 1, "contacts": "none"}
    assert result.next_cursor == "WzIsIjIiXQ"
    assert to_dict(result) == drop_nulls(data)  # nothing lost


def test_lenient_is_the_strict_result_when_nothing_is_odd() -> None:
    data = page(generate_ticket("4", parts=2, version="2.16"), cursor="c")
    assert structure(data, TicketList, lenient=True) == structure(data, TicketList)
    ticket = generate_ticket("4", parts=2, version="2.16")
    assert structure(ticket, Ticket, lenient=True) == structure(ticket, Ticket)


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d.update(tickets={"1": {}}), "$.tickets"),
        (lambda d: d["tickets"].append(None), "$.tickets[1]"),
        (lambda d: d.update(pages=[]), "$.pages"),
        (lambda d: d["pages"].update(next="c"), "$.pages.next"),
        (lambda d: d["pages"]["next"].update(starting_after=3), "$.pages.next.starting_after"),
        (lambda d: d.update(type="conversation.list"), "$.type"),
    ],
)
def test_lenient_still_fails_on_the_tickets_and_the_cursor(mutate: Any, path: str) -> None:
    """A page that lost its tickets or its cursor to ``extra`` would end a search early."""
    data = page({"type": "ticket", "id": "1"}, cursor="c")
    mutate(data)
    assert failure(data, lenient=True)[0] == path


def test_lenient_refuses_what_is_not_an_object() -> None:
    assert failure(["not", "a", "page"], lenient=True) == ("$", "expected an object, got an array")


def test_lenient_takes_a_ticket_alone() -> None:
    ticket = generate_ticket("5", parts=1, version="2.13")
    ticket["ticket_state"] = {"type": "ticket_state", "id": 3, "category": "submitted"}
    ticket["linked_objects"] = {"type": "list", "data": [{"type": "ticket", "id": "9"}, 4]}
    result = structure(ticket, Ticket, lenient=True)
    assert result.state is TicketState.SUBMITTED
    assert result.ticket_state is not None and not isinstance(result.ticket_state, str)
    assert result.ticket_state.extra == {"id": 3}
    linked = result.linked_objects  # an array of objects with a number in it: moved whole
    assert linked is not None and linked.data is None
    assert linked.extra == {"data": [{"type": "ticket", "id": "9"}, 4]}
    assert to_dict(result) == drop_nulls(ticket)
