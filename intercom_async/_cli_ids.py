"""The ticket ids of ``get-many``: its arguments, or a file (``-``: stdin) read lazily line by
line, blank lines skipped, so that a million ids cost no memory. A regular file can be counted
first, for the progress bar's total. No ids at all, or an unreadable file, is a
``UsageProblem``.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from typing import IO

import attrs

from ._cli_common import UsageProblem, why

__all__ = ["IdSource", "open_ids"]


@attrs.frozen
class IdSource:
    """Ticket ids to fetch, read lazily, and how many there are when that is known."""

    ids: Iterator[str]
    total: int | None


def _read_lines(stream: IO[str], name: str) -> Iterator[str]:
    """The ids in ``stream``, one a line, blank lines skipped, read as they are needed."""
    try:
        for line in stream:
            ticket_id = line.strip()
            if ticket_id:
                yield ticket_id
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageProblem(f"cannot read ids from {name}: {why(exc)}") from None


def _count_ids(path: str) -> int | None:
    """How many ids a regular file holds (a streaming pass), for the progress bar's total."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, encoding="utf-8-sig") as stream:
            return sum(1 for line in stream if line.strip())
    except (OSError, UnicodeDecodeError):
        return None


def open_ids(
    args: Sequence[str], ids_file: str | None, stack: contextlib.ExitStack, *, count: bool
) -> IdSource:
    """The ids of ``get-many``: its arguments, or ``ids_file`` (``-``: stdin) line by line.

    A file is read lazily; ``count`` makes a first pass over a regular file for the total.
    No ids at all, or an unreadable file, is a ``UsageProblem``.
    """
    if list(args) == ["-"] and ids_file is None:
        args, ids_file = (), "-"
    if args and ids_file is not None:
        raise UsageProblem("give ticket ids as arguments or with --ids-file, not both")
    if ids_file is None:
        if not args:
            raise UsageProblem(
                "no ticket ids: give them as arguments, or --ids-file FILE (- for stdin)"
            )
        for position, ticket_id in enumerate(args, 1):
            if not ticket_id.strip():
                raise UsageProblem(f"ticket id #{position} is empty")
        return IdSource(iter(args), len(args))
    if ids_file == "-":
        if sys.stdin is None or not hasattr(sys.stdin, "buffer"):
            raise UsageProblem("no standard input to read ticket ids from")
        name = "standard input"
        stream: IO[str] = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig")
        total = None
    else:
        name = repr(ids_file)
        try:
            stream = stack.enter_context(open(ids_file, encoding="utf-8-sig"))  # noqa: SIM115
        except OSError as exc:
            raise UsageProblem(f"cannot read ids file {name}: {why(exc)}") from None
        total = _count_ids(ids_file) if count else None
    lines = _read_lines(stream, name)
    first = next(lines, None)
    if first is None:
        raise UsageProblem(f"no ticket ids in {name}")
    return IdSource(itertools.chain((first,), lines), total)
