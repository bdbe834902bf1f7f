"""The ``intercom-async`` command line: ``get``, ``get-many`` and ``demo`` (see ``docs/cli.md``).

click and rich come with the ``cli`` extra (``pip install 'intercom-async[cli]'``). They are
imported only once ``main()`` runs, so the SDK itself never needs them; without them ``main()``
says what to install and returns 2.

Exit statuses: 0 success; 1 a failure (a server or transport error, some tickets not fetched);
2 bad usage or input; 3 ticket not found; 4 authentication or permission refused; 130
interrupted (Ctrl-C). The access token is never printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import logging
import os
import random
import stat
import sys
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

import attrs

from ._bulk import TicketResult
from ._client import TOKEN_ENV, IntercomClient
from ._convert import to_dict
from ._errors import (
    ApiError,
    AuthenticationError,
    IntercomError,
    InvalidTicketIdError,
    NotFoundError,
    PermissionDeniedError,
    ResponseDecodeError,
)
from ._models import Ticket
from ._retry import RetryPolicy
from ._version import __version__

if TYPE_CHECKING:
    import click

    from ._cli_progress import LiveProgress, Tally

__all__ = ["main"]

PROG = "intercom-async"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_AUTH = 4
EXIT_INTERRUPTED = 130
INSTALL_HINT = (
    "intercom-async: the command line needs click and rich: install intercom-async[cli] "
    "(pip install 'intercom-async[cli]')"
)

# The demo: a fake Intercom whose rate limit bites a few times, whose transient faults all
# recover under the default retry policy, and 20 ids it does not have (404, not retried).
DEMO_RATE_LIMIT = 1000
DEMO_WINDOW = 2.0
DEMO_FAULT_PROBABILITY = 0.02
DEMO_SLOW = 1.0  # a slow answer comes this late ...
DEMO_TIMEOUT = 0.75  # ... and the client gives up on it first, then retries
DEMO_UNKNOWN_IDS = 20

_LOG = logging.getLogger("intercom_async")


class UsageProblem(Exception):
    """Bad usage or input: reported as one ``error: <message>`` line, exit status 2."""


@attrs.frozen
class Settings:
    """The global options: how to reach Intercom."""

    token_file: str | None = None
    region: str = "us"
    base_url: str | None = None
    api_version: str = "2.9"
    timeout: float = 30.0
    max_attempts: int = 5


def exit_status(error: IntercomError) -> int:
    """The exit status for a failed ``get``: 3 not found, 4 auth refused, 2 bad id, else 1."""
    if isinstance(error, NotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(error, (AuthenticationError, PermissionDeniedError)):
        return EXIT_AUTH
    if isinstance(error, InvalidTicketIdError):
        return EXIT_USAGE
    return EXIT_FAILED


def failure_record(result: TicketResult) -> dict[str, Any]:
    """The JSON object ``get-many`` writes on stderr for a failed id."""
    error = result.error
    assert error is not None
    return {
        "id": result.id,
        "status": error.status if isinstance(error, (ApiError, ResponseDecodeError)) else None,
        "error": type(error).__name__,
        "code": error.code if isinstance(error, ApiError) else None,
        "message": str(error),
    }


def _json_line(data: Any, *, pretty: bool = False) -> bytes:
    if pretty:
        return json.dumps(data, ensure_ascii=False, indent=2).encode() + b"\n"
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _say(message: str) -> None:
    """One line on stderr (through rich's redirection while a progress bar is up)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _binary_stdout() -> IO[bytes]:
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # pragma: no cover - a replaced sys.stdout without bytes underneath
        raise UsageProblem("standard output does not take bytes")
    return buffer  # type: ignore[no-any-return]


def _why(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


# -- the client ----------------------------------------------------------------------------


def _read_token(path: str) -> str:
    try:
        with open(path, encoding="utf-8-sig") as stream:
            token = stream.readline().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageProblem(f"cannot read token file {path!r}: {_why(exc)}") from None
    if not token:
        raise UsageProblem(f"token file {path!r} is empty")
    return token


def make_client(settings: Settings, *, concurrency: int = 1) -> IntercomClient:
    """The ``IntercomClient`` the global options describe; bad options are a ``UsageProblem``."""
    if settings.token_file is not None:
        token: str | None = _read_token(settings.token_file)
    elif os.environ.get(TOKEN_ENV, "").strip():
        token = None  # the client reads it
    else:
        raise UsageProblem(f"no Intercom access token: set {TOKEN_ENV} or pass --token-file")
    try:
        return IntercomClient(
            token,
            region=settings.region,
            base_url=settings.base_url,
            version=settings.api_version,
            timeout=settings.timeout,
            retry=RetryPolicy(max_attempts=settings.max_attempts),
            max_connections=max(100, concurrency),
        )
    except (ValueError, TypeError) as exc:  # the messages never hold the token
        raise UsageProblem(str(exc)) from None


# -- ids -------------------------------------------------------------------------------------


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
        raise UsageProblem(f"cannot read ids from {name}: {_why(exc)}") from None


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
            raise UsageProblem(f"cannot read ids file {name}: {_why(exc)}") from None
        total = _count_ids(ids_file) if count else None
    lines = _read_lines(stream, name)
    first = next(lines, None)
    if first is None:
        raise UsageProblem(f"no ticket ids in {name}")
    return IdSource(itertools.chain((first,), lines), total)


def demo_ids(tickets: int, seed: int) -> Iterator[str]:
    """``"1"`` to ``str(tickets)``, with ``DEMO_UNKNOWN_IDS`` unknown ids mixed in at random."""
    rng = random.Random(seed)
    slots = set(rng.sample(range(tickets + DEMO_UNKNOWN_IDS), DEMO_UNKNOWN_IDS))
    known = unknown = 0
    for slot in range(tickets + DEMO_UNKNOWN_IDS):
        if slot in slots:
            unknown += 1
            yield str(tickets + unknown)  # past the last ticket the fake has
        else:
            known += 1
            yield str(known)


# -- output ----------------------------------------------------------------------------------


def open_output(path: str | None, stack: contextlib.ExitStack) -> IO[bytes]:
    """Where tickets go: stdout (``None`` or ``-``), or ``path``, truncated."""
    if path is None or path == "-":
        return _binary_stdout()
    try:
        return stack.enter_context(open(path, "wb"))
    except OSError as exc:
        raise UsageProblem(f"cannot write {path!r}: {_why(exc)}") from None


# -- get -------------------------------------------------------------------------------------


async def _get_one(client: IntercomClient, ticket_id: str) -> Ticket:
    async with client:
        return await client.tickets.get(ticket_id)


def run_get(settings: Settings, ticket_id: str, *, pretty: bool) -> int:
    """``intercom-async get ID``: print the ticket as JSON; the exit status says how it went."""
    if not ticket_id.strip():
        raise UsageProblem("the ticket id is empty")
    client = make_client(settings)
    try:
        ticket = asyncio.run(_get_one(client, ticket_id))
    except IntercomError as exc:
        _say(f"error: {exc}")
        return exit_status(exc)
    out = _binary_stdout()
    out.write(_json_line(to_dict(ticket), pretty=pretty))
    out.flush()
    return EXIT_OK


# -- get-many and demo -----------------------------------------------------------------------


async def _refresh_progress(progress: LiveProgress, tally: Tally, client: IntercomClient) -> None:
    while True:
        tally.stats = client.stats
        progress.refresh()
        await asyncio.sleep(0.1)


async def fetch_into(
    client: IntercomClient,
    ids: Iterator[str],
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
                        _say(json.dumps(failure_record(result), ensure_ascii=False))
                    continue
                try:
                    sink.write(_json_line(to_dict(result.ticket)))
                    sink.flush()
                except OSError as exc:
                    tally.output_failed = True
                    if not isinstance(exc, BrokenPipeError):
                        _say(f"error: cannot write a ticket: {_why(exc)}")
                    break
                tally.fetched += 1
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
            tally.stats = client.stats


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so that exiting does not fail on it."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def run_bulk(
    fetch: Callable[[Tally, LiveProgress], Coroutine[Any, Any, None]],
    *,
    tally: Tally,
    show_progress: bool,
    title: str,
) -> int:
    """Run ``fetch(tally, progress)`` (a coroutine function) under a progress bar, then sum up.

    The summary goes to stderr whatever happens: done, failed, interrupted. Returns 130 when
    interrupted, 1 when a ticket failed or could not be written, else 0.
    """
    from ._cli_progress import LiveProgress, print_summary

    try:
        with LiveProgress(tally, enabled=show_progress, description=title) as progress:
            asyncio.run(fetch(tally, progress))
    except KeyboardInterrupt:  # a second Ctrl-C, or one before the fetch began
        tally.interrupted = True
    finally:
        tally.stop()
        print_summary(tally, title=f"{PROG} {title}", table=sys.stderr.isatty())
    if tally.output_failed and not tally.interrupted:
        _silence_stdout()
    if tally.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if tally.failed or tally.output_failed else EXIT_OK


def _auto_progress(progress: bool | None, output: str | None) -> bool:
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
    """``intercom-async get-many``: tickets as JSON lines on stdout, failures on stderr."""
    from ._cli_progress import Tally

    show_progress = _auto_progress(progress, output)
    with contextlib.ExitStack() as stack:
        source = open_ids(args, ids_file, stack, count=show_progress)
        client = make_client(settings, concurrency=concurrency)
        sink = open_output(output, stack)

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
            tally=Tally(total=source.total),
            show_progress=show_progress,
            title="get-many",
        )


def run_demo(
    *, tickets: int, concurrency: int, seed: int, output: str | None, progress: bool | None
) -> int:
    """``intercom-async demo``: ``get-many`` against an in-process fake Intercom.

    Exit status 0 when every ticket the fake has was fetched (the unknown ids fail, as meant).
    """
    from ._cli_progress import Tally
    from .testing import FakeIntercom, Fault

    kinds = [
        Fault.status(503),
        Fault.status(500),
        Fault.html(502),
        Fault.reset(),
        Fault.truncate(),
        Fault.slow(DEMO_SLOW),
    ]
    with contextlib.ExitStack() as stack:
        target = output if output is not None else os.devnull
        sink = open_output(target, stack)

        async def fetch(tally: Tally, live: LiveProgress) -> None:
            async with FakeIntercom(
                tickets=tickets, seed=seed, rate_limit=DEMO_RATE_LIMIT, window=DEMO_WINDOW
            ) as fake:
                fake.random_faults(DEMO_FAULT_PROBABILITY, seed=seed, kinds=kinds)
                client = fake.client(timeout=DEMO_TIMEOUT, max_connections=max(100, concurrency))
                await fetch_into(
                    client,
                    demo_ids(tickets, seed),
                    sink=sink,
                    tally=tally,
                    progress=live,
                    concurrency=concurrency,
                    ordered=False,
                    report_errors=False,
                )

        _say(
            f"demo: a fake Intercom on 127.0.0.1 with {tickets} tickets, a rate limit of "
            f"{DEMO_RATE_LIMIT} requests per {DEMO_WINDOW:g}s, "
            f"{DEMO_FAULT_PROBABILITY:.0%} of requests failing "
            f"(500, 502, 503, reset, cut body, {DEMO_SLOW:g}s late with a "
            f"{DEMO_TIMEOUT:g}s timeout) and {DEMO_UNKNOWN_IDS} unknown ids"
        )
        tally = Tally(total=tickets + DEMO_UNKNOWN_IDS)
        status = run_bulk(
            fetch, tally=tally, show_progress=_auto_progress(progress, target), title="demo"
        )
    if status == EXIT_FAILED and tally.fetched == tickets and not tally.output_failed:
        return EXIT_OK  # only the unknown ids failed
    return status


# -- the click application -------------------------------------------------------------------


class _StderrHandler(logging.Handler):
    """Log records as lines on whatever ``sys.stderr`` is now (rich swaps it under a bar)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _say(self.format(record))
        except Exception:  # pragma: no cover - logging must not raise
            self.handleError(record)


def build_cli() -> click.Group:
    """The ``intercom-async`` click group. click is imported here, when the CLI runs."""
    import click

    @click.group(
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
        epilog="Exit status: 0 done; 1 failed; 2 bad usage or input; 3 not found; "
        "4 authentication or permission refused; 130 interrupted.",
    )
    @click.version_option(__version__, "--version", prog_name=PROG, message="%(prog)s %(version)s")
    @click.option(
        "--token-file",
        metavar="PATH",
        help=f"Read the access token from the first line of PATH [default: ${TOKEN_ENV}].",
    )
    @click.option(
        "--region", default="us", show_default=True, metavar="us|eu|au", help="Data centre."
    )
    @click.option("--base-url", metavar="URL", help="An API root; overrides --region.")
    @click.option(
        "--api-version",
        "--intercom-version",
        "-V",
        "api_version",
        default="2.9",
        show_default=True,
        metavar="VERSION",
        help="The Intercom-Version header: 2.9, 2.11, Unstable...",
    )
    @click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=30.0,
        show_default=True,
        metavar="SECONDS",
        help="The time one attempt may take.",
    )
    @click.option(
        "--max-attempts",
        type=click.IntRange(min=1),
        default=5,
        show_default=True,
        metavar="N",
        help="Attempts per ticket, the first included (1: no retries).",
    )
    @click.option("-v", "--verbose", is_flag=True, help="Log each retry on stderr.")
    @click.pass_context
    def cli(
        ctx: click.Context,
        token_file: str | None,
        region: str,
        base_url: str | None,
        api_version: str,
        timeout: float,
        max_attempts: int,
        verbose: bool,
    ) -> None:
        """Fetch Intercom tickets as JSON.

        The access token comes from --token-file or the INTERCOM_ACCESS_TOKEN environment
        variable, and is never printed. `demo` needs neither token nor network.
        """
        ctx.obj = Settings(token_file, region, base_url, api_version, timeout, max_attempts)
        if verbose:
            handler = _StderrHandler()
            handler.setFormatter(logging.Formatter(f"{PROG}: %(message)s"))
            _LOG.addHandler(handler)

    @cli.command("get")
    @click.argument("ticket_id", metavar="ID")
    @click.option("--pretty", is_flag=True, help="Indent the JSON (2 spaces).")
    @click.pass_obj
    def get(settings: Settings, ticket_id: str, pretty: bool) -> int:
        """Print ticket ID as JSON on one line.

        Exit status 3 when there is no such ticket, 4 when the token is refused, 1 for any
        other failure.
        """
        return run_get(settings, ticket_id, pretty=pretty)

    progress_option = click.option(
        "--progress/--no-progress",
        default=None,
        help="Show a progress bar on stderr [default: when stderr is a terminal].",
    )
    output_option = click.option(
        "-o", "--output", metavar="FILE", help="Write the tickets to FILE instead of stdout."
    )

    @cli.command("get-many")
    @click.argument("ids", nargs=-1, metavar="[IDS]...")
    @click.option(
        "--ids-file", metavar="FILE", help="Read the ids from FILE, one a line (-: stdin)."
    )
    @output_option
    @click.option(
        "--concurrency",
        type=click.IntRange(min=1),
        default=32,
        show_default=True,
        help="Requests in flight at most.",
    )
    @click.option("--ordered", is_flag=True, help="Write the tickets in input order.")
    @progress_option
    @click.pass_obj
    def get_many(
        settings: Settings,
        ids: tuple[str, ...],
        ids_file: str | None,
        output: str | None,
        concurrency: int,
        ordered: bool,
        progress: bool | None,
    ) -> int:
        """Fetch many tickets: one JSON line each on stdout.

        Ids come as arguments, or from --ids-file FILE (one a line, blank lines skipped; `-`
        reads stdin). Each failure is a JSON line on stderr: {"id", "status", "error", "code",
        "message"}. A summary follows on stderr. Exit status 1 if any ticket failed.
        """
        return run_get_many(
            settings,
            ids,
            ids_file=ids_file,
            output=output,
            concurrency=concurrency,
            ordered=ordered,
            progress=progress,
        )

    @cli.command("demo")
    @click.option(
        "--tickets",
        type=click.IntRange(min=1),
        default=3000,
        show_default=True,
        help="Tickets the fake serves.",
    )
    @click.option(
        "--concurrency",
        type=click.IntRange(min=1),
        default=32,
        show_default=True,
        help="Requests in flight at most.",
    )
    @click.option("--seed", type=int, default=7, show_default=True, help="Seed of data and faults.")
    @click.option(
        "-o", "--output", metavar="FILE", help="Write the tickets to FILE [default: discard]."
    )
    @progress_option
    def demo(
        tickets: int, concurrency: int, seed: int, output: str | None, progress: bool | None
    ) -> int:
        """Watch get-many against a fake, flaky, rate-limited Intercom.

        The fake runs in-process: no token, no network. It serves --tickets tickets under a
        rate limit of 1000 requests per 2 s, fails 2% of requests in ways that are retried
        (500, 502, 503, a reset, a cut body, a late answer), and is asked for 20 ids it does
        not have (404). Exit status 0 when every ticket it has was fetched. The global
        connection options do not apply.
        """
        return run_demo(
            tickets=tickets, concurrency=concurrency, seed=seed, output=output, progress=progress
        )

    return cli


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    try:
        import click
        import rich  # noqa: F401
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return EXIT_USAGE
    handlers = list(_LOG.handlers)
    _LOG.addHandler(logging.NullHandler())  # no retry warnings on stderr unless --verbose
    try:
        result = build_cli().main(
            args=list(argv) if argv is not None else None,
            prog_name=PROG,
            standalone_mode=False,
        )
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except UsageProblem as exc:
        _say(f"error: {exc}")
        return EXIT_USAGE
    except (click.Abort, KeyboardInterrupt):
        _say("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_FAILED
    finally:
        _LOG.handlers[:] = handlers
    return result if isinstance(result, int) else EXIT_OK
