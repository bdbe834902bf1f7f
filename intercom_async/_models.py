"""attrs models for Intercom's ticket objects (API 2.9 to 2.16).

Field names and nesting mirror the JSON one to one, so any Intercom document maps onto them
directly: ``ticket.ticket_parts.ticket_parts[0].author.email``. The models carry the fields of
every version from 2.9 to 2.16; a field the version asked for does not send is ``None``. Every
field is optional because nothing on a ticket is required by the 2.9 description. Keys a model
does not know (fields Intercom adds later) are kept, unparsed, in its ``extra`` mapping, so
nothing a response sent is lost.

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
    "AuthorType",
    "ContactReference",
    "CursorPages",
    "ErrorDetail",
    "LinkedObject",
    "LinkedObjectList",
    "PageCursor",
    "Reference",
    "Ticket",
    "TicketCategory",
    "TicketContacts",
    "TicketList",
    "TicketPart",
    "TicketPartAuthor",
    "TicketParts",
    "TicketState",
    "TicketStateDetail",
    "TicketStateList",
    "TicketType",
    "TicketTypeAttribute",
    "TicketTypeAttributeList",
    "Timestamp",
    "UpdatedAttribute",
    "UpdatedAttributeData",
    "UpdatedAttributeValue",
]

Timestamp = datetime | int
"""A Unix time as a timezone-aware UTC ``datetime``.

It stays the plain ``int`` Intercom sent only when that value lies outside what ``datetime`` can
hold (before year 1 or after year 9999), so that no value is lost or refused.
"""


def _extra() -> Any:
    # The keys a response carried that the model does not know (none, mostly).
    return field(factory=dict, kw_only=True)


# The metadata of a field that lenient parsing (``version="Preview"``) never moves to
# ``extra``: a page's tickets and its cursor. A wrong type there fails the call rather than end
# a search early.
_ESSENTIAL = {"essential": True}


# A field that a later API version added to the 2.9 schema has that version as ``since`` in its
# metadata: it is None in older versions' answers, and structuring looks for it only in objects
# that have a key 2.9 does not.


class TicketState(enum.StrEnum):
    """The states a ticket can be in (API 2.9).

    A state Intercom adds later is kept as the plain ``str`` it sent, never an error, so fields
    typed ``TicketState | str`` compare equal to the raw value either way.

    Attributes:
        SUBMITTED: ``"submitted"``.
        IN_PROGRESS: ``"in_progress"``.
        WAITING_ON_CUSTOMER: ``"waiting_on_customer"``.
        RESOLVED: ``"resolved"``.
    """

    SUBMITTED = "submitted"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"


class TicketCategory(enum.StrEnum):
    """The category of a ticket, a ticket type or a linked ticket (API 2.10 and later).

    A category Intercom adds later is kept as the plain ``str`` it sent, as for ``TicketState``.

    Attributes:
        CUSTOMER: ``"Customer"``: a customer's request, shared with them.
        BACK_OFFICE: ``"Back-office"``: work the team tracks on a customer's behalf.
        TRACKER: ``"Tracker"``: one issue that many customer tickets link to.
    """

    CUSTOMER = "Customer"
    BACK_OFFICE = "Back-office"
    TRACKER = "Tracker"


class AuthorType(enum.StrEnum):
    """Who wrote or triggered a ticket part (``TicketPartAuthor.type``).

    ``"user"`` (a contact) is in the descriptions from API 2.10 on. A type Intercom adds later is
    kept as the plain ``str`` it sent.

    Attributes:
        ADMIN: ``"admin"``: a teammate.
        BOT: ``"bot"``: Fin or another bot.
        TEAM: ``"team"``: a team.
        USER: ``"user"``: a contact (API 2.10 and later).
    """

    ADMIN = "admin"
    BOT = "bot"
    TEAM = "team"
    USER = "user"


@frozen
class ErrorDetail:
    """One entry of Intercom's ``error.list``: a machine ``code``, a ``message``, a ``field``.

    Attributes:
        code: the machine-readable code (``"unauthorized"``, ``"not_found"``...).
        message: the human-readable message.
        field: the request field the error is about, when there is one.
    """

    code: str | None = None
    message: str | None = None
    field: str | None = None


@frozen
class Reference:
    """A reference to another object (``assigned_to`` on a ticket part).

    Attributes:
        type: the kind of object (``"admin"``, ``"team"``, ``"contact"``...).
        id: the object's id.
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

    type: str | None = None
    id: str | None = None
    extra: Mapping[str, Any] = _extra()


