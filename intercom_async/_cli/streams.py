"""The standard streams when the shell closed them (``intercom-async get 1 >&-``, ``2>&-``):
Python then sets ``sys.stdout`` or ``sys.stderr`` to ``None``. For the length of a run,
``usable_streams()`` puts in their place a stdout that fails every write with a
``UsageProblem`` (so that a command that writes there says so in one ``error:`` line, status 2)
and a stderr that discards what it is given (there is nowhere to say anything: the exit status
speaks alone). A command that does not write to stdout (``get-many -o FILE``, ``demo``) runs.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator

from .common import UsageProblem

__all__ = ["ClosedStdout", "usable_streams"]

STDOUT_CLOSED = "standard output is closed: nowhere to write to"


class ClosedStdout(io.TextIOBase):
    """``sys.stdout`` when file descriptor 1 was closed: every write is a ``UsageProblem``."""

    def write(self, text: str) -> int:
        """Refuse: there is nowhere to write."""
        raise UsageProblem(STDOUT_CLOSED)

    @property
    def buffer(self) -> io.BufferedIOBase:
        """Refuse: there are no bytes underneath either."""
        raise UsageProblem(STDOUT_CLOSED)


@contextlib.contextmanager
def usable_streams() -> Iterator[None]:
    """Stand in for a closed stdout or stderr until the ``with`` block ends."""
    saved = sys.stdout, sys.stderr
    with contextlib.ExitStack() as stack:
        if sys.stdout is None:
            sys.stdout = ClosedStdout()
        if sys.stderr is None:
            # /dev/null takes the lowest free descriptor (2, unless 0 or 1 is closed too), so
            # that no socket or file of the run lands where something may write as stderr.
            sys.stderr = stack.enter_context(open(os.devnull, "w", encoding="utf-8"))
        try:
            yield
        finally:
            sys.stdout, sys.stderr = saved
