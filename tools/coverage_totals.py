"""Print line and branch coverage apart, from ``coverage json -o -`` on standard input.

``coverage report`` gives one figure that mixes statements and branches; ``make coverage`` ends
with this script's two lines::

    lines:    95.9% (2004 of 2089 statements)
    branches: 89.3% (432 of 484 branches; 48 lines with a branch partly taken)
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    totals = json.load(sys.stdin)["totals"]
    print(
        f"lines:    {totals['percent_statements_covered']:.1f}% "
        f"({totals['covered_lines']} of {totals['num_statements']} statements)"
    )
    if "num_branches" in totals:
        print(
            f"branches: {totals['percent_branches_covered']:.1f}% "
            f"({totals['covered_branches']} of {totals['num_branches']} branches; "
            f"{totals['num_partial_branches']} lines with a branch partly taken)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
