"""The connection options (``--token-file``, ``--region``, ``--base-url``, ``--api-version``,
``--timeout``, ``--max-attempts``, ``--verbose``, ``--redis-url``...): each defined once, here,
and given both to the group and to every command that talks to Intercom, so that they work
before the command (``intercom-async --region eu get 1``) and after it (``intercom-async get 1
--region eu``), as gh, kubectl and aws take theirs.

A value typed after the command wins over one typed before it; an option left out after the
command takes the group's value (typed, from the environment, or the default), so that a
default never overrides what was typed. ``pass_settings`` hands a command the result as one
``Settings``. An option typed that would not apply is refused (a ``UsageProblem``): one typed
before ``demo`` or ``fake``, which take few or none of them (``refuse_unused``), and
``--region`` with a base URL, which replaces the region's. click is imported only inside the
functions.
"""

from __future__ import annotations

import functools
import logging
import math
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .._settings import BASE_URL_ENV, TOKEN_ENV
from .client import Settings
from .common import PROG, UsageProblem, say
from .quota import REDIS_URL_ENV

if TYPE_CHECKING:
    import click

__all__ = [
    "CONNECTION",
    "MAX_ATTEMPTS",
    "MAX_TIMEOUT",
    "connection_options",
    "finite",
    "given",
    "log_to_stderr",
    "pass_settings",
    "refuse_unused",
    "typed",
]

# The bounds of the numeric options: past them a value is a mistake, or would exhaust the
# patience of whoever waits (a usage error, status 2).
MAX_TIMEOUT = 86_400  # seconds: a day for one attempt
MAX_ATTEMPTS = 100  # the retry policy's max_delay (60 s) ends retries well before

# The connection options by parameter name, in the order the help lists them (the fields of
# ``Settings``).
CONNECTION = (
    "token_file",
    "region",
    "base_url",
    "allow_insecure_http",
    "api_version",
    "timeout",
    "max_attempts",
    "verbose",
    "redis_url",
    "proxy",
)

_F = TypeVar("_F", bound=Callable[..., Any])
_LOG = logging.getLogger("intercom_async")
# The outages and recoveries of a shared rate-limit budget: shown even without --verbose.
_QUOTA_LOG = "intercom_async.quota"


def finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """Refuse ``nan`` (which passes every range check) and the infinities, as a usage error."""
    if not math.isfinite(value):
        import click

        raise click.BadParameter(f"{value} is not a finite number.", ctx, param)
    return value


def _definitions() -> dict[str, Callable[[_F], _F]]:
    """Each connection option's one definition, as a click decorator, by parameter name."""
    import click

    return {
        "token_file": click.option(
            "--token-file",
            metavar="PATH",
            help=f"Read the access token from the first line of PATH [default: ${TOKEN_ENV}].",
        ),
        "region": click.option(
            "--region", default="us", show_default=True, metavar="us|eu|au", help="Data centre."
        ),
        "base_url": click.option(
            "--base-url",
            metavar="URL",
            help=f"An API root (a proxy, a test server) instead of the region's [default: "
            f"${BASE_URL_ENV}, if set].",
        ),
        "allow_insecure_http": click.option(
            "--allow-insecure-http",
            is_flag=True,
            help="Allow a plain http:// --base-url on a host other than this machine.",
        ),
        "api_version": click.option(
            "--api-version",
            "--intercom-version",
            "-V",
            "api_version",
            default="2.9",
            show_default=True,
            metavar="VERSION",
            help="The Intercom-Version header: 2.9, 2.11, Unstable...",
        ),
        "timeout": click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True, max=MAX_TIMEOUT),
            callback=finite,
            default=30.0,
            show_default=True,
            metavar="SECONDS",
            help="The time one attempt may take.",
        ),
        "max_attempts": click.option(
            "--max-attempts",
            type=click.IntRange(min=1, max=MAX_ATTEMPTS),
            default=5,
            show_default=True,
            metavar="N",
            help="Attempts per ticket, the first included (1: no retries).",
        ),
        "verbose": click.option("-v", "--verbose", is_flag=True, help="Log each retry on stderr."),
        "proxy": click.option(
            "--proxy",
            metavar="URL",
            help="Send the requests through this http:// or https:// proxy (credentials in it "
            "are never shown) [default: $HTTPS_PROXY, $HTTP_PROXY or $ALL_PROXY, unless "
            "$NO_PROXY names the host].",
        ),
        "redis_url": click.option(
            "--redis-url",
            envvar=REDIS_URL_ENV,
            show_envvar=True,
            metavar="URL",
            help="Share one rate-limit budget through this Redis with every other run (any "
            "process, any machine) that uses it with the same token: redis://[:PASSWORD@]HOST"
            "[:PORT][/DB], rediss://... or unix:///PATH. Needs intercom-async[redis].",
        ),
    }