@frozen
class TicketPartAuthor:
    """Who wrote or triggered a ticket part: an admin, bot, team or user.

    Attributes:
        type: an ``AuthorType`` (``"admin"``, ``"bot"``, ``"team"``, and from API 2.10 on
            ``"user"``), or the ``str`` sent for a type this version does not know.
        id: the author's id.
        name: the author's name.
        email: the author's email address.
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

    type: AuthorType | str | None = None
    id: str | None = None
    name: str | None = None
    email: str | None = None
    extra: Mapping[str, Any] = _extra()


@frozen
class Attachment:
    """A file attached to a ticket part.

    Attributes:
        type: the kind of attachment (``"upload"``).
        name: the file name.
        url: where to download the file.
        content_type: the file's media type (``"image/png"``).
        filesize: the file's size in bytes.
        width: an image's width in pixels.
        height: an image's height in pixels.
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

    type: str | None = None
    name: str | None = None
    url: str | None = None
    content_type: str | None = None
    filesize: int | None = None
    width: int | None = None
    height: int | None = None
    extra: Mapping[str, Any] = _extra()


@frozen
class UpdatedAttribute:
    """The ticket attribute an attribute-update part changed (API 2.14 and later).

    Attributes:
        type: ``"attribute"``.
        id: the attribute's id.
        label: the attribute's name as teammates see it (``"Progress"``).
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

    type: str | None = None
    id: str | None = None
    label: str | None = None
    extra: Mapping[str, Any] = _extra()


@frozen
class UpdatedAttributeValue:
    """The value an attribute-update part set (API 2.14 and later).

    For a file attribute, ``id`` and ``label`` are tuples (of file ids, of file names); for any
    other attribute, strings.

    Attributes:
        type: ``"value"``.
        id: the value (text, number, date... as a string), the id of the chosen list option, or
            for a file attribute a tuple of file ids.
        label: the value as shown, or for a file attribute a tuple of file names.
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

    type: str | None = None
    id: str | tuple[int, ...] | None = None
    label: str | tuple[str, ...] | None = None
    extra: Mapping[str, Any] = _extra()


@frozen
class UpdatedAttributeData:
    """What an attribute-update part changed: ``TicketPart.updated_attribute_data`` (API 2.14+).

    Attributes:
        attribute: the attribute that was updated.
        value: its new value.
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

    attribute: UpdatedAttribute | None = None
    value: UpdatedAttributeValue | None = None
    extra: Mapping[str, Any] = _extra()


@frozen
class TicketPart:
    """One note, comment or event on a ticket.

    Attributes:
        type: ``"ticket_part"``.
        id: the part's id.
        part_type: what the part is: ``"comment"``, ``"note"``, ``"assignment"``,
            ``"ticket_state_updated_by_admin"``...
        body: the part's HTML body, for comments and notes.
        previous_ticket_state: the ticket's state before this part.
        ticket_state: the ticket's state after this part.
        created_at: when the part was created.
        updated_at: when the part was last updated.
        assigned_to: whom the ticket was assigned to, for an assignment.
        author: who wrote or triggered the part.
        attachments: the files attached to the part.
        external_id: the part's id in an external system, if it has one.
        redacted: whether the part's content was redacted.
        app_package_code: the code of the app that created the part through the API
            (API 2.13 and later; only on parts created through the API).
        updated_attribute_data: the attribute an attribute-update part changed, and its new
            value (API 2.14 and later; only on attribute-update parts).
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

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
    app_package_code: str | None = field(default=None, metadata={"since": "2.13"})
    updated_attribute_data: UpdatedAttributeData | None = field(
        default=None, metadata={"since": "2.14"}
    )
    extra: Mapping[str, Any] = _extra()


