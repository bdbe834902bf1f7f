"""Realistic generated tickets, the same for the same seed, in the shape of the API version asked
for, and the fake's bounded cache of their JSON bodies.

A ticket is drawn in two steps: its ``Plan`` (dates, state, people, title: what search looks at,
a few microseconds), then, when its JSON is asked for, its parts. So the fake can search many
generated tickets without making their bodies.
"""

from __future__ import annotations

import json
import random
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import attrs

from ._facts import BASE_SHAPE, Facts, Shape, shape_of

__all__ = ["GeneratedBodies", "Plan", "encode", "generate_ticket", "plan_ticket", "shape_of"]

# The JSON bodies of generated tickets the fake keeps, in bytes: enough for the tickets a test
# asks for again and again, not one per id ever asked for (a body is made again, the same, in
# about a millisecond).
CACHE_BYTES = 8 * 1024 * 1024

_T0 = 1_717_000_000  # late May 2024
_STATES = ("submitted", "in_progress", "waiting_on_customer", "resolved")
_STATE_IDS = {
    "submitted": "8570",
    "in_progress": "8571",
    "waiting_on_customer": "8572",
    "resolved": "8573",
}
_CATEGORIES = {75: "Customer", 76: "Back-office", 77: "Tracker"}
_TEAMS = ("0", "0", "5017691", "5017692")
_ADMINS = (
    ("991267748", "Ciaran Lee", "ciaran@example.com"),
    ("991267749", "Maya Okafor", "maya@example.com"),
    ("991267750", "Jonas Berg", "jonas@example.com"),
)
_TITLES = (
    "Export to CSV times out",
    "Cannot reset my password",
    "Invoice shows the wrong VAT",
    "App crashes when uploading a photo",
    "Webhook deliveries delayed",
    "Two-factor codes not arriving",
)
_SENTENCES = (
    "Thanks for reaching out, we are looking into it.",
    "Could you send us a screenshot of the error?",
    "I tried again this morning and it still fails.",
    "Our engineers have found the cause and a fix is on its way.",
    "The fix is live; can you confirm it works for you now?",
    "It works now, thank you!",
    "Adding the logs from the affected account below.",
)


def _attribute(rng: random.Random, index: int, name: str, type_id: int) -> dict[str, Any]:
    return {
        "type": "ticket_type_attribute",
        "id": str(200 + index),
        "workspace_id": "ecahpwf5",
        "name": name,
        "description": f"The {name.strip('_').replace('_', ' ')} of the ticket",
        "data_type": "string",
        "input_options": {"multiline": index == 1} if rng.random() < 0.5 else None,
        "order": index,
        "required_to_create": index == 0,
        "required_to_create_for_contacts": False,
        "visible_on_create": True,
        "visible_to_contacts": index < 2,
        "default": index < 2,
        "ticket_type_id": type_id,
        "archived": False,
        "created_at": _T0 - 86_400 * 30,
        "updated_at": _T0 - 86_400 * 30,
    }


def _part(
    rng: random.Random, index: int, created: int, state: str, author: tuple[str, str, str]
) -> dict[str, Any]:
    admin_id, name, email = author
    kind = rng.choices(
        ("comment", "note", "assignment", "ticket_state_updated_by_admin"), (6, 2, 1, 1)
    )[0]
    part: dict[str, Any] = {
        "type": "ticket_part",
        "id": str(100_000 + index),
        "part_type": kind,
        "body": f"<p>{rng.choice(_SENTENCES)} {rng.choice(_SENTENCES)}</p>"
        if kind in ("comment", "note")
        else None,
        "previous_ticket_state": state,
        "ticket_state": state,
        "created_at": created,
        "updated_at": created + rng.randrange(0, 120),
        "assigned_to": {"type": "admin", "id": admin_id} if kind == "assignment" else None,
        "author": {"id": admin_id, "type": "admin", "name": name, "email": email},
        "attachments": [],
        "external_id": None,
        "redacted": False,
    }
    if kind == "comment" and rng.random() < 0.15:
        part["attachments"].append(
            {
                "type": "upload",
                "name": f"screenshot-{index}.png",
                "url": f"https://downloads.example.com/attachments/{index}/screenshot.png",
                "content_type": "image/png",
                "filesize": rng.randrange(10_000, 2_000_000),
                "width": 1280,
                "height": 800,
            }
        )
    return part


