"""The runner of ``search``: the query from its argument (JSON, a file, or ``-`` for stdin) and
``--updated-since``, checked before anything is sent; then each ticket found as one JSON line,
or its id alone with ``--ids`` (for ``| intercom-async get-many``), each line written whole and
flushed as its page arrives. A pre-2.10 ``--api-version`` is a usage error (status 2) naming
the version to use; without ``--api-version``, search asks for 2.10 (``SEARCH_SINCE``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
from datetime import UTC, date, datetime, time
from typing import IO, Any

import attrs

from .._client import IntercomClient
from .._convert import to_dict
from .._errors import IntercomError, InvalidQueryError, UnsupportedVersionError
from .._query import MAX_GROUP, check_query, updated_since
from .._versions import SEARCH_SINCE, require_version
from .client import Settings, make_client
from .common import EXIT_FAILED, EXIT_OK, EXIT_OUTPUT_CLOSED, UsageProblem, say, why
from .fetch import exit_status
from .output import json_line, open_output, silence_stdout, write_whole
from .quota import check_credentials, shared_quota

__all__ = ["combine", "parse_since", "read_query", "run_search", "search_settings"]

_SECONDS = re.compile(r"[0-9]{1,12}")


def parse_since(text: str) -> int:
    """``--updated-since``'s value as Unix seconds: Unix seconds, an ISO date (midnight UTC) or
    an ISO datetime (UTC when it gives no offset); else a ``ValueError`` that says so."""
    text = text.strip()
    if _SECONDS.fullmatch(text):
        return int(text)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return int(datetime.combine(day, time(), tzinfo=UTC).timestamp())
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date: give an ISO date (2026-11-01, midnight UTC), an ISO "
            "datetime (2026-11-01T08:30:00Z; UTC without an offset) or Unix seconds"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())


def read_query(source: str) -> dict[str, Any]:
    """The query ``source`` gives, checked: JSON text (it starts with ``{``), ``-`` for stdin,
    or the path of a JSON file; a ``UsageProblem`` for what cannot be read or is no query."""
    if source == "-":
        where = "standard input"
        try:
            text = sys.stdin.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageProblem(f"cannot read the query from {where}: {why(exc)}") from None
    elif source.lstrip().startswith("{"):
        where, text = "the query", source
    else:
        where = repr(source)
        try:
            with open(source, encoding="utf-8-sig") as stream:
                text = stream.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageProblem(
                f"cannot read the query file {where}: {why(exc)} (a query given as JSON "
                "starts with '{')"
            ) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UsageProblem(f"{where} is not JSON: {exc}") from None
    try:
        return check_query(data)
    except InvalidQueryError as exc:
        raise UsageProblem(f"malformed query: {exc}") from None


def combine(query: dict[str, Any] | None, since: int | None) -> dict[str, Any]:
    """The query to send: ``query``, ``updated_since(since)``, or both joined by ``AND`` (added
    to ``query`` itself when it is an ``AND`` group with room, so as to nest no deeper)."""
    if since is None:
        if query is None:
            raise UsageProblem("no query: give one (JSON, a file, or - for stdin), "
                               "--updated-since DATE, or both")  # fmt: skip
        return query
    recent = dict(updated_since(since))
    if query is None:
        return recent
    if query.get("operator") == "AND" and "field" not in query and len(query["value"]) < MAX_GROUP:
        joined = {"operator": "AND", "value": [*query["value"], recent]}
    else:
        joined = {"operator": "AND", "value": [query, recent]}
    try:
        return check_query(joined)
    except InvalidQueryError as exc:
        raise UsageProblem(f"malformed query: {exc}") from None


def search_settings(settings: Settings, *, version_typed: bool) -> Settings:
    """``settings`` with an API version that has search: 2.10 unless ``--api-version`` was
    typed; a typed one older than that is a ``UsageProblem`` naming the version to use."""
    if not version_typed:
        return attrs.evolve(settings, api_version=SEARCH_SINCE)
    try:
        require_version(settings.api_version, SEARCH_SINCE, "search")
    except UnsupportedVersionError:
        raise UsageProblem(
            f"search needs Intercom API {SEARCH_SINCE} or later (POST /tickets/search), not "
            f"{settings.api_version}: pass --api-version {SEARCH_SINCE} (or a newer one), or "
            "leave it out"
        ) from None
    except ValueError:  # not a version at all: make_client says so
        pass
    return settings


async def _search_into(
    client: IntercomClient, query: dict[str, Any], sink: IO[bytes], *, ids: bool, per_page: int
) -> int:
    async with client:
        search = client.tickets.search(query, per_page=per_page)
        async with contextlib.aclosing(search):
            try:
                async for ticket in search:
                    if not ids:
                        line = json_line(to_dict(ticket))
                    elif ticket.id:
                        line = ticket.id.encode() + b"\n"
                    else:
                        say("error: a search result has no id")
                        return EXIT_FAILED
                    try:
                        write_whole(sink, line)
                    except BrokenPipeError:  # the reader is gone (`| head -1`): its choice
                        silence_stdout()
                        return EXIT_OUTPUT_CLOSED
                    except OSError as exc:
                        say(f"error: cannot write a ticket: {why(exc)}")
                        return EXIT_FAILED
            except IntercomError as exc:
                say(f"error: {exc}")
                return exit_status(exc)
    return EXIT_OK


def run_search(
    settings: Settings,
    source: str | None,
    *,
    since: int | None,
    ids: bool,
    output: str | None,
    per_page: int,
) -> int:
    """``intercom-async search``: the tickets (or ids) found, one a line; the exit status says
    how it went (as for ``get``: 1 a failure, 3 not found, 4 the token refused)."""
    query = combine(read_query(source) if source is not None else None, since)
    with contextlib.ExitStack() as stack:
        shared = shared_quota(settings.redis_url) if settings.redis_url else None
        client = make_client(settings, quota=shared.quota if shared is not None else None)
        if shared is not None:
            check_credentials(shared)  # refused: status 2, before the request
        sink = open_output(output, stack)
        return asyncio.run(_search_into(client, query, sink, ids=ids, per_page=per_page))