@frozen
class TicketParts:
    """The ``ticket_part.list`` of a ticket; iterable over its parts.

    Attributes:
        type: ``"ticket_part.list"``.
        ticket_parts: the parts.
        total_count: how many parts the ticket has.
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

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
    """One data field a ticket type captures (``_default_title_``, a custom field...).

    Attributes:
        type: ``"ticket_type_attribute"``.
        id: the attribute's id.
        workspace_id: the id of the workspace the attribute belongs to.
        name: the attribute's name, the key of its value in ``Ticket.ticket_attributes``.
        description: the attribute's description.
        data_type: the type of its values (``"string"``, ``"list"``, ``"integer"``,
            ``"decimal"``, ``"boolean"``, ``"datetime"``, ``"files"``).
        input_options: options for the input (``{"multiline": true}``...), as sent.
        order: the attribute's position in the ticket type's form.
        required_to_create: whether a teammate must fill it in to create a ticket.
        required_to_create_for_contacts: whether a contact must fill it in to create a ticket.
        visible_on_create: whether it is shown when a ticket is created.
        visible_to_contacts: whether contacts can see it.
        default: whether it is one of Intercom's built-in attributes.
        ticket_type_id: the id of the ticket type it belongs to.
        archived: whether the attribute is archived.
        created_at: when the attribute was created.
        updated_at: when the attribute was last updated.
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

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

    Attributes:
        type: ``"ticket_type_attributes.list"`` or ``"list"``.
        ticket_type_attributes: the attributes, whichever key carried them.
        items_key: ``"ticket_type_attributes"`` or ``"data"``: the key the JSON used.
        extra: keys of the JSON object this model does not know, with their values as sent.
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
    """A ticket type: the data fields a kind of ticket (a bug, a request...) captures.

    Attributes:
        type: ``"ticket_type"``.
        id: the ticket type's id.
        name: the ticket type's name (``"Bug"``).
        description: the ticket type's description.
        icon: the ticket type's icon, an emoji.
        workspace_id: the id of the workspace the ticket type belongs to.
        ticket_type_attributes: the data fields tickets of this type capture.
        archived: whether the ticket type is archived.
        is_internal: whether tickets of this type are internal (sent by the live API).
        created_at: when the ticket type was created.
        updated_at: when the ticket type was last updated.
        category: the category of the type's tickets: a ``TicketCategory``, or the ``str``
            sent for one this version does not know (API 2.10 and later).
        ticket_states: the states tickets of this type can be in (API 2.12 and later).
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

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
    category: TicketCategory | str | None = field(default=None, metadata={"since": "2.10"})
    ticket_states: TicketStateList | None = field(default=None, metadata={"since": "2.12"})
    extra: Mapping[str, Any] = _extra()


@frozen
class ContactReference:
    """A contact a ticket affects.

    The schema gives ``type``, ``id`` and ``external_id``; the live API may leave out ``type``
    and send a ``role`` (``"user"``, ``"lead"``).

    Attributes:
        type: ``"contact"``.
        id: Intercom's id of the contact.
        external_id: your own id of the contact, if you gave Intercom one.
        role: ``"user"`` or ``"lead"``.
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

    type: str | None = None
    id: str | None = None
    external_id: str | None = None
    role: str | None = None
    extra: Mapping[str, Any] = _extra()


@frozen
class TicketContacts:
    """The ``contact.list`` of a ticket; iterable over its contacts.

    Attributes:
        type: ``"contact.list"``.
        contacts: the contacts the ticket affects.
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

    type: str | None = None
    contacts: tuple[ContactReference, ...] | None = None
    extra: Mapping[str, Any] = _extra()

    def __iter__(self) -> Iterator[ContactReference]:
        return iter(self.contacts or ())

    def __len__(self) -> int:
        return len(self.contacts or ())


@frozen
class TicketStateDetail:
    """A ticket state as API 2.12 and later send it: an object, not a string.

    Only a client that asks for ``version="2.12"`` or newer sees it, in ``Ticket.ticket_state``;
    ``Ticket.state`` gives the category either way.

    Attributes:
        type: ``"ticket_state"``.
        id: the id of the (possibly custom) state.
        category: the state's category, one of the 2.9 states.
        internal_label: the state as teammates see it.
        external_label: the state as customers see it.
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

    type: str | None = None
    id: str | None = None
    category: TicketState | str | None = None
    internal_label: str | None = None
    external_label: str | None = None
    extra: Mapping[str, Any] = _extra()


@frozen
class TicketStateList:
    """The states a ticket type's tickets can be in: ``TicketType.ticket_states`` (API 2.12+).

    Iterable over its states. A state may be ``null`` in the list (the schema marks it nullable)
    and stays ``None``.

    Attributes:
        type: ``"list"``.
        data: the states.
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

    type: str | None = None
    data: tuple[TicketStateDetail | None, ...] | None = None
    extra: Mapping[str, Any] = _extra()

    def __iter__(self) -> Iterator[TicketStateDetail | None]:
        return iter(self.data or ())

    def __len__(self) -> int:
        return len(self.data or ())


@frozen
class LinkedObject:
    """A conversation or ticket linked to a ticket (API 2.10 and later).

    Attributes:
        type: ``"ticket"`` or ``"conversation"``.
        id: the linked conversation's or ticket's id.
        category: a linked ticket's category: a ``TicketCategory``, or the ``str`` sent for
            one this version does not know; ``None`` for a conversation.
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

    type: str | None = None
    id: str | None = None
    category: TicketCategory | str | None = None
    extra: Mapping[str, Any] = _extra()


