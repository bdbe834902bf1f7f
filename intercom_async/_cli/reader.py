"""``IdReader``: the ids of a file or a pipe, one a line, read on a thread of their own and
handed to the event loop as an async iterator, so that a read that blocks (``tail -f ids |
intercom-async get-many -``) freezes neither the fetch nor Ctrl-C.

The reader is a daemon thread, not the loop's default executor: ``asyncio.run`` waits for that
executor's threads at shutdown, and a read of an open pipe may never return. Each read takes
what the stream has (at most ``CHUNK`` bytes) and hands the complete lines in it to the loop as
one batch: an id written to a pipe is fetched at once, while a big file costs a thread hop per
``CHUNK`` bytes, not per line. At most ``SLOTS`` batches wait for the loop; beyond that the
thread stops reading, so memory does not grow with the number of ids.
"""

from __future__ import annotations

import asyncio
import codecs
import io
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO

from .common import UsageProblem, why

__all__ = ["CHUNK", "SLOTS", "IdReader"]

CHUNK = 64 * 1024  # bytes a read asks for at most
SLOTS = 4  # batches handed over that the loop has not taken yet, at most
_POLL = 0.05  # seconds between reads of a non-blocking stream that had nothing

_Message = list[str] | UsageProblem | None  # a batch of ids; why reading failed; the end
_Deliver = Callable[[_Message], object]  # puts a message in the loop's inbox, from the thread


class IdReader:
    """The non-blank lines of ``stream`` (bytes, UTF-8, a byte-order mark allowed), stripped.

    ``stream`` is read with ``read(CHUNK)``, which must return what is there rather than wait
    for more (a raw ``FileIO``: ``open(..., "rb", buffering=0)``); the reader closes it when it
    is done. ``name`` names it in errors: an unreadable stream, or one with no ids at all, ends
    the iteration with a ``UsageProblem``. Reading starts at the first ``anext()``; ``close()``
    stops it. One caller at a time (``get_many`` takes its ids so).
    """

    def __init__(self, stream: IO[bytes], name: str) -> None:
        self._stream = stream
        self._name = name
        self._slots = threading.Semaphore(SLOTS)
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._inbox: asyncio.Queue[_Message] | None = None
        self._batch: Iterator[str] = iter(())
        self._any = False  # an id was read
        self._done = False

    def __aiter__(self) -> IdReader:
        return self

    async def __anext__(self) -> str:
        while (ticket_id := next(self._batch, None)) is None:
            if self._done:
                raise StopAsyncIteration
            if self._inbox is None:
                self._start()
            assert self._inbox is not None
            message = await self._inbox.get()
            self._slots.release()
            if isinstance(message, list):
                self._batch, self._any = iter(message), True
                continue
            self._done = True
            if message is not None:
                raise message
            if not self._any:
                raise UsageProblem(f"no ticket ids in {self._name}")
        return ticket_id

    def close(self) -> None:
        """Stop reading: the thread ends once its read returns (a read of a pipe may not)."""
        self._stopping = True
        self._slots.release()  # wake the thread if it waits for a slot
        if self._thread is None:
            self._stream.close()

    def _start(self) -> None:
        loop, inbox = asyncio.get_running_loop(), asyncio.Queue[_Message]()
        self._inbox = inbox

        def deliver(message: _Message) -> None:  # raises RuntimeError once the loop is closed
            loop.call_soon_threadsafe(inbox.put_nowait, message)

        self._thread = threading.Thread(
            target=self._run, args=(deliver,), name="intercom-async ids", daemon=True
        )
        self._thread.start()

    def _run(self, deliver: _Deliver) -> None:
        try:
            self._read(deliver)
        finally:
            self._stream.close()

    def _read(self, deliver: _Deliver) -> None:
        """Read to the end, handing over the ids of each read; stop early if told to."""
        decoder = io.IncrementalNewlineDecoder(
            codecs.getincrementaldecoder("utf-8-sig")(), translate=True
        )
        partial = ""  # the start of a line whose end is still to come
        while not self._stopping:
            try:
                chunk = self._stream.read(CHUNK)
                if chunk is None:  # a non-blocking stream with nothing yet
                    time.sleep(_POLL)
                    continue
                lines = (partial + decoder.decode(chunk, final=not chunk)).split("\n")
            except (OSError, ValueError) as exc:  # a UnicodeDecodeError is a ValueError
                problem = UsageProblem(f"cannot read ids from {self._name}: {why(exc)}")
                self._send(deliver, problem)
                return
            partial = lines.pop() if chunk else ""
            ids = [ticket_id for line in lines if (ticket_id := line.strip())]
            if ids and not self._send(deliver, ids):
                return
            if not chunk:
                self._send(deliver, None)
                return

    def _send(self, deliver: _Deliver, message: _Message) -> bool:
        """Hand ``message`` to the loop once a slot is free; ``False`` if no one will take it."""
        self._slots.acquire()
        if self._stopping:
            return False
        try:
            deliver(message)
        except RuntimeError:  # the loop is closed: the run is over
            return False
        return True
