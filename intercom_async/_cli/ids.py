"""The ticket ids of ``get-many``: its arguments, or a file (``-``: stdin) read lazily line by
line off the event loop (``IdReader``), blank lines skipped, so that a million ids cost no
memory and a pipe that is still being written to streams. With neither, stdin is read when it
is not a terminal (``cat ids.txt | intercom-async get-many``), as xargs does. A regular file
can be counted first, for the progress bar's total. No ids at all, or an unreadable file, is a
``UsageProblem``: at once for what can be checked without reading, else when the fetch reads
the ids.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import AsyncIterable, Iterable, Sequence
from typing import IO

import attrs

from .common import UsageProblem, why
from .reader import IdReader

__all__ = ["IdSource", "open_ids"]


@attrs.frozen
class IdSource:
    """Ticket ids to fetch, read lazily, and how many there are when that is known; when they
    come from a file (or stdin), its ``os.stat`` and its name, so that the output can be
    refused when it is that same file (``output.open_output``)."""

    ids: Iterable[str] | AsyncIterable[str]
    total: int | None
    file: os.stat_result | None = None
    name: str = ""


def _count_ids(path: str) -> int | None:
    """How many ids a regular file holds (a streaming pass), for the progress bar's total."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, encoding="utf-8-sig") as stream:
            return sum(1 for line in stream if line.strip())
    except (OSError, UnicodeDecodeError):
        return None


def _open_stdin() -> IO[bytes]:
    """Standard input's file descriptor, unbuffered, left open when the stream is closed."""
    try:
        fd = sys.stdin.fileno()  # sys.stdin is None when the shell closed it (<&-)
        return open(fd, "rb", buffering=0, closefd=False)
    except (AttributeError, OSError, ValueError):
        raise UsageProblem("no standard input to read ticket ids from") from None


def _stdin_is_piped() -> bool:
    """Whether stdin is there and is no terminal: a pipe, a file, /dev/null."""
    try:
        return not sys.stdin.isatty()  # sys.stdin is None when the shell closed it (<&-)
    except (AttributeError, OSError, ValueError):
        return False


def open_ids(
    args: Sequence[str], ids_file: str | None, stack: contextlib.ExitStack, *, count: bool
) -> IdSource:
    """The ids of ``get-many``: its arguments, or ``ids_file`` (``-``: stdin) line by line;
    with neither, stdin when it is not a terminal.

    A file is read lazily, off the event loop, and stops being read when ``stack`` closes;
    ``count`` makes a first pass over a regular file for the total. No ids at all, or an
    unreadable file, is a ``UsageProblem``: raised here if opening the file fails, else by the
    iteration.
    """
    if ids_file is None and (list(args) == ["-"] or (not args and _stdin_is_piped())):
        args, ids_file = (), "-"
    if args and ids_file is not None:
        raise UsageProblem("give ticket ids as arguments or with --ids-file, not both")
    if ids_file is None:
        if not args:
            raise UsageProblem(
                "no ticket ids: give them as arguments, with --ids-file FILE, or on stdin"
            )
        for position, ticket_id in enumerate(args, 1):
            if not ticket_id.strip():
                raise UsageProblem(f"ticket id #{position} is empty")
        return IdSource(iter(args), len(args))
    if ids_file == "-":
        name, stream, total = "standard input", _open_stdin(), None
    else:
        name = repr(ids_file)
        try:
            stream = open(ids_file, "rb", buffering=0)  # noqa: SIM115 - the reader closes it
        except OSError as exc:
            raise UsageProblem(f"cannot read ids file {name}: {why(exc)}") from None
        total = _count_ids(ids_file) if count else None
    reader = IdReader(stream, name)
    stack.callback(reader.close)
    try:
        found: os.stat_result | None = os.fstat(stream.fileno())
    except (OSError, ValueError):  # pragma: no cover - a stream without a descriptor
        found = None
    return IdSource(reader, total, found, name if ids_file == "-" else f"ids file {name}")
