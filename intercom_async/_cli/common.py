"""What every part of the command line shares: its name, its exit statuses, the
``UsageProblem`` that ends a run with one ``error:`` line and status 2, and the plain lines it
writes on stderr. Like every module of ``_cli`` but ``progress``, it imports neither click
nor rich when it is imported: they are needed only once ``main()`` runs.
"""

from __future__ import annotations

import sys

__all__ = [
    "EXIT_AUTH",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_OUTPUT_CLOSED",
    "EXIT_USAGE",
    "PROG",
    "UsageProblem",
    "say",
    "why",
]

PROG = "intercom-async"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_AUTH = 4
EXIT_INTERRUPTED = 130
EXIT_OUTPUT_CLOSED = 141  # 128 + SIGPIPE: what a shell reports for `yes | head -1`


class UsageProblem(Exception):
    """Bad usage or input: reported as one ``error: <message>`` line, exit status 2."""


def say(message: str) -> None:
    """One line on stderr (through rich's redirection while a progress bar is up)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def why(exc: BaseException) -> str:
    """Why reading or writing a file failed, in a few words for an error line."""
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
