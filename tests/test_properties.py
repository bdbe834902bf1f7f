"""Property-based tests: every ticket the 2.9 description allows parses and round-trips, through
a real client and server; anything else comes out as one of our errors, never another."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intercom_async import IntercomClient, IntercomError, ResponseDecodeError, RetryPolicy, to_dict
from intercom_async._protocol import decipher_ticket
from intercom_async.testing import FakeIntercom

from .conftest import drop_nulls, load
from .schema_strategies import JSON_VALUES, SCHEMAS, tickets

SPEC = Path(__file__).parents[2] / "shared" / "spec" / "intercom-openapi-2.9.yaml"
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


def test_schema_copy_matches_the_spec() -> None:
    if not SPEC.exists():
        pytest.skip("../shared/spec is not beside this checkout")
    yaml = pytest.importorskip("yaml")
    schemas = yaml.safe_load(SPEC.read_text(encoding="utf-8"))["components"]["schemas"]
    assert {name: schemas[name] for name in SCHEMAS} == load("ticket_schemas_2_9.json")