@attrs.frozen
class Plan:
    """What a generated ticket is, before its parts are drawn: every field that search reads."""

    id: str
    number: str
    created: int
    gaps: tuple[int, ...]  # seconds from one part to the next, the first from ``created``
    state: str
    type_id: int
    title: str
    sentence: str
    priority: str
    team: tuple[tuple[str, str, str], ...]  # the admins who wrote its parts, in turn
    admin_assignee_id: str
    team_assignee_id: str
    contact_id: str
    contact_external_id: str
    is_shared: bool
    snoozed_for: int | None  # seconds past ``updated``, or None: not snoozed
    attribute_list_shape: bool  # True: {"type": "list", "data": ...}

    @property
    def updated(self) -> int:
        return self.created + sum(self.gaps)

    @property
    def open(self) -> bool:
        return self.state != "resolved"

    @property
    def category(self) -> str:
        return _CATEGORIES[self.type_id]

    def facts(self) -> Facts:
        """What search sees of this ticket: the same as ``Facts.of`` its JSON, in any version."""
        return Facts(
            id=self.id,
            created_at=self.created,
            updated_at=self.updated,
            title=self.title,
            description=self._description,
            category=self.category,
            ticket_type_id=str(self.type_id),
            contact_ids=(self.contact_id,),
            teammate_ids=tuple(sorted({admin[0] for admin in self.team})),
            admin_assignee_id=self.admin_assignee_id,
            team_assignee_id=self.team_assignee_id,
            open=self.open,
            state=self.state,
            snoozed_until=None if self.snoozed_for is None else self.updated + self.snoozed_for,
            attributes={"200": self.title, "201": self._description, "202": self.priority},
        )

    @property
    def _description(self) -> str:
        return f"{self.title}. {self.sentence}"


def plan_ticket(ticket_id: str, *, parts: int = 20, seed: int | str = 0) -> Plan:
    """The plan of ``generate_ticket(ticket_id, parts=parts, seed=seed)``: cheap, the same."""
    rng = random.Random(f"{seed}:{ticket_id}:{parts}")
    created = _T0 + rng.randrange(0, 86_400 * 90)
    gaps = tuple(rng.randrange(30, 7_200) for _ in range(parts))
    state = rng.choice(_STATES)
    team = tuple(rng.sample(_ADMINS, min(parts, rng.randrange(1, len(_ADMINS) + 1))))
    title = rng.choice(_TITLES)
    snoozed = state != "resolved" and rng.random() < 0.25
    return Plan(
        id=str(ticket_id),
        number=str(rng.randrange(1_000, 99_999)),
        created=created,
        gaps=gaps,
        state=state,
        type_id=rng.choice((75, 76, 77)),
        title=title,
        sentence=rng.choice(_SENTENCES),
        priority=rng.choice(("low", "medium", "high")),
        team=team,
        admin_assignee_id="0" if rng.random() < 0.15 else rng.choice(_ADMINS)[0],
        team_assignee_id=rng.choice(_TEAMS),
        contact_id=f"{rng.getrandbits(96):024x}",
        contact_external_id=f"user-{rng.randrange(1, 10**6)}",
        is_shared=rng.random() < 0.8,
        snoozed_for=rng.randrange(3_600, 86_400 * 14) if snoozed else None,
        attribute_list_shape=rng.random() < 0.5,
    )


def _state_object(state: str) -> dict[str, Any]:
    label = state.replace("_", " ").capitalize()
    return {
        "type": "ticket_state",
        "id": _STATE_IDS[state],
        "category": state,
        "internal_label": label,
        "external_label": label,
    }


def _ticket_type(plan: Plan, rng: random.Random, shape: Shape) -> dict[str, Any]:
    attributes = [
        _attribute(rng, i, name, plan.type_id)
        for i, name in enumerate(("_default_title_", "_default_description_", "priority"))
    ]
    ticket_type: dict[str, Any] = {
        "type": "ticket_type",
        "id": str(plan.type_id),
        "name": "Bug",
        "description": "A bug that has been reported.",
        "icon": "\N{LADY BEETLE}",
        "workspace_id": "ecahpwf5",
        "ticket_type_attributes": {"type": "list", "data": attributes}
        if plan.attribute_list_shape
        else {"type": "ticket_type_attributes.list", "ticket_type_attributes": attributes},
        "archived": False,
        "created_at": _T0 - 86_400 * 30,
        "updated_at": _T0 - 86_400 * 30,
    }
    if shape >= (2, 10):
        ticket_type["category"] = plan.category
    if shape >= (2, 12):
        ticket_type["ticket_states"] = {
            "type": "list",
            "data": [_state_object(state) for state in _STATES],
        }
    return ticket_type


