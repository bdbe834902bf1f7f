"""The click application of ``intercom-async``: the group, with the connection options of
``options``, and the ``get``, ``get-many``, ``search``, ``demo`` and ``fake`` commands with
their help texts. click is imported inside ``build_cli``, so importing this module does not
need it; each command hands its options to a runner and returns its exit status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._search_request import DEFAULT_PER_PAGE, MAX_PER_PAGE
from .._version import __version__
from .client import Settings
from .common import PROG
from .demo import run_demo
from .fake import RateLimitOption, parse_rate_limit, run_fake
from .fetch import run_get, run_get_many
from .options import (
    connection_options,
    finite,
    given,
    log_to_stderr,
    pass_settings,
    refuse_unused,
    typed,
)
from .search import parse_since, run_search, search_settings

if TYPE_CHECKING:
    import click

__all__ = ["build_cli"]

# The bounds of the numeric options of the commands: past them a value is a mistake, or would
# exhaust memory or file descriptors (a usage error, status 2).
MAX_CONCURRENCY = 1000  # a connection, and a file descriptor, each
MAX_DEMO_TICKETS = 1_000_000  # some 30 minutes under the demo's rate limit
MAX_PORT = 65_535


def _rate_limit(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> RateLimitOption | None:
    """``--rate-limit N/SECONDS``, or a usage error that says what it should look like."""
    if value is None:
        return None
    try:
        return parse_rate_limit(value)
    except ValueError as exc:
        import click

        raise click.BadParameter(str(exc), ctx, param) from None


def build_cli() -> click.Group:
    """The ``intercom-async`` click group. click is imported here, when the CLI runs."""
    import click

    @click.group(
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
        epilog="The connection options work before the command or after it (demo takes only "
        "--verbose, fake none). "
        "Exit status: 0 done; 1 failed; 2 bad usage or input; 3 not found; "
        "4 authentication or permission refused; 130 interrupted.",
    )
    @click.version_option(__version__, "--version", prog_name=PROG, message="%(prog)s %(version)s")
    @connection_options()
    def cli(**connection: object) -> None:
        """Fetch Intercom tickets as JSON.

        The access token comes from --token-file or the INTERCOM_ACCESS_TOKEN environment
        variable, and is never printed. `demo` and `fake` need neither token nor network.
        """
        # Each command reads these options itself (options.given): typed after the command,
        # a value wins over the group's.

    @cli.command("get")
    @click.argument("ticket_id", metavar="ID")
    @click.option("--pretty", is_flag=True, help="Indent the JSON (2 spaces).")
    @pass_settings
    def get(settings: Settings, ticket_id: str, pretty: bool) -> int:
        """Print ticket ID as JSON on one line.

        Exit status 3 when there is no such ticket, 4 when the token is refused, 1 for any
        other failure. The connection options work here too (`get 1295 --region eu`).
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
        type=click.IntRange(min=1, max=MAX_CONCURRENCY),
        default=32,
        show_default=True,
        help="Requests in flight at most.",
    )
    @click.option("--ordered", is_flag=True, help="Write the tickets in input order.")
    @progress_option
    @pass_settings
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
        reads stdin), or from stdin when there are none and it is not a terminal
        (`cat ids.txt | intercom-async get-many`). Each failure is a JSON line on stderr:
        {"id", "status", "error", "code", "message"}. A summary follows on stderr. Exit
        status 1 if any ticket failed.

        With --redis-url, runs at the same time share the app's rate limit instead of each
        spending it as if alone; if Redis is unreachable, each paces itself (one warning on
        stderr per outage).
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

    def _since(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
        if value is None:
            return None
        try:
            return parse_since(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None

    @cli.command("search")
    @click.argument("query", metavar="[QUERY_OR_FILE]", required=False)
    @click.option(
        "--updated-since",
        metavar="DATE",
        callback=_since,
        help="Only tickets updated at or after DATE: 2026-11-01 (midnight UTC), "
        "2026-11-01T08:30:00Z, or Unix seconds. With a query, both must match.",
    )
    @click.option("--ids", is_flag=True, help="Write the ids alone, one a line (for get-many).")
    @output_option
    @click.option(
        "--per-page",
        type=click.IntRange(min=1, max=MAX_PER_PAGE),
        default=DEFAULT_PER_PAGE,
        show_default=True,
        help="Tickets asked for per request.",
    )
    @pass_settings
    def search(
        settings: Settings,
        query: str | None,
        updated_since: int | None,
        ids: bool,
        output: str | None,
        per_page: int,
    ) -> int:
        """Find tickets: one JSON line each on stdout, or their ids with --ids.

        QUERY_OR_FILE is Intercom's search query as JSON ('{"field": "state", "operator":
        "=", "value": "submitted"}'), the path of a JSON file, or - for stdin. A malformed
        query is refused before anything is sent (status 2). Needs Intercom API 2.10 or
        later: without --api-version, search asks for 2.10; an older one is refused.

        \b
          intercom-async search --updated-since 2026-11-01 --ids | intercom-async get-many
        """
        ctx = click.get_current_context()
        settings = search_settings(settings, version_typed=typed(ctx, "api_version"))
        return run_search(
            settings, query, since=updated_since, ids=ids, output=output, per_page=per_page
        )

    @cli.command("demo")
    @click.option(
        "--tickets",
        type=click.IntRange(min=1, max=MAX_DEMO_TICKETS),
        default=3000,
        show_default=True,
        help="Tickets the fake serves.",
    )
    @click.option(
        "--concurrency",
        type=click.IntRange(min=1, max=MAX_CONCURRENCY),
        default=32,
        show_default=True,
        help="Requests in flight at most.",
    )
    @click.option("--seed", type=int, default=7, show_default=True, help="Seed of data and faults.")
    @click.option(
        "-o", "--output", metavar="FILE", help="Write the tickets to FILE [default: discard]."
    )
    @progress_option
    @connection_options("verbose")
    @click.pass_context
    def demo(
        ctx: click.Context,
        tickets: int,
        concurrency: int,
        seed: int,
        output: str | None,
        progress: bool | None,
        verbose: bool,
    ) -> int:
        """Watch get-many against a fake, flaky, rate-limited Intercom.

        The fake runs in-process: no token, no network. It serves --tickets tickets under a
        rate limit of 1000 requests per 2 s, fails 2% of requests in ways that are retried
        (500, 502, 503, a reset, a cut body, a late answer), and is asked for 20 ids it does
        not have (404). Exit status 0 when every ticket it has was fetched. Of the connection
        options, only --verbose applies (before or after `demo`); the others are refused.
        """
        refuse_unused(ctx, takes=("verbose",))
        log_to_stderr(ctx, verbose=given(ctx, "verbose"))
        return run_demo(
            tickets=tickets, concurrency=concurrency, seed=seed, output=output, progress=progress
        )

    @cli.command("fake")
    @click.option(
        "--host", default="127.0.0.1", show_default=True, help="The address to listen on."
    )
    @click.option(
        "--port",
        type=click.IntRange(min=0, max=MAX_PORT),
        default=8000,
        show_default=True,
        help="The port to listen on (0: a free one).",
    )
    @click.option(
        "--tickets",
        type=click.IntRange(min=0),
        default=100,
        show_default=True,
        metavar="N",
        help='Serve tickets "1" to "N".',
    )
    @click.option(
        "--rate-limit",
        callback=_rate_limit,
        metavar="N/SECONDS",
        help="Allow N requests per window of SECONDS, then answer 429 [default: no limit].",
    )
    @click.option(
        "--fault-rate",
        type=click.FloatRange(min=0, max=1),
        callback=finite,
        default=0.0,
        show_default=True,
        metavar="P",
        help="Fail this fraction of requests (500, 503, a 502 page, a reset, a cut body).",
    )
    @click.option("--seed", type=int, default=0, show_default=True, help="Seed of data and faults.")
    @click.option(
        "--token",
        metavar="TOKEN",
        help="Accept this access token only [default: any non-empty token].",
    )
    @click.pass_context
    def fake(
        ctx: click.Context,
        host: str,
        port: int,
        tickets: int,
        rate_limit: RateLimitOption | None,
        fault_rate: float,
        seed: int,
        token: str | None,
    ) -> int:
        """Serve a fake Intercom until Ctrl-C.

        It answers GET /tickets/ID as Intercom 2.9 does (Bearer auth, Intercom-Version,
        X-RateLimit-* headers, error.list errors), for services written in other languages
        and for trying this command line by hand. It prints its URL on stdout, then runs until
        Ctrl-C or SIGTERM (exit status 0). No token or network needed:

        \b
          intercom-async fake --port 8000 &
          INTERCOM_ACCESS_TOKEN=anything intercom-async get 1 --base-url http://127.0.0.1:8000

        The connection options do not apply to it, and are refused.
        """
        refuse_unused(ctx)
        return run_fake(
            host=host,
            port=port,
            tickets=tickets,
            seed=seed,
            rate_limit=rate_limit,
            fault_rate=fault_rate,
            token=token,
        )

    return cli
