"""attrs models for Intercom's ticket objects (API 2.9).

Field names and nesting mirror the JSON one to one, so any Intercom document maps onto them
directly: ``ticket.ticket_parts.ticket_parts[0].author.email``. Every field is optional because
nothing on a ticket is required by the 2.9 description. Keys a model does not know (fields Intercom
adds later) are kept, unparsed, in its ``extra`` mapping, so nothing a response sent is lost.

The models hold data only: structuring and unstructuring live in the private converter
(``intercom_async._convert``), not here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from attrs import field, frozen

__all__ = [
    "Attachment",
    "ContactReference",
    "ErrorDetail",
    "Reference",
    "Ticket",
    "TicketContacts",
    "TicketPart",
    "TicketPartAuthor",
    "TicketParts",
    "TicketState",
    "TicketType",
    "TicketTypeAttribute",
    "TicketTypeAttributeList",
    "Timestamp",
]

Timestamp = datetime | int
"""A Unix time as a timezone-aware UTC ``datetime``.

It stays the plain ``int`` Intercom sent only when that value lies outside what ``datetime`` can
hold (before year 1 or after year 9999), so that no value is lost or refused.
"""


def _extra() -> Any:
    return field(factory=dict, kw_only=True)


class TicketState(enum.StrEnum):
    """The states a ticket can be in (API 2.9).

    A state Intercom adds later is kept as the plain ``str`` it sent, never an error, so fields
    typed ``TicketState | str`` compare equal to the raw value either way.
    """

    SUBMITTED = "submitted"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"


@frozen
class ErrorDetail:
    """One entry of Intercom's ``error.list``: a machine ``code``, a ``message``, a ``field``."""

    code: str | None = None
    message: str | None = None
    field: str | None = None


@frozen
class Reference:
    """A reference to another object (``assigned_to`` on a ticket part)."""

    type: str | None = None
    id: str | None = None
    extra: Mapping[str, Any] = _extra()


@frozen
class TicketPartAuthor:
    """Who wrote or triggered a ticket part: an admin, bot, team or user."""

    type: str | None = None
    id: str | None = None
    name: str | None = None
    email: str | None = None
    extra: Mapping[str, Any] = _extra()


@frozen
class Attachment:
    """A file attached to a ticket part."""

    type: str | None = None
    name: str | None = None
    url: str | None = None
    content_type: str | None = None
    filesize: int | None = None
    width: int | None = None
    height: int | None = None
    extra: Mapping[str, Any] = _extra()


@frozen
class TicketPart:
    """One note, comment or event on a ticket."""

    type: str | None = None
    id: str | None = None
    part_type: str | None = None
    body: str | None = None
    previous_ticket_state: TicketState | str | None = None
    ticket_state: TicketState | str | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    assigned_to: Reference | None = None
    author: TicketPartAuthor | None = None
    attachments: tuple[Attachment, ...] | None = None
    external_id: str | None = None
    redacted: bool | None = None
    extra: Mapping[str, Any] = _extra()


@frozen
class TicketParts:
    """The ``ticket_part.list`` of a ticket; iterable over its parts."""

    type: str | None = None
    ticket_parts: tuple[TicketPart, ...] | None = None
    total_count: int | None = None
    extra: Mapping[str, Any] = _extra()

    def __iter__(self) -> Iterator[TicketPart]:
        return iter(self.ticket_parts or ())

    def __len__(self) -> int:
        return len(self.ticket_parts or ())


@frozen
class TicketTypeAttribute:
    """One data field a ticket type captures (``_default_title_``, a custom field...)."""

    type: str | None = None
    id: str | None = None
    workspace_id: str | None = None
    name: str | None = None
    description: str | None = None
    data_type: str | None = None
    input_options: Mapping[str, Any] | str | None = None
    order: int | None = None
    required_to_create: bool | None = None
    required_to_create_for_contacts: bool | None = None
    visible_on_create: bool | None = None
    visible_to_contacts: bool | None = None
    default: bool | None = None
    ticket_type_id: int | None = None
    archived: bool | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    extra: Mapping[str, Any] = _extra()


