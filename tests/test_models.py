"""Structuring JSON into models and back, with no network."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from intercom_async import (
    AuthorType,
    ErrorDetail,
    IntercomClient,
    LinkedObject,
    LinkedObjectList,
    Ticket,
    TicketCategory,
    TicketState,
    TicketStateDetail,
    TicketStateList,
    TicketTypeAttribute,
    TicketTypeAttributeList,
    UpdatedAttribute,
    UpdatedAttributeData,
    UpdatedAttributeValue,
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
    assert ticket.admin_assignee_id is None  # "0": unassigned
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


@pytest.mark.parametrize(
    ("sent", "typed"),
    [("1295", "1295"), (1295, "1295"), ("0", None), (0, None), (None, None), (-3, "-3")],
)
def test_assignee_ids_are_one_type_whatever_the_version(sent: Any, typed: str | None) -> None:
    # Strings up to 2.15, integers in 2.16; "0" and 0 mean unassigned.
    data = {"admin_assignee_id": sent, "team_assignee_id": sent}
    ticket = structure_ticket(data)
    assert ticket.admin_assignee_id == typed and ticket.team_assignee_id == typed
    assert typed is None or type(ticket.admin_assignee_id) is str
    assert to_dict(ticket) == drop_nulls(data)  # written back as the JSON had it
    assert pickle.loads(pickle.dumps(ticket)) == ticket
    assert to_dict(pickle.loads(pickle.dumps(ticket))) == drop_nulls(data)


def test_assignee_ids_compare_equal_across_versions_and_write_back_changes() -> None:
    as_2_15 = structure_ticket({"admin_assignee_id": "7", "team_assignee_id": "0"})
    as_2_16 = structure_ticket({"admin_assignee_id": 7, "team_assignee_id": 0})
    assert as_2_15 == as_2_16 == Ticket(admin_assignee_id="7")
    assert to_dict(attrs.evolve(as_2_16, admin_assignee_id="12")) == {
        "admin_assignee_id": 12,
        "team_assignee_id": 0,
    }
    assert to_dict(attrs.evolve(as_2_16, admin_assignee_id=None))["admin_assignee_id"] == 0
    assert to_dict(attrs.evolve(as_2_15, team_assignee_id="3")) == {
        "admin_assignee_id": "7",
        "team_assignee_id": "3",
    }
    assert to_dict(Ticket(admin_assignee_id="5")) == {"admin_assignee_id": "5"}
    assert "assignee_id_types" not in repr(as_2_16)


@pytest.mark.parametrize("sent", [True, 1.5, [1], {"id": 1}])
def test_an_assignee_id_of_another_type_names_its_path(sent: Any) -> None:
    path, message = failure({"team_assignee_id": sent})
    assert path == "$.team_assignee_id"
    assert message.startswith("expected a string, an integer or null")


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


# Fields API 2.10 to 2.16 add (tests/schema_strategies.check_typed checks them against each
# version's schema; these pin the values).


def test_the_2_16_example_has_no_untyped_field_left() -> None:
    data = load("openapi_2_16_example.json")  # Intercom's own 2.16 example
    ticket = structure_ticket(data)
    assert ticket.extra == {}
    assert ticket.category is TicketCategory.BACK_OFFICE
    assert ticket.open is True
    assert ticket.snoozed_until is None
    assert ticket.linked_objects == LinkedObjectList(
        type="list", total_count=0, has_more=False, data=()
    )
    assert ticket.admin_assignee_id is None and ticket.team_assignee_id is None  # 0, 0
    assert ticket.ticket_type is not None and ticket.ticket_type.extra == {}
    assert ticket.ticket_type.category is TicketCategory.BACK_OFFICE
    part = ticket.parts[0]
    assert part.extra == {} and part.app_package_code == "test-integration"
    assert part.author is not None and part.author.type is AuthorType.ADMIN
    assert to_dict(ticket) == drop_nulls(data)


def test_fields_a_version_does_not_send_are_none() -> None:
    ticket = structure_ticket(load("openapi_2_9_example.json"))
    assert (ticket.category, ticket.open, ticket.snoozed_until) == (None, None, None)
    assert ticket.linked_objects is None and ticket.previous_ticket_state_id is None
    assert ticket.ticket_type is not None
    assert ticket.ticket_type.category is None and ticket.ticket_type.ticket_states is None
    assert ticket.parts[0].app_package_code is None
    assert ticket.parts[0].updated_attribute_data is None


def test_2_10_ticket_fields_are_typed() -> None:
    data = {
        "category": "Tracker",
        "open": False,
        "snoozed_until": 1663597260,
        "linked_objects": {
            "type": "list",
            "total_count": 2,
            "has_more": False,
            "data": [
                {"type": "ticket", "id": "7583", "category": "Customer"},
                {"type": "conversation", "id": "9", "category": None},
            ],
        },
        "ticket_parts": {"ticket_parts": [{"author": {"type": "user", "id": "5"}}]},
    }
    ticket = structure_ticket(data)
    assert ticket.category is TicketCategory.TRACKER
    assert ticket.open is False
    assert ticket.snoozed_until == datetime(2022, 9, 19, 14, 21, tzinfo=UTC)
    assert ticket.snoozed_until.tzinfo is UTC  # type: ignore[union-attr]
    linked = ticket.linked_objects
    assert linked is not None and len(linked) == 2 and linked.has_more is False
    assert list(linked) == [
        LinkedObject(type="ticket", id="7583", category=TicketCategory.CUSTOMER),
        LinkedObject(type="conversation", id="9"),
    ]
    assert ticket.parts[0].author is not None
    assert ticket.parts[0].author.type is AuthorType.USER
    assert to_dict(ticket) == drop_nulls(data)


def test_categories_and_author_types_a_version_does_not_know_stay_strings() -> None:
    data = {
        "category": "Escalation",
        "ticket_type": {"category": "Internal"},
        "ticket_parts": {"ticket_parts": [{"author": {"type": "fin"}}]},
    }
    ticket = structure_ticket(data)
    assert ticket.category == "Escalation" and not isinstance(ticket.category, TicketCategory)
    assert ticket.ticket_type is not None and ticket.ticket_type.category == "Internal"
    assert ticket.parts[0].author is not None and ticket.parts[0].author.type == "fin"
    assert to_dict(ticket) == data


def test_2_12_ticket_type_states_are_typed() -> None:
    state = {
        "type": "ticket_state",
        "id": "12",
        "category": "in_progress",
        "internal_label": "With Dev Team",
        "external_label": "In Progress",
    }
    data = {
        "ticket_type": {
            "category": "Customer",
            "ticket_states": {"type": "list", "data": [state, None]},
        }
    }
    ticket = structure_ticket(data)
    assert ticket.ticket_type is not None
    states = ticket.ticket_type.ticket_states
    assert isinstance(states, TicketStateList) and len(states) == 2
    first = states.data[0]  # type: ignore[index]
    assert isinstance(first, TicketStateDetail) and first.category is TicketState.IN_PROGRESS
    assert first.internal_label == "With Dev Team"
    assert list(states)[1] is None
    assert to_dict(ticket) == drop_nulls(data)


def test_2_13_to_2_16_part_and_ticket_fields_are_typed() -> None:
    files = {
        "attribute": {"type": "attribute", "id": "8", "label": "Screenshots"},
        "value": {"type": "value", "id": [2, 3], "label": ["photo.png", "log.txt"]},
    }
    text = {
        "attribute": {"type": "attribute", "id": "7", "label": "Progress"},
        "value": {"type": "value", "id": "Fast", "label": "Fast"},
    }
    data = {
        "previous_ticket_state_id": "7493",
        "ticket_parts": {
            "ticket_parts": [
                {"app_package_code": "text-integration", "updated_attribute_data": files},
                {"updated_attribute_data": text},
                {"updated_attribute_data": {**text, "value": {"type": "value", "id": None}}},
            ]
        },
    }
    ticket = structure_ticket(data)
    assert ticket.previous_ticket_state_id == "7493"
    first, second, third = ticket.parts
    assert first.app_package_code == "text-integration"
    assert first.updated_attribute_data == UpdatedAttributeData(
        attribute=UpdatedAttribute(type="attribute", id="8", label="Screenshots"),
        value=UpdatedAttributeValue(type="value", id=(2, 3), label=("photo.png", "log.txt")),
    )
    assert second.updated_attribute_data is not None
    assert second.updated_attribute_data.value == UpdatedAttributeValue(
        type="value", id="Fast", label="Fast"
    )
    assert third.updated_attribute_data is not None
    assert third.updated_attribute_data.value is not None
    assert third.updated_attribute_data.value.id is None
    assert to_dict(ticket) == drop_nulls(data)


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        ({"snoozed_until": "soon"}, "$.snoozed_until", "Unix timestamp"),
        ({"open": "yes"}, "$.open", "boolean"),
        ({"category": 3}, "$.category", "a string or null"),
        ({"previous_ticket_state_id": 7493}, "$.previous_ticket_state_id", "string"),
        ({"linked_objects": []}, "$.linked_objects", "an object"),
        (
            {"linked_objects": {"data": [{"id": 7583}]}},
            "$.linked_objects.data[0].id",
            "a string or null",
        ),
        (
            {"ticket_type": {"ticket_states": {"data": [{"category": 1}]}}},
            "$.ticket_type.ticket_states.data[0].category",
            "a string or null",
        ),
        (
            {"ticket_parts": {"ticket_parts": [{"app_package_code": 1}]}},
            "$.ticket_parts.ticket_parts[0].app_package_code",
            "a string or null",
        ),
        (
            {
                "ticket_parts": {
                    "ticket_parts": [{"updated_attribute_data": {"value": {"id": [2, "x"]}}}]
                }
            },
            "$.ticket_parts.ticket_parts[0].updated_attribute_data.value.id[1]",
            "expected an integer, got a string",
        ),
        (
            {
                "ticket_parts": {
                    "ticket_parts": [{"updated_attribute_data": {"value": {"label": 5}}}]
                }
            },
            "$.ticket_parts.ticket_parts[0].updated_attribute_data.value.label",
            "a string, an array of strings or null",
        ),
        (
            {"ticket_parts": {"ticket_parts": [{"author": {"type": 1}}]}},
            "$.ticket_parts.ticket_parts[0].author.type",
            "a string or null",
        ),
    ],
)
def test_later_fields_of_the_wrong_shape_name_their_path(
    data: dict[str, Any], path: str, message: str
) -> None:
    got_path, got_message = failure(data)
    assert got_path == path
    assert message in got_message


def test_a_snooze_past_year_9999_is_kept_as_the_int() -> None:
    ticket = structure_ticket({"snoozed_until": 10**15})
    assert ticket.snoozed_until == 10**15
    assert to_dict(ticket) == {"snoozed_until": 10**15}


def test_unknown_keys_next_to_later_fields_still_go_to_extra() -> None:
    data = {
        "open": True,
        "brand_new": 1,
        "ticket_parts": {"ticket_parts": [{"x": 1, "app_package_code": "a"}]},
    }
    ticket = structure_ticket(data)
    assert ticket.open is True and ticket.extra == {"brand_new": 1}
    assert ticket.parts[0].app_package_code == "a" and ticket.parts[0].extra == {"x": 1}
    assert to_dict(ticket) == data


def test_the_preview_version_is_accepted() -> None:
    # "Preview" is in the version enum of the 2.11 description.
    assert IntercomClient("tok", version="Preview").version == "Preview"


@pytest.mark.parametrize("version", ["preview", "Previews", "2.16-preview", ""])
def test_other_version_words_are_refused(version: str) -> None:
    with pytest.raises(ValueError, match="'Preview'"):
        IntercomClient("tok", version=version)
