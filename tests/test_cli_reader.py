"""``IdReader``, the command line's reader of ids, on a real pipe with a real thread: lines
split across reads, and memory that stays bounded when the fetch does not keep up.
"""

from __future__ import annotations

import asyncio
import io
import os
import threading

from intercom_async._cli.reader import CHUNK, SLOTS, IdReader

WAIT = 10.0


def piped() -> tuple[IdReader, io.FileIO, int]:
    """An ``IdReader`` of a new pipe, the stream it reads (the read end), and the write end."""
    read_end, write_end = os.pipe()
    stream = open(read_end, "rb", buffering=0)  # noqa: SIM115 - the reader closes it
    return IdReader(stream, "the pipe"), stream, write_end


async def test_the_reader_decodes_lines_split_across_reads() -> None:
    reader, _, write_end = piped()
    try:
        os.write(write_end, b"\xef\xbb\xbf1\r\n\xc3")  # a BOM, CRLF, then half an "é"
        assert await asyncio.wait_for(anext(reader), WAIT) == "1"
        os.write(write_end, b"\xa9t\xc3\xa9\r2\n   \n3")  # the rest; CR alone; no last newline
        os.close(write_end)
        assert [ticket_id async for ticket_id in reader] == ["été", "2", "3"]
    finally:
        reader.close()


async def test_the_reader_stops_reading_while_the_fetch_is_behind() -> None:
    reader, _, write_end = piped()
    block = b"".join(b"%07d\n" % n for n in range(4096))  # 32 KiB of ids
    written = 0

    def write_forever() -> None:
        nonlocal written
        try:
            while written < 64 * 1024 * 1024:
                written += os.write(write_end, block)  # blocks while the pipe is full
        except BrokenPipeError:  # the reader closed its end
            pass

    writer = threading.Thread(target=write_forever, daemon=True)
    writer.start()
    try:
        assert await asyncio.wait_for(anext(reader), WAIT) == "0000000"  # then no more
        previous = -1
        while written != previous:  # until the writer is held up by a full pipe
            previous = written
            await asyncio.sleep(0.3)
        # Off the pipe: SLOTS batches waiting for the loop, the one taken, the one the thread
        # holds (CHUNK bytes a read). In the pipe: 1 MiB at most, 64 KiB on Linux by default.
        assert written <= (SLOTS + 2) * CHUNK + len(block) + 1024 * 1024
        assert writer.is_alive()
    finally:
        reader.close()  # the thread takes its leave and closes the read end: the writer stops
        await asyncio.to_thread(writer.join, WAIT)
        os.close(write_end)
    assert not writer.is_alive()


async def test_closing_a_reader_that_never_read_closes_its_stream() -> None:
    reader, stream, write_end = piped()
    reader.close()
    assert stream.closed
    os.close(write_end)


async def test_the_reader_waits_on_a_non_blocking_pipe() -> None:
    reader, stream, write_end = piped()
    os.set_blocking(stream.fileno(), False)  # a read with nothing there returns None
    try:
        pending = asyncio.ensure_future(anext(reader))
        await asyncio.sleep(0.2)
        assert not pending.done()
        os.write(write_end, b"12\n")
        assert await asyncio.wait_for(pending, WAIT) == "12"
        os.close(write_end)
        assert [ticket_id async for ticket_id in reader] == []
    finally:
        reader.close()
