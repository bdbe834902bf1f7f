"""The ``intercom-async`` command line: ``get``, ``get-many`` and ``demo`` (see ``docs/cli.md``).

click and rich come with the ``cli`` extra (``pip install 'intercom-async[cli]'``). They are
imported only once ``main()`` runs, so the SDK itself never needs them; without them ``main()``
says what to install and returns 2. The commands live in ``_cli_commands``; this module turns
how a run ended into its exit status: 0 success; 1 a failure (a server or transport error, some
tickets not fetched); 2 bad usage or input; 3 ticket not found; 4 authentication or permission
refused; 130 interrupted (Ctrl-C). The access token is never printed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ._cli_commands import build_cli
from ._cli_common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, PROG, UsageProblem, say
from ._cli_output import silence_stdout

__all__ = ["main"]

INSTALL_HINT = (
    "intercom-async: the command line needs click and rich: install intercom-async[cli] "
    "(pip install 'intercom-async[cli]')"
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    try:
        import click
        import rich  # noqa: F401
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return EXIT_USAGE
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
        say(f"error: {exc}")
        return EXIT_USAGE
    except (click.Abort, KeyboardInterrupt):
        say("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        silence_stdout()
        return EXIT_FAILED
    return result if isinstance(result, int) else EXIT_OK
