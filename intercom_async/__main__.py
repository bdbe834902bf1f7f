"""``python -m intercom_async``: the ``intercom-async`` command line (see ``docs/cli.md``)."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