def _newer_fields(plan: Plan, ticket: dict[str, Any], shape: Shape) -> None:
    """Add (in place) what API versions 2.10 and later add to a 2.9 ticket."""
    facts = plan.facts()
    ticket["category"] = plan.category
    ticket["open"] = plan.open
    ticket["snoozed_until"] = facts.snoozed_until
    linked = int(plan.number) % 5 == 0  # one ticket in five is linked to a tracker
    ticket["linked_objects"] = {
        "type": "list",
        "data": [{"type": "ticket", "id": str(int(plan.number) // 5), "category": "Tracker"}]
        if linked
        else [],
        "total_count": int(linked),
        "has_more": False,
    }
    if shape >= (2, 12):  # the state becomes an object; its labels move into it
        ticket["ticket_state"] = _state_object(plan.state)
        del ticket["ticket_state_internal_label"], ticket["ticket_state_external_label"]
    if shape >= (2, 13):  # parts made through the API name the app that made them
        for part in ticket["ticket_parts"]["ticket_parts"][::4]:
            if part["part_type"] == "comment":
                part["app_package_code"] = "text-integration"
    if shape >= (2, 16):  # assignee ids become integers, 0 for nobody
        ticket["admin_assignee_id"] = int(plan.admin_assignee_id)
        ticket["team_assignee_id"] = int(plan.team_assignee_id)
        index = _STATES.index(plan.state)
        ticket["previous_ticket_state_id"] = _STATE_IDS[_STATES[index - 1]] if index else None


def generate_ticket(
    ticket_id: str, *, parts: int = 20, seed: int | str = 0, version: str | None = None
) -> dict[str, Any]:
    """A ticket as Intercom returns it from ``GET /tickets/{id}``, as JSON-ready data.

    It has ``parts`` ticket parts (comments, notes, assignments, state changes; some with
    attachments), a contact, and a ticket type with its attributes (in either of the two list
    shapes the API uses). The same ``ticket_id``, ``parts`` and ``seed`` give the same ticket.

    ``version`` is the ``Intercom-Version`` whose shape it takes: ``None`` or any version up to
    2.9 gives the 2.9 shape; 2.10 and later add ``category``, ``open``, ``snoozed_until`` and
    ``linked_objects``; 2.12 makes ``ticket_state`` an object; 2.13 adds ``app_package_code`` to
    some parts; 2.16 (and ``Unstable``, ``Preview``) make the assignee ids integers and add
    ``previous_ticket_state_id``. The values are the same in every version.
    """
    shape = shape_of(version)
    plan = plan_ticket(ticket_id, parts=parts, seed=seed)
    rng = random.Random(f"{seed}:{ticket_id}:{parts}:parts")
    state = plan.state
    part_list = []
    when = plan.created
    for index, gap in enumerate(plan.gaps):
        when += gap
        author = plan.team[index] if index < len(plan.team) else rng.choice(plan.team)
        part_list.append(_part(rng, index, when, state, author))
    label = state.replace("_", " ").capitalize()
    ticket: dict[str, Any] = {
        "type": "ticket",
        "id": plan.id,
        "ticket_id": plan.number,
        "ticket_attributes": {
            "_default_title_": plan.title,
            "_default_description_": f"{plan.title}. {plan.sentence}",
            "priority": plan.priority,
        },
        "ticket_state": state,
        "ticket_state_internal_label": label,
        "ticket_state_external_label": label,
        "ticket_type": _ticket_type(plan, rng, shape),
        "contacts": {
            "type": "contact.list",
            "contacts": [
                {"type": "contact", "id": plan.contact_id, "external_id": plan.contact_external_id}
            ],
        },
        "admin_assignee_id": plan.admin_assignee_id,
        "team_assignee_id": plan.team_assignee_id,
        "created_at": plan.created,
        "updated_at": plan.updated,
        "ticket_parts": {
            "type": "ticket_part.list",
            "ticket_parts": part_list,
            "total_count": parts,
        },
        "is_shared": plan.is_shared,
    }
    if shape >= (2, 10):
        _newer_fields(plan, ticket, shape)
    return ticket


def encode(ticket: Mapping[str, Any]) -> bytes:
    """A ticket's JSON body, as the fake sends it."""
    return json.dumps(ticket, ensure_ascii=False, separators=(",", ":")).encode()


class GeneratedBodies:
    """The bodies of generated tickets, made on demand in the shape asked for; the most recently
    used are kept, up to ``limit`` bytes in all (the last one made always)."""

    def __init__(self, *, parts: int, seed: int | str, limit: int = CACHE_BYTES) -> None:
        self._parts = parts
        self._seed = seed
        self._limit = limit
        self._kept: OrderedDict[tuple[str, Shape], bytes] = OrderedDict()
        self._size = 0

    def get(self, ticket_id: str, shape: Shape = BASE_SHAPE) -> bytes:
        """The body of generated ticket ``ticket_id`` in the ``shape`` of a version."""
        key = (ticket_id, shape)
        body = self._kept.get(key)
        if body is not None:
            self._kept.move_to_end(key)
            return body
        version = f"{shape[0]}.{shape[1]}"
        ticket = generate_ticket(ticket_id, parts=self._parts, seed=self._seed, version=version)
        body = encode(ticket)
        self._kept[key] = body
        self._size += len(body)
        while self._size > self._limit and len(self._kept) > 1:
            _, dropped = self._kept.popitem(last=False)
            self._size -= len(dropped)
        return body

    def plan(self, ticket_id: str) -> Plan:
        """The plan of generated ticket ``ticket_id``."""
        return plan_ticket(ticket_id, parts=self._parts, seed=self._seed)

    @property
    def size(self) -> int:
        """Bytes kept."""
        return self._size
