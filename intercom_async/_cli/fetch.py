"""The runners of ``get`` and ``get-many``, and the bulk fetch that ``get-many`` and ``demo``
share: tickets out as JSON lines, each written whole and flushed, failures on stderr, a live
progress bar and a summary; Ctrl-C stops the fetch cleanly, with the summary still printed and
exit status 130. rich is imported (through ``progress``) only when a bulk fetch runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterable, Callable, Coroutine, Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any

from .._client import IntercomClient
from .._convert import to_dict
from .._errors import (
    AuthenticationError,
    IntercomError,
    InvalidTicketIdError,
    NotFoundError,
    PermissionDeniedError,
)
from .._models import Ticket
from .client import Settings, make_client
from .common import (
    EXIT_AUTH,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_OUTPUT_CLOSED,
    EXIT_USAGE,
    PROG,
    UsageProblem,
    say,
    why,
)
from .ids import open_ids
from .output import (
    binary_stdout,
    failure_record,
    json_line,
    open_output,
    silence_stdout,
    write_whole,
)
from .quota import check_credentials, shared_quota

if TYPE_CHECKING:
    from .progress import LiveProgress, Tally

__all__ = ["auto_progress", "exit_status", "fetch_into", "run_bulk", "run_get", "run_get_many"]


def exit_status(error: IntercomError) -> int:
    """The exit status for a failed ``get``: 3 not found, 4 auth refused, 2 bad id, else 1."""
    if isinstance(error, NotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(error, (AuthenticationError, PermissionDeniedError)):
        return EXIT_AUTH
    if isinstance(error, InvalidTicketIdError):
        return EXIT_USAGE
    return EXIT_FAILED


async def _get_one(client: IntercomClient, ticket_id: str) -> Ticket:
    async with client:
        return await client.tickets.get(ticket_id)


def run_get(settings: Settings, ticket_id: str, *, pretty: bool) -> int:
    """``intercom-async get ID``: print the ticket as JSON; the exit status says how it went.
    With ``settings.redis_url``, its one request takes its turn from the shared budget."""
    if not ticket_id.strip():
        raise UsageProblem("the ticket id is empty")
    with binary_stdout() as out:  # a closed stdout is an error before the request, not after
        shared = shared_quota(settings.redis_url) if settings.redis_url else None
        client = make_client(settings, quota=shared.quota if shared is not None else None)
        if shared is not None:
            check_credentials(shared)  # refused: status 2, before the request
        try:
            ticket = asyncio.run(_get_one(client, ticket_id))
        except IntercomError as exc:
            say(f"error: {exc}")
            return exit_status(exc)
        try:
            write_whole(out, json_line(to_dict(ticket), pretty=pretty))
        except BrokenPipeError:  # the reader is gone (`| head -1`): its choice, nothing to say
            silence_stdout()
            return EXIT_OUTPUT_CLOSED
    return EXIT_OK


def _observe(tally: Tally, client: IntercomClient) -> None:
    """Bring the tally up to date with the client: its counters, and whether the shared
    budget of ``--redis-url`` is unavailable now (an outage lasts at least half a second, so
    looking every 0.1 s and at the end sees every one)."""
    tally.stats = client.stats
    if getattr(client._quota, "shared", True) is False:
        tally.shared_quota_lost = True


async def _refresh_progress(progress: LiveProgress, tally: Tally, client: IntercomClient) -> None:
    while True:
        _observe(tally, client)
        progress.refresh()
        await asyncio.sleep(0.1)


async def fetch_into(
    client: IntercomClient,
    ids: Iterable[str] | AsyncIterable[str],
    *,
    sink: IO[bytes],
    tally: Tally,
    progress: LiveProgress,
    concurrency: int,
    ordered: bool,
    report_errors: bool,
) -> None:
    """Fetch ``ids``, one JSON line per ticket into ``sink``, one per failure on stderr.

    Every line is written whole and flushed. Ctrl-C (the cancellation ``asyncio.run`` makes of
    it) stops the fetch and returns normally, with ``tally.interrupted`` set. The client is
    closed on the way out.
    """
    async with client:
        ticker = asyncio.create_task(_refresh_progress(progress, tally, client))
        results = client.tickets.get_many(ids, concurrency=concurrency, ordered=ordered)
        try:
            async for result in results:
                if result.ticket is None:
                    assert result.error is not None
                    tally.add_failure(result.error)
                    if report_errors:
                        say(json.dumps(failure_record(result), ensure_ascii=False))
                    if isinstance(result.error, AuthenticationError):
                        tally.token_refused = True  # get_many sends nothing more: stop now
                        break
                    continue
                try:
                    write_whole(sink, json_line(to_dict(result.ticket)))
                except BrokenPipeError:  # the reader is gone (`| head -1`): its choice
                    tally.output_closed = True
                    break
                except OSError as exc:
                    tally.output_failed = True
                    say(f"error: cannot write a ticket: {why(exc)}")
                    break
                tally.fetched += 1  # only once the line is out whole
        except asyncio.CancelledError:
            tally.interrupted = True
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
            # Stop the fetches still in flight now, not when the generator is collected.
            await results.aclose()
            _observe(tally, client)


def run_bulk(
    fetch: Callable[[Tally, LiveProgress], Coroutine[Any, Any, None]],
    *,
    tally: Tally,
    show_progress: bool,
    title: str,
) -> int:
    """Run ``fetch(tally, progress)`` (a coroutine function) under a progress bar, then sum up.

    The summary goes to stderr whatever happens: done, failed, interrupted, or the ids could
    not be read (a ``UsageProblem``, raised once the summary is out), unless that happened
    before any id was dealt with: then the error line says it all. Returns 130 when
    interrupted, 141 when the reader of the output closed it (``| head -1``: as a process
    killed by SIGPIPE, but with the summary), 4 when the token was refused (a 401 stops the
    fetch), 1 when a ticket failed or could not be written, else 0.
    """
    from .progress import LiveProgress, print_summary

    summarize = True
    try:
        with LiveProgress(tally, enabled=show_progress, description=title) as progress:
            asyncio.run(fetch(tally, progress))
    except KeyboardInterrupt:  # a second Ctrl-C, or one before the fetch began
        tally.interrupted = True
    except UsageProblem:
        summarize = tally.done > 0 or tally.interrupted
        raise
    finally:
        tally.stop()
        if summarize:
            print_summary(tally, title=f"{PROG} {title}", table=sys.stderr.isatty())
    if (tally.output_failed or tally.output_closed) and not tally.interrupted:
        silence_stdout()
    if tally.interrupted:
        return EXIT_INTERRUPTED
    if tally.output_closed:
        return EXIT_OUTPUT_CLOSED
    if tally.token_refused:
        return EXIT_AUTH
    return EXIT_FAILED if tally.failed or tally.output_failed else EXIT_OK


def auto_progress(progress: bool | None, output: str | None) -> bool:
    """The bar shows when stderr is a terminal, unless the tickets go to that terminal too."""
    if progress is not None:
        return progress
    if not sys.stderr.isatty():
        return False
    return not (output in (None, "-") and sys.stdout.isatty())


def run_get_many(
    settings: Settings,
    args: Sequence[str],
    *,
    ids_file: str | None,
    output: str | None,
    concurrency: int,
    ordered: bool,
    progress: bool | None,
) -> int:
    """``intercom-async get-many``: tickets as JSON lines on stdout, failures on stderr; with
    ``settings.redis_url``, under the rate-limit budget it shares with every other run that
    uses it."""
    from .progress import Tally

    # "": none, whatever the environment says
    shared = shared_quota(settings.redis_url) if settings.redis_url else None
    show_progress = auto_progress(progress, output)
    with contextlib.ExitStack() as stack:
        source = open_ids(args, ids_file, stack, count=show_progress)
        client = make_client(
            settings, concurrency=concurrency, quota=shared.quota if shared is not None else None
        )
        if shared is not None:
            check_credentials(shared)  # refused: status 2, before any request or output
        sink = open_output(output, stack, ids=source.file, ids_name=source.name)

        async def fetch(tally: Tally, live: LiveProgress) -> None:
            await fetch_into(
                client,
                source.ids,
                sink=sink,
                tally=tally,
                progress=live,
                concurrency=concurrency,
                ordered=ordered,
                report_errors=True,
            )

        return run_bulk(
            fetch,
            tally=Tally(
                total=source.total, shared_quota=shared.shown if shared is not None else None
            ),
            show_progress=show_progress,
            title="get-many",
        )
