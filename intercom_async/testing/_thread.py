"""``LoopThread``: an event loop on a thread of its own, for a fake that sync code can use.

A ``FakeIntercom`` used as ``with FakeIntercom() as fake:`` runs its server on one of these,
so that it answers whatever the calling thread does meanwhile: block in FastAPI's
``TestClient``, run ``asyncio.run`` of its own, or sleep.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["LoopThread"]

T = TypeVar("T")

# The longest a start or a stop may take: a fake on 127.0.0.1 takes milliseconds.
_TIMEOUT = 30.0


class LoopThread:
    """A new event loop, run forever on a daemon thread until ``stop()``."""

    def __init__(self, name: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the thread's loop and wait for its result here."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(_TIMEOUT)

    def stop(self) -> None:
        """Stop the loop, wait for the thread to end, and close the loop."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(_TIMEOUT)
        self._loop.close()