@frozen
class TicketTypeAttributeList:
    """The attribute list of a ticket type; iterable over its attributes.

    Intercom sends it in two shapes: ``{"type": "ticket_type_attributes.list",
    "ticket_type_attributes": [...]}`` as its schema says, and ``{"type": "list", "data": [...]}``
    as its live API and examples do. Either way the attributes are in ``ticket_type_attributes``;
    ``items_key`` records which key carried them so that ``to_dict`` writes the same shape back.
    An attribute may be ``null`` in the list (the schema marks it nullable) and stays ``None``.
    """

    type: str | None = None
    ticket_type_attributes: tuple[TicketTypeAttribute | None, ...] | None = None
    items_key: str = field(default="ticket_type_attributes", kw_only=True)
    extra: Mapping[str, Any] = _extra()

    @property
    def data(self) -> tuple[TicketTypeAttribute | None, ...] | None:
        """The attributes, under the name the live API uses."""
        return self.ticket_type_attributes

    def __iter__(self) -> Iterator[TicketTypeAttribute | None]:
        return iter(self.ticket_type_attributes or ())

    def __len__(self) -> int:
        return len(self.ticket_type_attributes or ())


@frozen
class TicketType:
    """A ticket type: the data fields a kind of ticket (a bug, a request...) captures."""

    type: str | None = None
    id: str | None = None
    name: str | None = None
    description: str | None = None
    icon: str | None = None
    workspace_id: str | None = None
    ticket_type_attributes: TicketTypeAttributeList | None = None
    archived: bool | None = None
    is_internal: bool | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    extra: Mapping[str, Any] = _extra()


@frozen
class ContactReference:
    """A contact a ticket affects.

    The schema gives ``type``, ``id`` and ``external_id``; the live API may leave out ``type``
    and send a ``role`` (``"user"``, ``"lead"``).
    """

    type: str | None = None
    id: str | None = None
    external_id: str | None = None
    role: str | None = None
    extra: Mapping[str, Any] = _extra()


@frozen
class TicketContacts:
    """The ``contact.list`` of a ticket; iterable over its contacts."""

    type: str | None = None
    contacts: tuple[ContactReference, ...] | None = None
    extra: Mapping[str, Any] = _extra()

    def __iter__(self) -> Iterator[ContactReference]:
        return iter(self.contacts or ())

    def __len__(self) -> int:
        return len(self.contacts or ())


@frozen
class Ticket:
    """An Intercom ticket, as ``GET /tickets/{id}`` returns it.

    ``admin_assignee_id`` and ``team_assignee_id`` are strings in API 2.9 (``"0"`` when
    unassigned); later versions send integers, which are kept as they came.
    """

    type: str | None = None
    id: str | None = None
    ticket_id: str | None = None
    ticket_attributes: Mapping[str, Any] | None = None
    ticket_state: TicketState | str | None = None
    ticket_state_internal_label: str | None = None
    ticket_state_external_label: str | None = None
    ticket_type: TicketType | None = None
    contacts: TicketContacts | None = None
    admin_assignee_id: str | int | None = None
    team_assignee_id: str | int | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    ticket_parts: TicketParts | None = None
    is_shared: bool | None = None
    extra: Mapping[str, Any] = _extra()

    @property
    def title(self) -> Any:
        """The ``_default_title_`` ticket attribute, or ``None``."""
        return (self.ticket_attributes or {}).get("_default_title_")

    @property
    def description(self) -> Any:
        """The ``_default_description_`` ticket attribute, or ``None``."""
        return (self.ticket_attributes or {}).get("_default_description_")

    @property
    def parts(self) -> tuple[TicketPart, ...]:
        """The ticket's parts (an empty tuple when it has none)."""
        if self.ticket_parts is None:
            return ()
        return self.ticket_parts.ticket_parts or ()
