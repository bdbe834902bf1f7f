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
    InvalidTicketIdError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    TransportError,
)
from ._models import (
    Attachment,
    AuthorType,
    ContactReference,
    ErrorDetail,
    LinkedObject,
    LinkedObjectList,
    Reference,
    Ticket,
    TicketCategory,
    TicketContacts,
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
from ._protocol import RateLimit
from ._retry import RetryPolicy
from ._tickets import Tickets
from ._version import __version__

__all__ = [
    "ApiError",
    "Attachment",
    "AuthenticationError",
    "AuthorType",
    "ClientClosedError",
    "ClientStats",
    "ContactReference",
    "ErrorDetail",
    "IntercomClient",
    "IntercomError",
    "InvalidTicketIdError",
    "LinkedObject",
    "LinkedObjectList",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimit",
    "RateLimitError",
    "Reference",
    "ResponseDecodeError",
    "RetryPolicy",
    "ServerError",
    "Ticket",
    "TicketCategory",
    "TicketContacts",
    "TicketId",
    "TicketPart",
    "TicketPartAuthor",
    "TicketParts",
    "TicketResult",
    "TicketState",
    "TicketStateDetail",
    "TicketStateList",
    "TicketType",
    "TicketTypeAttribute",
    "TicketTypeAttributeList",
    "Tickets",
    "Timestamp",
    "TransportError",
    "UpdatedAttribute",
    "UpdatedAttributeData",
    "UpdatedAttributeValue",
    "__version__",
    "to_dict",
]

# A library logs; the application decides where it goes (and without setup, nowhere).
_logging.getLogger("intercom_async").addHandler(_logging.NullHandler())