@frozen
class LinkedObjectList:
    """The conversations and tickets linked to a ticket: ``Ticket.linked_objects`` (API 2.10+).

    Iterable over its linked objects. Intercom returns up to 1000; ``has_more`` says whether
    there were more.

    Attributes:
        type: ``"list"``.
        total_count: how many objects are linked.
        has_more: whether more objects are linked than ``data`` holds.
        data: the linked conversations and tickets.
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

    type: str | None = None
    total_count: int | None = None
    has_more: bool | None = None
    data: tuple[LinkedObject, ...] | None = None
    extra: Mapping[str, Any] = _extra()

    def __iter__(self) -> Iterator[LinkedObject]:
        return iter(self.data or ())

    def __len__(self) -> int:
        return len(self.data or ())


_AssigneeIdType = type[str] | type[int] | None


def _assignee_id(doc: str) -> Any:
    # An admin or team id, sent as a string up to 2.15 and as an integer from 2.16 on: always a
    # ``str`` here, ``None`` when unassigned ("0" or 0). Structuring and ``to_dict`` know such
    # fields by this metadata.
    return field(default=None, metadata={"assignee_id": doc})


@frozen
class Ticket:
    """An Intercom ticket, as ``GET /tickets/{id}`` returns it.

    **Assignee ids.** Intercom sends ``admin_assignee_id`` and ``team_assignee_id`` as strings
    up to API 2.15 (``"1295"``, ``"0"`` when unassigned) and as integers in 2.16 (``1295``,
    ``0``). Here they are one type whatever the version: the id as a ``str`` (``"1295"``), or
    ``None`` when the ticket is unassigned (or the field was not sent). ``to_dict`` writes them
    back as the JSON had them.

    Fields that a later API version added are ``None`` in the answers of an earlier one:
    ``category``, ``open``, ``snoozed_until`` and ``linked_objects`` (2.10),
    ``previous_ticket_state_id`` (2.16).

    Attributes:
        type: ``"ticket"``.
        id: Intercom's id of the ticket, the one ``GET /tickets/{id}`` takes.
        ticket_id: the ticket's number as the Inbox shows it.
        ticket_attributes: the values of the ticket's data fields by attribute name
            (``_default_title_``, ``_default_description_``, your own), as sent.
        ticket_state: the ticket's state: a ``TicketState``, or the ``str`` sent for a state
            this version does not know; from API 2.12 on, a ``TicketStateDetail`` (see
            ``state`` for the state either way).
        ticket_state_internal_label: the state's label as teammates see it.
        ticket_state_external_label: the state's label as customers see it.
        ticket_type: the ticket's type, with the data fields it captures.
        contacts: the contacts the ticket affects.
        admin_assignee_id: the id of the admin the ticket is assigned to, as a ``str``;
            ``None`` when no admin is.
        team_assignee_id: the id of the team the ticket is assigned to, as a ``str``; ``None``
            when no team is.
        created_at: when the ticket was created.
        updated_at: when the ticket was last updated.
        ticket_parts: the ticket's notes, comments and events.
        is_shared: whether the ticket is shared with the customer.
        category: the ticket's category: a ``TicketCategory``, or the ``str`` sent for one this
            version does not know (API 2.10 and later).
        open: whether the ticket is open; ``False`` when it is closed (API 2.10 and later).
        snoozed_until: until when the ticket is snoozed; ``None`` when it is not snoozed
            (API 2.10 and later).
        linked_objects: the conversations and tickets linked to this one (API 2.10 and later).
        previous_ticket_state_id: the id of the state the ticket was in before its latest
            state change; ``None`` when it never changed (API 2.16 and later).
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

    type: str | None = None
    id: str | None = None
    ticket_id: str | None = None
    ticket_attributes: Mapping[str, Any] | None = None
    ticket_state: TicketState | str | TicketStateDetail | None = None
    ticket_state_internal_label: str | None = None
    ticket_state_external_label: str | None = None
    ticket_type: TicketType | None = None
    contacts: TicketContacts | None = None
    admin_assignee_id: str | None = _assignee_id("admin")
    team_assignee_id: str | None = _assignee_id("team")
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    ticket_parts: TicketParts | None = None
    is_shared: bool | None = None
    category: TicketCategory | str | None = field(default=None, metadata={"since": "2.10"})
    open: bool | None = field(default=None, metadata={"since": "2.10"})
    snoozed_until: Timestamp | None = field(default=None, metadata={"since": "2.10"})
    linked_objects: LinkedObjectList | None = field(default=None, metadata={"since": "2.10"})
    previous_ticket_state_id: str | None = field(default=None, metadata={"since": "2.16"})
    extra: Mapping[str, Any] = _extra()
    # How the JSON sent each assignee id (``str``, ``int``, or ``None`` when it did not), in the
    # order of the fields, so that ``to_dict`` writes "0", 0 or nothing back for ``None``.
    _assignee_id_types: tuple[_AssigneeIdType, ...] = field(
        default=(), kw_only=True, eq=False, repr=False
    )

    @property
    def title(self) -> Any:
        """The ``_default_title_`` ticket attribute, or ``None``."""
        return (self.ticket_attributes or {}).get("_default_title_")

    @property
    def description(self) -> Any:
        """The ``_default_description_`` ticket attribute, or ``None``."""
        return (self.ticket_attributes or {}).get("_default_description_")

    @property
    def state(self) -> TicketState | str | None:
        """The ticket's state, whether ``ticket_state`` is a string (2.9) or an object (2.12+)."""
        if isinstance(self.ticket_state, TicketStateDetail):
            return self.ticket_state.category
        return self.ticket_state

    @property
    def parts(self) -> tuple[TicketPart, ...]:
        """The ticket's parts (an empty tuple when it has none)."""
        if self.ticket_parts is None:
            return ()
        return self.ticket_parts.ticket_parts or ()


