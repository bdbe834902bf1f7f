"""What the command line writes and where: a ticket as one JSON line (or indented, for
``get --pretty``), on stdout or into an ``--output`` file; a failed id of ``get-many`` as a
JSON record for stderr; and, after a broken pipe, stdout pointed at /dev/null so that the
process can exit without another error.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import IO, Any

from .._bulk import TicketResult
from .common import UsageProblem, why

__all__ = ["binary_stdout", "failure_record", "json_line", "open_output", "silence_stdout"]


def json_line(data: Any, *, pretty: bool = False) -> bytes:
    """``data`` as UTF-8 JSON and a newline: compact, or indented by 2 if ``pretty``."""
    layout: dict[str, Any] = {"indent": 2} if pretty else {"separators": (",", ":")}
    try:
        return json.dumps(data, ensure_ascii=False, allow_nan=False, **layout).encode() + b"\n"
    except UnicodeEncodeError:  # a lone surrogate, legal in JSON: write it escaped
        return json.dumps(data, ensure_ascii=True, allow_nan=False, **layout).encode() + b"\n"


def failure_record(result: TicketResult) -> dict[str, Any]:
    """The JSON object ``get-many`` writes on stderr for a failed id: the id, then the error's
    ``to_dict()`` (``status``, ``error``, ``code``, ``message``, ``request_id``)."""
    error = result.error
    assert error is not None
    details = error.to_dict()
    return {
        "id": result.id,
        "status": details["status"],
        "error": details["error"],
        "code": details["code"],
        "message": details["message"],
        "request_id": details["request_id"],
    }


def binary_stdout() -> IO[bytes]:
    """Stdout's bytes, once whatever text is pending has been flushed."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)  # a closed stdout raises a UsageProblem
    if buffer is None:  # pragma: no cover - a replaced sys.stdout without bytes underneath
        raise UsageProblem("standard output does not take bytes")
    return buffer  # type: ignore[no-any-return]


def open_output(path: str | None, stack: contextlib.ExitStack) -> IO[bytes]:
    """Where tickets go: stdout (``None`` or ``-``), or ``path``, truncated."""
    if path is None or path == "-":
        return binary_stdout()
    try:
        return stack.enter_context(open(path, "wb"))
    except OSError as exc:
        raise UsageProblem(f"cannot write {path!r}: {why(exc)}") from None


def silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so that exiting does not fail on it."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
