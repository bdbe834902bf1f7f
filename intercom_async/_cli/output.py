"""What the command line writes and where: a ticket as one JSON line (or indented, for
``get --pretty``), on stdout or into an ``--output`` file, each written whole however many
writes it takes (``write_whole``); a failed id of ``get-many`` as a JSON record for stderr; an
output that is the ids' own file refused before it is truncated; and, after a broken pipe,
stdout pointed at /dev/null so that the process can exit without another error.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import stat
import sys
from typing import IO, Any

from .._bulk import TicketResult
from .._errors import shorten
from .._protocol import MAX_TICKET_ID_LENGTH
from .common import UsageProblem, why

__all__ = [
    "binary_stdout",
    "failure_record",
    "json_line",
    "open_output",
    "silence_stdout",
    "write_whole",
]


def json_line(data: Any, *, pretty: bool = False) -> bytes:
    """``data`` as UTF-8 JSON and a newline: compact, or indented by 2 if ``pretty``."""
    layout: dict[str, Any] = {"indent": 2} if pretty else {"separators": (",", ":")}
    try:
        return json.dumps(data, ensure_ascii=False, allow_nan=False, **layout).encode() + b"\n"
    except UnicodeEncodeError:  # a lone surrogate, legal in JSON: write it escaped
        return json.dumps(data, ensure_ascii=True, allow_nan=False, **layout).encode() + b"\n"


def failure_record(result: TicketResult) -> dict[str, Any]:
    """The JSON object ``get-many`` writes on stderr for a failed id: the id, then the error's
    ``to_dict()`` (``status``, ``error``, ``code``, ``message``, ``request_id``). An id too
    long to be sent is quoted cut short (``shorten``), as the message quotes it."""
    error = result.error
    assert error is not None
    details = error.to_dict()
    ticket_id = result.id
    if isinstance(ticket_id, str) and len(ticket_id) > MAX_TICKET_ID_LENGTH:
        ticket_id = shorten(ticket_id)
    return {
        "id": ticket_id,
        "status": details["status"],
        "error": details["error"],
        "code": details["code"],
        "message": details["message"],
        "request_id": details["request_id"],
    }


def write_whole(sink: IO[bytes], data: bytes) -> None:
    """Write all of ``data`` to ``sink`` (unbuffered, as ``open_output`` gives it), however
    many writes it takes: a write to a pipe that a signal (Ctrl-C) interrupts returns the part
    written, and a descriptor another program made non-blocking takes what fits. Raises the
    ``OSError`` of a write that fails (a ``BrokenPipeError`` when the reader is gone)."""
    view = memoryview(data)
    while view:
        try:
            written = sink.write(view)
        except BlockingIOError as exc:
            written = exc.characters_written
        if not written:  # nothing fitted: wait until something does
            select.select([], [sink], [])
            continue
        view = view[written:]
    sink.flush()


def binary_stdout() -> IO[bytes]:
    """Stdout's bytes, unbuffered (for ``write_whole``), once whatever is pending in
    ``sys.stdout`` has been flushed; the descriptor stays open when the stream is closed."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)  # a closed stdout raises a UsageProblem
    if buffer is None:  # pragma: no cover - a replaced sys.stdout without bytes underneath
        raise UsageProblem("standard output does not take bytes")
    buffer.flush()
    return open(sys.stdout.fileno(), "wb", buffering=0, closefd=False)


def _same_file(ids: os.stat_result | None, output: os.stat_result) -> bool:
    return (
        ids is not None
        and stat.S_ISREG(output.st_mode)
        and (ids.st_dev, ids.st_ino) == (output.st_dev, output.st_ino)
    )


SAME_FILE = "the output is the same file as the ids ({}): writing tickets there would {}"


def open_output(
    path: str | None,
    stack: contextlib.ExitStack,
    *,
    ids: os.stat_result | None = None,
    ids_name: str = "",
) -> IO[bytes]:
    """Where tickets go, unbuffered: stdout (``None`` or ``-``), or ``path``, truncated. When
    that is the regular file the ids come from (``ids``, its ``os.stat``, named ``ids_name``),
    a ``UsageProblem``, before anything is truncated: the tickets would replace the ids, or be
    read back as ids for ever."""
    if path is None or path == "-":
        sink = stack.enter_context(binary_stdout())
        if _same_file(ids, os.fstat(sink.fileno())):
            raise UsageProblem(SAME_FILE.format(ids_name, "make it grow for ever"))
        return sink
    try:  # opened without truncating it, so that it can be compared with the ids' first
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as exc:
        raise UsageProblem(f"cannot write {path!r}: {why(exc)}") from None
    sink = stack.enter_context(open(fd, "wb", buffering=0))  # noqa: SIM115 - it is one
    found = os.fstat(fd)
    if _same_file(ids, found):
        raise UsageProblem(SAME_FILE.format(ids_name, "empty it"))
    if stat.S_ISREG(found.st_mode):
        try:
            os.ftruncate(fd, 0)
        except OSError as exc:
            raise UsageProblem(f"cannot write {path!r}: {why(exc)}") from None
    return sink


def silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so that exiting does not fail on it."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