@frozen
class PageCursor:
    """Where the next page of a search starts: ``CursorPages.next`` (API 2.10 and later).

    Attributes:
        per_page: how many results the next page holds.
        starting_after: the cursor to send as ``pagination.starting_after`` for the next page:
            opaque, to pass back as it came.
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

    per_page: int | None = None
    starting_after: str | None = field(default=None, metadata=_ESSENTIAL)
    extra: Mapping[str, Any] = _extra()


@frozen
class CursorPages:
    """Where a page of search results stands: ``TicketList.pages`` (API 2.10 and later).

    Attributes:
        type: ``"pages"``.
        page: the number of this page, from 1.
        per_page: how many results a page holds.
        total_pages: how many pages the search has in all.
        next: where the next page starts; ``None`` on the last page.
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

    type: str | None = None
    page: int | None = None
    per_page: int | None = None
    total_pages: int | None = None
    next: PageCursor | None = field(default=None, metadata=_ESSENTIAL)
    extra: Mapping[str, Any] = _extra()

    @property
    def next_cursor(self) -> str | None:
        """The cursor of the next page (``next.starting_after``), or ``None`` on the last."""
        return None if self.next is None else self.next.starting_after


@frozen
class TicketList:
    """One page of search results, as ``POST /tickets/search`` returns it (API 2.10 and later).

    Iterable over its tickets. A search result is a ticket like the one ``GET /tickets/{id}``
    returns; the descriptions 2.10 to 2.16 show it with its parts, but any field may be absent
    (``ticket_parts`` is then ``None`` and ``Ticket.parts`` empty): fetch the ticket again with
    ``tickets.get`` when you need what a result lacks.

    Attributes:
        type: ``"ticket.list"``.
        tickets: the tickets of this page.
        total_count: how many tickets the whole search matches.
        pages: this page's number, the number of pages, and where the next one starts.
        extra: keys of the JSON object this model does not know, with their values as sent.
    """

    type: str | None = None
    tickets: tuple[Ticket, ...] | None = field(default=None, metadata=_ESSENTIAL)
    total_count: int | None = None
    pages: CursorPages | None = field(default=None, metadata=_ESSENTIAL)
    extra: Mapping[str, Any] = _extra()

    @property
    def next_cursor(self) -> str | None:
        """The cursor of the next page (``pages.next.starting_after``), or ``None`` when this
        page is the last."""
        return None if self.pages is None else self.pages.next_cursor

    def __iter__(self) -> Iterator[Ticket]:
        return iter(self.tickets or ())

    def __len__(self) -> int:
        return len(self.tickets or ())
