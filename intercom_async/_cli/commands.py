"""The click application of ``intercom-async``: the global options, the ``get``, ``get-many``
and ``demo`` commands with their help texts, and the SDK's log on stderr for the length of a
run: the outages of a shared rate-limit budget (``get-many --redis-url``) always, each retry
too with ``--verbose``. click is imported inside ``build_cli``, so importing this module does
not need it; each command hands its options to a runner and returns its exit status.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from .._client import TOKEN_ENV
from .._version import __version__
from .client import Settings
from .common import PROG, say
from .demo import run_demo
from .fetch import run_get, run_get_many
from .quota import REDIS_URL_ENV

if TYPE_CHECKING:
    import click

__all__ = ["build_cli"]

_LOG = logging.getLogger("intercom_async")
# The outages and recoveries of a shared rate-limit budget: shown even without --verbose.
_QUOTA_LOG = "intercom_async.quota"

# The bounds of the numeric options: past them a value is a mistake, or would exhaust memory,
# file descriptors or the patience of whoever waits (a usage error, status 2).
MAX_TIMEOUT = 86_400  # seconds: a day for one attempt
MAX_ATTEMPTS = 100  # the retry policy's max_delay (60 s) ends retries well before
MAX_CONCURRENCY = 1000  # a connection, and a file descriptor, each
MAX_DEMO_TICKETS = 1_000_000  # some 30 minutes under the demo's rate limit


def _finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """Refuse ``nan`` (which passes every range check) and the infinities, as a usage error."""
    if not math.isfinite(value):
        import click

        raise click.BadParameter(f"{value} is not a finite number.", ctx, param)
    return value


class _StderrHandler(logging.Handler):
    """Log records as lines on whatever ``sys.stderr`` is now (rich swaps it under a bar)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            say(self.format(record))
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
        "--allow-insecure-http",
        is_flag=True,
        help="Allow a plain http:// --base-url on a host other than this machine.",
    )
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
        type=click.FloatRange(min=0, min_open=True, max=MAX_TIMEOUT),
        callback=_finite,
        default=30.0,
        show_default=True,
        metavar="SECONDS",
        help="The time one attempt may take.",
    )
    @click.option(
        "--max-attempts",
        type=click.IntRange(min=1, max=MAX_ATTEMPTS),
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
        allow_insecure_http: bool,
        api_version: str,
        timeout: float,
        max_attempts: int,
        verbose: bool,
    ) -> None:
        """Fetch Intercom tickets as JSON.

        The access token comes from --token-file or the INTERCOM_ACCESS_TOKEN environment
        variable, and is never printed. `demo` needs neither token nor network.
        """
        ctx.obj = Settings(
            token_file, region, base_url, api_version, timeout, max_attempts, allow_insecure_http
        )
        # One handler, so that no line shows twice: with --verbose every record of the SDK
        # (retries...), else only those of the shared budget: one line per outage or recovery.
        # (Without it the SDK's logger has only a NullHandler, and retries stay silent.)
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter(f"{PROG}: %(message)s"))
        if not verbose:
            handler.addFilter(logging.Filter(_QUOTA_LOG))
        _LOG.addHandler(handler)
        ctx.call_on_close(lambda: _LOG.removeHandler(handler))

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
        type=click.IntRange(min=1, max=MAX_CONCURRENCY),
        default=32,
        show_default=True,
        help="Requests in flight at most.",
    )
    @click.option("--ordered", is_flag=True, help="Write the tickets in input order.")
    @progress_option
    @click.option(
        "--redis-url",
        envvar=REDIS_URL_ENV,
        show_envvar=True,
        metavar="URL",
        help="Share one rate-limit budget through this Redis with every other run (any "
        "process, any machine) that uses it with the same token: redis://[:PASSWORD@]HOST"
        "[:PORT][/DB], rediss://... or unix:///PATH. Needs intercom-async[redis].",
    )
    @click.pass_obj
    def get_many(
        settings: Settings,
        ids: tuple[str, ...],
        ids_file: str | None,
        output: str | None,
        concurrency: int,
        ordered: bool,
        progress: bool | None,
        redis_url: str | None,
    ) -> int:
        """Fetch many tickets: one JSON line each on stdout.

        Ids come as arguments, or from --ids-file FILE (one a line, blank lines skipped; `-`
        reads stdin). Each failure is a JSON line on stderr: {"id", "status", "error", "code",
        "message"}. A summary follows on stderr. Exit status 1 if any ticket failed.

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
            redis_url=redis_url,
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
