"""pytest fixtures for code that uses intercom-async (loaded through the ``pytest11`` entry point).

``intercom_fake`` is a started ``FakeIntercom(tickets=10)``; ``intercom_client`` is an
``IntercomClient`` pointed at it that retries without waiting. Both are function-scoped and
closed after the test. Override ``intercom_fake`` in your ``conftest.py`` to change the fake.
They need pytest-asyncio; without it they are not defined, and pytest runs as before.

``intercom_fake_thread`` is a ``FakeIntercom(tickets=10)`` on an event loop in a thread of its
own, for sync tests (FastAPI's ``TestClient``): it answers while the test's thread blocks.

Both fakes serve ``GET /tickets/{id}`` and ``POST /tickets/search`` (send ``Intercom-Version``
2.10 or later to search) on their tickets, with token ``"test-token"``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from .._client import IntercomClient
from .._retry import RetryPolicy
from ._server import FakeIntercom


@pytest.fixture
def intercom_fake_thread() -> Iterator[FakeIntercom]:
    """A ``FakeIntercom(tickets=10)`` running on a thread of its own, stopped after the test.

    It serves ``GET /tickets/{id}`` and ``POST /tickets/search`` (API 2.10 and later).
    """
    with FakeIntercom(tickets=10) as fake:
        yield fake


try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - exercised by a test that hides pytest-asyncio
    pass
else:

    @pytest_asyncio.fixture
    async def intercom_fake() -> AsyncIterator[FakeIntercom]:
        """A started ``FakeIntercom(tickets=10)`` (tickets ``"1"`` to ``"10"``), closed after.

        It serves ``GET /tickets/{id}`` and ``POST /tickets/search`` (API 2.10 and later).
        """
        async with FakeIntercom(tickets=10) as fake:
            yield fake

    @pytest_asyncio.fixture
    async def intercom_client(intercom_fake: FakeIntercom) -> AsyncIterator[IntercomClient]:
        """``intercom_fake.client(retry=RetryPolicy.no_wait())``, closed after the test."""
        async with intercom_fake.client(retry=RetryPolicy.no_wait()) as client:
            yield client
