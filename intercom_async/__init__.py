"""intercom-async: an asyncio client for Intercom's tickets API, typed, paced and retried.

```python
from intercom_async import IntercomClient

async with IntercomClient() as client:  # token from INTERCOM_ACCESS_TOKEN
    ticket = await client.tickets.get("1295")
```
"""

import logging as _logging

from ._bulk import TicketId, TicketResult
from ._client import ClientStats, IntercomClient
from ._convert import to_dict
from ._errors import (
    ApiError,
    AuthenticationError,
    ClientClosedError,
    IntercomError,
    InvalidQueryError,
    InvalidTicketIdError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    TransportError,
    UnsupportedVersionError,
)
from ._events import (
    RateLimitWaitEvent,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
)
from ._headers import AppInfo
from ._hooks import Hooks
from ._limits import RateLimit
from ._models import (
    Attachment,
    AuthorType,
    ContactReference,
    CursorPages,
    ErrorDetail,
    LinkedObject,
    LinkedObjectList,
    PageCursor,
    Reference,
    Ticket,
    TicketCategory,
    TicketContacts,
    TicketList,
    TicketPart,
    TicketPartAuthor,
    TicketParts,
    TicketState,
    TicketStateDetail,
    TicketStateList,
    TicketType,
    TicketTypeAttribute,
    TicketTypeAttributeList,
    Timestamp,
    UpdatedAttribute,
    UpdatedAttributeData,
    UpdatedAttributeValue,
)
from ._query import Filter, Group, Query, all_of, any_of, updated_since, where
from ._raw import RawResponse
from ._retry import RetryPolicy
from ._search import TicketSearch
from ._tickets import Tickets, TicketsWithRawResponse
from ._version import __version__

__all__ = [
    "ApiError",
    "AppInfo",
    "Attachment",
    "AuthenticationError",
    "AuthorType",
    "ClientClosedError",
    "ClientStats",
    "ContactReference",
    "CursorPages",
    "ErrorDetail",
    "Filter",
    "Group",
    "Hooks",
    "IntercomClient",
    "IntercomError",
    "InvalidQueryError",
    "InvalidTicketIdError",
    "LinkedObject",
    "LinkedObjectList",
    "NotFoundError",
    "PageCursor",
    "PermissionDeniedError",
    "Query",
    "RateLimit",
    "RateLimitError",
    "RateLimitWaitEvent",
    "RawResponse",
    "Reference",
    "RequestEvent",
    "ResponseDecodeError",
    "ResponseEvent",
    "RetryEvent",
    "RetryPolicy",
    "ServerError",
    "Ticket",
    "TicketCategory",
    "TicketContacts",
    "TicketId",
    "TicketList",
    "TicketPart",
    "TicketPartAuthor",
    "TicketParts",
    "TicketResult",
    "TicketSearch",
    "TicketState",
    "TicketStateDetail",
    "TicketStateList",
    "TicketType",
    "TicketTypeAttribute",
    "TicketTypeAttributeList",
    "Tickets",
    "TicketsWithRawResponse",
    "Timestamp",
    "TransportError",
    "UnsupportedVersionError",
    "UpdatedAttribute",
    "UpdatedAttributeData",
    "UpdatedAttributeValue",
    "__version__",
    "all_of",
    "any_of",
    "to_dict",
    "updated_since",
    "where",
]

# A library logs; the application decides where it goes (and without setup, nowhere).
_logging.getLogger("intercom_async").addHandler(_logging.NullHandler())
