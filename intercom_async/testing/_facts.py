"""What the fake's search sees of a ticket (``Facts``), and which version's shape a ticket takes.

The fields are those of the "Accepted Fields" table of ``POST /tickets/search`` (API 2.10 and
later). ``Facts.of`` reads them from any ticket JSON, leniently: a field that is missing or of
an odd type reads as ``None`` (or no ids), so that a broken ticket added to the fake is still
searchable by the fields it has.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["BASE_SHAPE", "SEARCH_SHAPE", "Facts", "Shape", "shape_of"]

Shape = tuple[int, int]
BASE_SHAPE: Shape = (2, 9)  # a ticket as 2.9 (and every earlier version) sends it
SEARCH_SHAPE: Shape = (2, 10)  # the first version with POST /tickets/search
# The versions in which a ticket's JSON changes; any other takes the shape of the one before.
_CHANGES: tuple[Shape, ...] = ((2, 16), (2, 13), (2, 12), (2, 10))
_VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


def shape_of(version: str | None) -> Shape:
    """The shape of a ticket for ``Intercom-Version: version`` (``None``: no header, 2.9).

    ``Unstable`` and ``Preview`` take the newest shape; an unknown value the 2.9 one.
    """
    if version in ("Unstable", "Preview"):
        return _CHANGES[0]
    match = _VERSION.fullmatch(version or "")
    if match is None:
        return BASE_SHAPE
    asked = (int(match[1]), int(match[2]))
    return next((shape for shape in _CHANGES if asked >= shape), BASE_SHAPE)


def _text(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value)


def _time(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _ids(items: object, kind: str | None = None) -> tuple[str, ...]:
    found: set[str] = set()
    for item in items if isinstance(items, list) else ():
        if isinstance(item, Mapping) and (kind is None or item.get("type") == kind):
            text = _text(item.get("id"))
            if text is not None:
                found.add(text)
    return tuple(sorted(found))


def _get(data: Mapping[str, Any], *keys: str) -> object:
    value: object = data
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _attributes(data: Mapping[str, Any]) -> dict[str, object]:
    """``ticket_attribute.{id}``: the ticket's attribute values by the id of their definition."""
    values = data.get("ticket_attributes")
    listing = _get(data, "ticket_type", "ticket_type_attributes")
    if not isinstance(values, Mapping) or not isinstance(listing, Mapping):
        return {}
    found: dict[str, object] = {}
    for definition in listing.get("data") or listing.get("ticket_type_attributes") or ():
        if isinstance(definition, Mapping):
            key, name = _text(definition.get("id")), definition.get("name")
            if key is not None and isinstance(name, str) and name in values:
                found[key] = values[name]
    return found


@attrs.frozen
class Facts:
    """The searchable fields of one ticket, as plain values (ids as str, times as int)."""

    id: str
    created_at: int | None = None
    updated_at: int | None = None
    title: str | None = None
    description: str | None = None
    category: str | None = None
    ticket_type_id: str | None = None
    contact_ids: tuple[str, ...] = ()
    teammate_ids: tuple[str, ...] = ()
    admin_assignee_id: str | None = None
    team_assignee_id: str | None = None
    open: bool | None = None
    state: str | None = None
    snoozed_until: int | None = None
    attributes: Mapping[str, object] = attrs.field(factory=dict)

    @classmethod
    def of(cls, ticket_id: str, data: Mapping[str, Any]) -> Facts:
        """The facts of a ticket's JSON (any version's shape)."""
        attributes = data.get("ticket_attributes")
        title = description = None
        if isinstance(attributes, Mapping):
            title = attributes.get("_default_title_")
            description = attributes.get("_default_description_")
        state = data.get("ticket_state")
        if isinstance(state, Mapping):  # 2.12 and later: an object
            state = state.get("category")
        parts = _get(data, "ticket_parts", "ticket_parts")
        authors = (
            [part.get("author") for part in parts if isinstance(part, Mapping)]
            if (isinstance(parts, list))
            else []
        )
        is_open = data.get("open")
        return cls(
            id=ticket_id,
            created_at=_time(data.get("created_at")),
            updated_at=_time(data.get("updated_at")),
            title=title if isinstance(title, str) else None,
            description=description if isinstance(description, str) else None,
            category=_text(data.get("category")),
            ticket_type_id=_text(_get(data, "ticket_type", "id")),
            contact_ids=_ids(_get(data, "contacts", "contacts")),
            teammate_ids=_ids(authors, "admin"),
            admin_assignee_id=_text(data.get("admin_assignee_id")),
            team_assignee_id=_text(data.get("team_assignee_id")),
            open=is_open if isinstance(is_open, bool) else None,
            state=state if isinstance(state, str) else None,
            snoozed_until=_time(data.get("snoozed_until")),
            attributes=_attributes(data),
        )

    def field(self, name: str) -> object:
        """The value of search field ``name`` (``"ticket_attribute.202"`` included)."""
        if name.startswith("ticket_attribute."):
            return self.attributes.get(name.removeprefix("ticket_attribute."))
        value: object = getattr(self, name)
        return value
