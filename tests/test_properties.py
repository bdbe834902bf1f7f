"""Property-based tests: every ticket the descriptions 2.9 to 2.16 allow parses into typed fields
and round-trips, through a real client and server; anything else comes out as one of our errors,
never another."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intercom_async import (
    IntercomClient,
    IntercomError,
    LinkedObject,
    LinkedObjectList,
    ResponseDecodeError,
    RetryPolicy,
    Ticket,
    TicketPart,
    TicketPartAuthor,
    TicketStateDetail,
    TicketType,
    to_dict,
)
from intercom_async._convert import structure_ticket
from intercom_async._protocol import decipher_ticket
from intercom_async.testing import FakeIntercom

from .conftest import drop_nulls, load
from .schema_strategies import JSON_VALUES, SCHEMAS_BY_VERSION, VERSIONS, check_typed, tickets

SPEC_DIR = Path(__file__).parents[2] / "shared" / "spec"
TICKET = {"$ref": "#/components/schemas/ticket"}
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeIntercom]:
    async with FakeIntercom() as server:
        yield server


@pytest.fixture
async def client(fake: FakeIntercom) -> AsyncIterator[IntercomClient]:
    async with fake.client(retry=RetryPolicy.never()) as c:
        yield c


@SETTINGS
@given(data=tickets())
async def test_valid_tickets_parse_and_round_trip(
    fake: FakeIntercom, client: IntercomClient, data: dict[str, Any]
) -> None:
    data = {**data, "id": "the-one"}
    fake.add_ticket(data)
    ticket = await client.tickets.get("the-one")
    assert to_dict(ticket) == drop_nulls(data)


@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_each_version_s_tickets_parse_into_typed_fields_and_round_trip(
    version: str, data: st.DataObject
) -> None:
    sent = data.draw(tickets(version))
    ticket = structure_ticket(sent)
    check_typed(ticket, sent, TICKET, SCHEMAS_BY_VERSION[version])
    assert to_dict(ticket) == drop_nulls(sent)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=tickets("2.16"))
async def test_a_2_16_client_gets_typed_tickets_that_round_trip(
    fake: FakeIntercom, data: dict[str, Any]
) -> None:
    data = {**data, "id": "the-one"}
    fake.add_ticket(data)
    async with fake.client(version="2.16", retry=RetryPolicy.never()) as client:
        ticket = await client.tickets.get("the-one")
    check_typed(ticket, data, TICKET, SCHEMAS_BY_VERSION["2.16"])
    assert to_dict(ticket) == drop_nulls(data)


@SETTINGS
@given(
    body=st.one_of(
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),
        tickets().map(lambda t: json.dumps({**t, "ticket_parts": "broken"}).encode()),
        tickets().map(lambda t: json.dumps({**t, "created_at": "yesterday"}).encode()),
        st.binary(max_size=64),
        st.text(max_size=64).map(str.encode),
    )
)
def test_anything_else_raises_only_our_errors(body: bytes) -> None:
    error: ResponseDecodeError | None = None
    try:
        ticket = decipher_ticket(200, {"Content-Type": "application/json"}, body)
    except ResponseDecodeError as caught:
        error = caught
    if error is None:  # an empty object, say, is a valid (if empty) ticket
        assert to_dict(ticket) == drop_nulls(json.loads(body))
    else:
        assert error.json_path.startswith("$")
        assert "\n" not in str(error)


@settings(max_examples=60, deadline=None)
@given(
    status=st.integers(100, 599),
    body=st.binary(max_size=64) | JSON_VALUES.map(lambda v: json.dumps(v).encode()),
)
def test_any_status_and_body_gives_a_ticket_or_our_error(status: int, body: bytes) -> None:
    error: IntercomError | None = None
    try:
        decipher_ticket(status, {"Content-Type": "application/json"}, body)
    except IntercomError as caught:
        error = caught
    if error is not None:
        assert str(error)
    if not 200 <= status < 300:
        assert error is not None


@pytest.mark.parametrize("version", VERSIONS)
def test_schema_copy_matches_the_spec(version: str) -> None:
    spec = SPEC_DIR / f"intercom-openapi-{version}.yaml"
    if not spec.exists():
        pytest.skip("../shared/spec is not beside this checkout")
    yaml = pytest.importorskip("yaml")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's: 10 times quicker
    description = yaml.load(spec.read_text(encoding="utf-8"), Loader=loader)
    schemas = description["components"]["schemas"]
    copy = load(f"ticket_schemas_{version.replace('.', '_')}.json")
    assert {name: schemas[name] for name in copy} == copy
    # and it holds every schema a ticket reaches (tools/ticket_schemas.py writes the copies)
    reached, stack = set(), ["ticket", "error"]
    while stack:
        name = stack.pop()
        if name not in reached:
            reached.add(name)
            stack += re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(schemas[name]))
    assert set(copy) == reached


@pytest.mark.parametrize(
    ("model", "schema"),
    [
        (Ticket, "ticket"),
        (TicketPart, "ticket_part"),
        (TicketType, "ticket_type"),
        (TicketPartAuthor, "ticket_part_author"),
        (TicketStateDetail, "ticket_state"),
        (LinkedObject, "linked_object"),
        (LinkedObjectList, "linked_object_list"),
    ],
)
def test_each_field_s_since_is_the_version_that_added_it(model: type, schema: str) -> None:
    # A field marked ``since`` (structuring skips it in objects with only 2.9 keys) is in the
    # schema of that version and every later one, and in none before.
    for field in attrs.fields(model):
        since = field.metadata.get("since")
        if since is None:
            continue
        for version in VERSIONS:
            properties = SCHEMAS_BY_VERSION[version].get(schema, {}).get("properties", {})
            newer = tuple(map(int, version.split("."))) >= tuple(map(int, since.split(".")))
            assert (field.name in properties) == newer, (model.__name__, field.name, version)
    # and every property a version adds to a schema 2.9 has is marked with a ``since``
    if schema in SCHEMAS_BY_VERSION["2.9"]:
        base = set(SCHEMAS_BY_VERSION["2.9"][schema]["properties"])
        later = {f.name for f in attrs.fields(model) if "since" in f.metadata}
        for version in VERSIONS:
            added = set(SCHEMAS_BY_VERSION[version][schema]["properties"]) - base
            assert added <= later, (model.__name__, version, added - later)
