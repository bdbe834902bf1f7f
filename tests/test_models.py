"""Structuring JSON into models and back, with no network."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime
from typing import Any

import pytest

from intercom_async import (
    ErrorDetail,
    Ticket,
    TicketState,
    TicketStateDetail,
    TicketTypeAttribute,
    TicketTypeAttributeList,
    to_dict,
)
from intercom_async._convert import StructureError, error_path, structure_ticket
from intercom_async.testing._data import generate_ticket

from .conftest import drop_nulls, load


def failure(data: Any) -> tuple[str, str]:
    with pytest.raises(StructureError) as info:
        structure_ticket(data)
    return error_path(info.value)


def test_openapi_example_parses_with_its_quirks() -> None:
    data = load("openapi_2_9_example.json")
    ticket = structure_ticket(data)

    assert ticket.id == "450"
    assert ticket.ticket_state is TicketState.SUBMITTED
    assert ticket.title == "attribute_value"
    assert ticket.description is None
    assert ticket.admin_assignee_id == "0"
    assert ticket.created_at == datetime(2024, 5, 29, 22, 28, 2, tzinfo=UTC)
    assert ticket.ticket_type is not None
    assert ticket.ticket_type.is_internal is False
    attributes = ticket.ticket_type.ticket_type_attributes
    assert attributes is not None
    assert attributes.items_key == "data"
    assert [a.name for a in attributes if a is not None] == [
        "_default_title_",
        "_default_description_",
    ]
    assert attributes.data == attributes.ticket_type_attributes
    first = attributes.ticket_type_attributes[0]  # type: ignore[index]
    assert first is not None
    assert first.input_options is None
    contact = ticket.contacts.contacts[0]  # type: ignore[union-attr,index]
    assert contact.type is None
    assert contact.role == "lead"
    assert contact.id == "6657abf16abd0164c24b0df6"
    part = ticket.ticket_parts.ticket_parts[0]  # type: ignore[union-attr,index]
    assert part.author is not None
    assert part.author.email == "admin438@email.com"
    assert part.attachments == ()
    assert ticket.parts == (part,)
    assert to_dict(ticket) == drop_nulls(data)


def test_reference_example_parses_every_field() -> None:
    data = load("reference_example.json")
    ticket = structure_ticket(data)

    assert ticket.ticket_id == "1390"
    assert ticket.title == "Found a bug"
    assert ticket.description == "The button's not working"
    assert ticket.is_shared is True
    assert ticket.contacts is not None
    assert ticket.contacts.contacts[0].external_id == "f3b87a2e09d514c6c2e79b9a"  # type: ignore[index]
    assert ticket.ticket_type is not None
    attributes = ticket.ticket_type.ticket_type_attributes
    assert isinstance(attributes, TicketTypeAttributeList)
    assert attributes.items_key == "ticket_type_attributes"
    attribute = attributes.ticket_type_attributes[0]  # type: ignore[index]
    assert attribute is not None
    assert attribute.input_options == {"multiline": True}
    assert attribute.ticket_type_id == 42
    part = ticket.parts[0]
    assert part.assigned_to is not None and part.assigned_to.id == "1a2b3c"
    assert part.attachments is not None and part.attachments[0].filesize == 100
    assert part.body == "<p>Okay!</p>"
    assert part.updated_at == datetime.fromtimestamp(1663597260, UTC)
    assert part.updated_at.tzinfo is UTC  # type: ignore[union-attr]
    assert to_dict(ticket) == data


def test_both_attribute_list_forms_round_trip() -> None:
    data = load("reference_example.json")
    listed = data["ticket_type"]["ticket_type_attributes"]["ticket_type_attributes"]
    live = copy.deepcopy(data)
    live["ticket_type"]["ticket_type_attributes"] = {"type": "list", "data": listed}

    schema_form = structure_ticket(data).ticket_type
    live_form = structure_ticket(live).ticket_type
    assert schema_form is not None and live_form is not None
    assert schema_form.ticket_type_attributes.ticket_type_attributes == (  # type: ignore[union-attr]
        live_form.ticket_type_attributes.ticket_type_attributes  # type: ignore[union-attr]
    )
    assert to_dict(structure_ticket(live)) == live


def test_unknown_fields_and_states_are_kept() -> None:
    data = load("reference_example.json")
    data["ticket_state"] = "escalated"
    data["brand_new_field"] = {"nested": [1, 2], "gone": None}
    data["ticket_parts"]["ticket_parts"][0]["ticket_state"] = "on_hold"
    data["ticket_parts"]["ticket_parts"][0]["reactions"] = ["+1"]
    data["contacts"]["contacts"][0]["email"] = "ada@example.com"

    ticket = structure_ticket(data)

    assert ticket.ticket_state == "escalated"
    assert not isinstance(ticket.ticket_state, TicketState)
    assert ticket.extra == {"brand_new_field": {"nested": [1, 2], "gone": None}}
    assert ticket.parts[0].ticket_state == "on_hold"
    assert ticket.parts[0].extra == {"reactions": ["+1"]}
    assert ticket.contacts.contacts[0].extra == {"email": "ada@example.com"}  # type: ignore[union-attr,index]
    assert to_dict(ticket) == drop_nulls(data)


def test_every_field_may_be_absent_or_null() -> None:
    assert structure_ticket({}) == Ticket()
    nulls = {
        "ticket_type": None,
        "contacts": {"contacts": None},
        "ticket_parts": {"ticket_parts": [{"assigned_to": None, "author": None}]},
        "ticket_attributes": None,
        "created_at": None,
    }
    ticket = structure_ticket(nulls)
    assert ticket.ticket_type is None
    assert ticket.parts[0].author is None
    assert ticket.title is None
    assert to_dict(ticket) == {"contacts": {}, "ticket_parts": {"ticket_parts": [{}]}}


def test_null_attribute_items_are_kept_as_none() -> None:
    data: dict[str, Any] = {
        "ticket_type": {"ticket_type_attributes": {"ticket_type_attributes": [None, {}]}}
    }
    ticket = structure_ticket(data)
    assert ticket.ticket_type is not None
    attributes = ticket.ticket_type.ticket_type_attributes
    assert attributes is not None
    assert list(attributes) == [None, TicketTypeAttribute()]
    assert to_dict(ticket) == data


def test_assignee_ids_keep_their_type() -> None:
    assert structure_ticket({"admin_assignee_id": "0"}).admin_assignee_id == "0"
    assert structure_ticket({"admin_assignee_id": 0}).admin_assignee_id == 0
    assert to_dict(structure_ticket({"team_assignee_id": 12})) == {"team_assignee_id": 12}


def test_timestamps_outside_datetime_range_are_kept_as_int() -> None:
    ticket = structure_ticket({"created_at": 10**15, "updated_at": -(10**14)})
    assert ticket.created_at == 10**15
    assert to_dict(ticket) == {"created_at": 10**15, "updated_at": -(10**14)}


def test_generated_tickets_round_trip() -> None:
    for ticket_id in map(str, range(20)):
        data = generate_ticket(ticket_id, parts=7, seed=3)
        assert to_dict(structure_ticket(data)) == drop_nulls(data)


@pytest.mark.parametrize(
    ("mutate", "path", "message"),
    [
        (
            lambda d: d["ticket_parts"]["ticket_parts"][0]["author"].update(email=5),
            "$.ticket_parts.ticket_parts[0].author.email",
            "expected a string or null, got a number",
        ),
        (lambda d: d.update(created_at="yesterday"), "$.created_at", "Unix timestamp"),
        (lambda d: d.update(is_shared="yes"), "$.is_shared", "boolean"),
        (
            lambda d: d["ticket_type"]["ticket_type_attributes"]["ticket_type_attributes"][
                0
            ].update(order="1"),
            "$.ticket_type.ticket_type_attributes.ticket_type_attributes[0].order",
            "integer",
        ),
        (lambda d: d.update(ticket_parts=[]), "$.ticket_parts", "expected an object"),
        (lambda d: d["contacts"].update(contacts={}), "$.contacts.contacts", "array"),
        (
            lambda d: d["contacts"]["contacts"].append(None),
            "$.contacts.contacts[1]",
            "expected an object, got null",
        ),
        (lambda d: d.update(ticket_attributes=["x"]), "$.ticket_attributes", "object"),
        (lambda d: d.update(type="conversation"), "$.type", "ticket"),
        (lambda d: d.update(id=1295), "$.id", "string"),
    ],
)
def test_wrong_shapes_name_the_json_path(mutate: Any, path: str, message: str) -> None:
    data = load("reference_example.json")
    mutate(data)
    assert failure(data)[0] == path
    assert message in failure(data)[1]


def test_live_form_errors_name_the_data_key() -> None:
    data = load("openapi_2_9_example.json")
    data["ticket_type"]["ticket_type_attributes"]["data"][1]["archived"] = "no"
    assert failure(data)[0] == "$.ticket_type.ticket_type_attributes.data[1].archived"


@pytest.mark.parametrize("body", [None, [], "ticket", 3, True])
def test_a_body_that_is_not_an_object_fails_at_the_root(body: Any) -> None:
    assert failure(body)[0] == "$"


def test_to_dict_refuses_what_is_not_a_model() -> None:
    with pytest.raises(TypeError, match="model"):
        to_dict({"id": "1"})


def test_ticket_state_is_a_str_enum() -> None:
    assert TicketState("resolved") is TicketState.RESOLVED
    assert TicketState("resolved") == TicketState.RESOLVED
    assert TicketState.RESOLVED.value == "resolved"
    assert str(TicketState.IN_PROGRESS) == "in_progress"


def test_to_dict_of_an_error_detail_leaves_out_nulls() -> None:
    assert to_dict(ErrorDetail(code="not_found", message=None)) == {"code": "not_found"}


def test_a_newer_version_s_ticket_state_object_parses() -> None:
    data = load("openapi_2_16_example.json")  # Intercom's own 2.16 example
    ticket = structure_ticket(data)
    assert isinstance(ticket.ticket_state, TicketStateDetail)
    assert ticket.ticket_state.category is TicketState.SUBMITTED
    assert ticket.state is TicketState.SUBMITTED
    assert to_dict(ticket) == drop_nulls(data)
    assert structure_ticket({"ticket_state": "resolved"}).state is TicketState.RESOLVED
    assert failure({"ticket_state": {"category": 3}}) == (
        "$.ticket_state.category",
        "expected a string or null, got a number",
    )


def test_models_pickle_and_copy() -> None:
    ticket = structure_ticket(load("openapi_2_16_example.json") | {"new": {"x": 1}})
    assert pickle.loads(pickle.dumps(ticket)) == ticket
    assert copy.deepcopy(ticket) == ticket


def test_to_dict_handles_any_depth_json_accepts() -> None:
    deep: Any = None
    for _ in range(900):
        deep = [deep, {"gone": None}]
    ticket = structure_ticket({"ticket_attributes": {"deep": deep}})
    out = to_dict(ticket)["ticket_attributes"]["deep"]
    for _ in range(899):
        assert out[1] == {}
        out = out[0]
