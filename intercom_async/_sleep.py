"""``Sleeper``: the retry backoff's sleep, which ends at once when the client closes."""

from __future__ import annotations

import asyncio

from ._errors import ClientClosedError

__all__ = ["Sleeper"]


class Sleeper:
    """``await sleeper.sleep(seconds)`` sleeps, unless ``close()`` ends it with an error."""

    def __init__(self, message: str) -> None:
        self._message = message
        self._sleeping: set[asyncio.Future[None]] = set()
        self._closed = False

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds``; raise ``ClientClosedError`` at once if closed, or once it closes."""
        if self._closed:
            raise ClientClosedError(self._message)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        alarm: asyncio.Future[None] = loop.create_future()
        timer = loop.call_later(seconds, _ring, alarm)
        self._sleeping.add(alarm)
        try:
            await alarm
        finally:
            timer.cancel()
            self._sleeping.discard(alarm)
        if self._closed:
            raise ClientClosedError(self._message)

    def close(self) -> None:
        """End every sleep, and every later one, with ``ClientClosedError``."""
        self._closed = True
        for alarm in self._sleeping:
            _ring(alarm)


def _ring(alarm: asyncio.Future[None]) -> None:
    if not alarm.done():
        alarm.set_result(None)
