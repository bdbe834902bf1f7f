"""A fake Intercom for your tests: an aiohttp server that answers ``GET /tickets/{id}`` and
``POST /tickets/search`` like Intercom (2.9 when no ``Intercom-Version`` is sent).

```python
from intercom_async.testing import FakeIntercom, Fault

async with FakeIntercom(tickets=10) as fake:
    fake.inject("3", Fault.status(503), times=2)
    async with fake.client() as client:
        ticket = await client.tickets.get("3")  # two 503s, retried, then the ticket
```

With pytest-asyncio installed, the ``intercom_fake`` and ``intercom_client`` fixtures are
available in every test (see ``docs/testing.md``).
"""

from ._data import generate_ticket
from ._faults import Fault
from ._log import RecordedRequest
from ._server import FakeIntercom

__all__ = ["FakeIntercom", "Fault", "RecordedRequest", "generate_ticket"]
