"""The ``intercom-async`` command line (see ``docs/cli.md``): ``main()``, the console script's
entry point, which checks for click and rich (the ``cli`` extra; without them it says what to
install and returns 2), runs the commands of ``commands`` and turns how they ended into the
exit status: 0 success; 1 a failure (a server or transport error, some tickets not fetched); 2
bad usage or input; 3 ticket not found; 4 authentication or permission refused; 130 interrupted
(Ctrl-C); 141 the reader of stdout closed it (``| head -1``), quietly, as a process that
SIGPIPE ends. A stdout or stderr closed from the start is dealt with by ``streams``. click and
rich are imported only once ``main()`` runs, so the SDK never needs them, and the access token
is never printed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .commands import build_cli
from .common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OUTPUT_CLOSED,
    EXIT_USAGE,
    PROG,
    UsageProblem,
    say,
)
from .output import silence_stdout
from .streams import usable_streams

__all__ = ["main"]

INSTALL_HINT = (
    "intercom-async: the command line needs click and rich: install intercom-async[cli] "
    "(pip install 'intercom-async[cli]')"
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    with usable_streams():
        return _run(argv)


def _run(argv: Sequence[str] | None) -> int:
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
    except BrokenPipeError:  # the reader's choice (`| head -1`): nothing to say
        silence_stdout()
        return EXIT_OUTPUT_CLOSED
    return result if isinstance(result, int) else EXIT_OK