def connection_options(*names: str) -> Callable[[_F], _F]:
    """A decorator that gives a click command (or the group) the connection options ``names``
    (default: all of them)."""

    def decorate(function: _F) -> _F:
        definitions = _definitions()
        for name in reversed(names or CONNECTION):
            function = definitions[name](function)
        return function

    return decorate


def given(ctx: click.Context, name: str) -> Any:
    """Connection option ``name`` for the command of ``ctx``: its value if typed after the
    command, else the group's (typed before the command, from the environment, or the
    default)."""
    from click.core import ParameterSource

    if ctx.parent is None or ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE:
        return ctx.params[name]
    return ctx.parent.params[name]


def pass_settings(command: Callable[..., int]) -> Callable[..., int]:
    """Give ``command`` every connection option, and call it with them as one ``Settings``
    (its first argument), the SDK's log on stderr (``log_to_stderr``) meanwhile. Put it right
    above the ``def``, so that the help lists the command's own options first."""

    @functools.wraps(command)
    def run(**params: Any) -> int:
        import click

        ctx = click.get_current_context()
        settings = Settings(**{name: given(ctx, name) for name in CONNECTION})
        for name in CONNECTION:
            del params[name]
        if _typed(ctx, "region") and (
            settings.base_url is not None or os.environ.get(BASE_URL_ENV, "").strip()
        ):
            raise UsageProblem(
                f"--region does not apply with --base-url (or ${BASE_URL_ENV}), which replaces "
                "the region's API root: give one or the other"
            )
        log_to_stderr(ctx, verbose=settings.verbose)
        return command(settings, **params)

    return connection_options()(run)


def typed(ctx: click.Context, name: str) -> bool:
    """Whether connection option ``name`` was typed, before the command of ``ctx`` or after
    (``search`` picks its own ``--api-version`` when it was not)."""
    return _typed(ctx, name)


def _typed(ctx: click.Context, name: str) -> bool:
    """Whether connection option ``name`` was typed, before the command of ``ctx`` or after."""
    from click.core import ParameterSource

    contexts = [ctx] if ctx.parent is None else [ctx, ctx.parent]
    return any(c.get_parameter_source(name) is ParameterSource.COMMANDLINE for c in contexts)


def refuse_unused(ctx: click.Context, *, takes: tuple[str, ...] = ()) -> None:
    """Refuse, as a ``UsageProblem``, a connection option typed before the command of ``ctx``
    (``demo``, ``fake``) that it does not take (``takes``: those it does): it would be ignored.
    (Typed after the command, click refuses it: the command does not have it.)"""
    from click.core import ParameterSource

    if ctx.parent is None:
        return
    for param in ctx.parent.command.params:
        name = param.name
        if (
            name in CONNECTION
            and name not in takes
            and ctx.parent.get_parameter_source(name) is ParameterSource.COMMANDLINE
        ):
            flag = next(o for o in param.opts if o.startswith("--"))  # --verbose, not -v
            if takes:
                also = ", ".join(f"--{t.replace('_', '-')}" for t in takes)
                which = f"of the connection options it takes only {also}"
            else:
                which = "it takes none of the connection options"
            raise UsageProblem(f"{flag} does not apply to {ctx.info_name}: {which}")


class _StderrHandler(logging.Handler):
    """Log records as lines on whatever ``sys.stderr`` is now (rich swaps it under a bar)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            say(self.format(record))
        except Exception:  # pragma: no cover - logging must not raise
            self.handleError(record)


def log_to_stderr(ctx: click.Context, *, verbose: bool) -> None:
    """Until ``ctx`` closes, the SDK's log on stderr: with ``verbose`` every record (retries...),
    else only those of a shared budget, one line per outage or recovery. (Without a handler
    the SDK's logger has only a NullHandler, and retries stay silent.)"""
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter(f"{PROG}: %(message)s"))
    if not verbose:
        handler.addFilter(logging.Filter(_QUOTA_LOG))
    _LOG.addHandler(handler)
    ctx.call_on_close(lambda: _LOG.removeHandler(handler))
