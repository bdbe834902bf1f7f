"""Realistic generated tickets, the same for the same seed."""

from __future__ import annotations

import random
from typing import Any

__all__ = ["generate_ticket"]

_T0 = 1_717_000_000  # late May 2024
_STATES = ("submitted", "in_progress", "waiting_on_customer", "resolved")
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


def _part(rng: random.Random, index: int, created: int, state: str) -> dict[str, Any]:
    admin_id, name, email = rng.choice(_ADMINS)
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


def generate_ticket(ticket_id: str, *, parts: int = 20, seed: int | str = 0) -> dict[str, Any]:
    """A ticket as Intercom 2.9 returns it from ``GET /tickets/{id}``, as JSON-ready data.

    It has ``parts`` ticket parts (comments, notes, assignments, state changes; some with
    attachments), a contact, and a ticket type with its attributes (in either of the two list
    shapes the API uses). The same ``ticket_id``, ``parts`` and ``seed`` give the same ticket.
    """
    rng = random.Random(f"{seed}:{ticket_id}:{parts}")
    created = _T0 + rng.randrange(0, 86_400 * 90)
    state = rng.choice(_STATES)
    type_id = rng.choice((75, 76, 77))
    attributes = [
        _attribute(rng, i, name, type_id)
        for i, name in enumerate(("_default_title_", "_default_description_", "priority"))
    ]
    attribute_list: dict[str, Any] = (
        {"type": "list", "data": attributes}
        if rng.random() < 0.5
        else {"type": "ticket_type_attributes.list", "ticket_type_attributes": attributes}
    )
    part_list = []
    when = created
    for index in range(parts):
        when += rng.randrange(30, 7_200)
        part_list.append(_part(rng, index, when, state))
    title = rng.choice(_TITLES)
    return {
        "type": "ticket",
        "id": str(ticket_id),
        "ticket_id": str(rng.randrange(1_000, 99_999)),
        "ticket_attributes": {
            "_default_title_": title,
            "_default_description_": f"{title}. {rng.choice(_SENTENCES)}",
            "priority": rng.choice(("low", "medium", "high")),
        },
        "ticket_state": state,
        "ticket_state_internal_label": state.replace("_", " ").capitalize(),
        "ticket_state_external_label": state.replace("_", " ").capitalize(),
        "ticket_type": {
            "type": "ticket_type",
            "id": str(type_id),
            "name": "Bug",
            "description": "A bug that has been reported.",
            "icon": "\N{LADY BEETLE}",
            "workspace_id": "ecahpwf5",
            "ticket_type_attributes": attribute_list,
            "archived": False,
            "created_at": _T0 - 86_400 * 30,
            "updated_at": _T0 - 86_400 * 30,
        },
        "contacts": {
            "type": "contact.list",
            "contacts": [
                {
                    "type": "contact",
                    "id": f"{rng.getrandbits(96):024x}",
                    "external_id": f"user-{rng.randrange(1, 10**6)}",
                }
            ],
        },
        "admin_assignee_id": rng.choice(_ADMINS)[0],
        "team_assignee_id": "0",
        "created_at": created,
        "updated_at": when,
        "ticket_parts": {
            "type": "ticket_part.list",
            "ticket_parts": part_list,
            "total_count": parts,
        },
        "is_shared": rng.random() < 0.8,
    }
