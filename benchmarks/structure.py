"""How long turning decoded JSON into models takes, per ticket, next to ``json.loads``.

Usage: ``.venv/bin/python benchmarks/structure.py [--parts 20 500] [--number 300]``

It times ``structure_ticket`` (what ``client.tickets.get`` runs on every answer) on tickets
from ``intercom_async.testing.generate_ticket``, best of several repeats, and ``to_dict`` back.
"""

from __future__ import annotations

import argparse
import json
import timeit
from collections.abc import Callable
from functools import partial

from intercom_async import to_dict
from intercom_async._convert import structure_ticket
from intercom_async.testing import generate_ticket


def best_us(call: Callable[[], object], number: int, repeat: int = 7) -> float:
    """Microseconds per call, best of ``repeat`` runs of ``number`` calls."""
    return min(timeit.repeat(call, number=number, repeat=repeat)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=int, nargs="+", default=[20, 500])
    parser.add_argument("--number", type=int, default=300, help="calls per repeat (20 parts)")
    args = parser.parse_args()
    columns = ("parts", "JSON KiB", "json.loads µs", "structure µs", "to_dict µs")
    print(" ".join(f"{c:>{w}}" for c, w in zip(columns, (6, 9, 14, 13, 11), strict=True)))
    for parts in args.parts:
        data = generate_ticket("1", parts=parts, seed=1)
        raw = json.dumps(data).encode()
        number = max(1, args.number * 20 // parts)
        ticket = structure_ticket(data)
        loads = best_us(partial(json.loads, raw), number)
        structure = best_us(partial(structure_ticket, data), number)
        back = best_us(partial(to_dict, ticket), number)
        print(f"{parts:>6} {len(raw) / 1024:>9.1f} {loads:>14.1f} {structure:>13.1f} {back:>11.1f}")


if __name__ == "__main__":
    main()
