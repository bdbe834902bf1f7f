"""The fake's tickets: the generated ones (``"1"`` to ``"N"``, made on demand) and the ones added
with ``add_ticket`` (kept as given), their bodies in each version's shape and their ``Facts``."""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator, Mapping
from typing import Any

from ._data import GeneratedBodies, encode
from ._facts import BASE_SHAPE, Facts, Shape

__all__ = ["FACTS_KEPT", "TicketStore", "order_key"]

# Up to this many generated tickets, their facts are kept once drawn (about 1 kB each); beyond,
# every search draws them again (about 50 microseconds a ticket).
FACTS_KEPT = 20_000


def order_key(ticket_id: str) -> tuple[int, int, str]:
    """Where a ticket comes in search results: decimal ids by value, then the others by text."""
    if ticket_id.isascii() and ticket_id.isdigit() and ticket_id[0] != "0":
        return (0, int(ticket_id), "")
    return (1, 0, ticket_id)


class TicketStore:
    """Every ticket the fake serves."""

    def __init__(self, *, generated: int, parts: int, seed: int | str) -> None:
        self._generated = generated
        self._made = GeneratedBodies(parts=parts, seed=seed)
        self._added: dict[str, bytes] = {}  # kept as given, in every version
        self._added_facts: dict[str, Facts] = {}
        self._facts: dict[str, Facts] = {}  # of generated tickets, when few enough

    def add(self, ticket_id: str, data: Mapping[str, Any]) -> None:
        """Serve ``data`` as ticket ``ticket_id`` (replacing any other)."""
        body = encode(data)
        self._added_facts[ticket_id] = Facts.of(ticket_id, json.loads(body))
        self._added[ticket_id] = body

    def is_generated(self, ticket_id: str) -> bool:
        key = order_key(ticket_id)
        return key[0] == 0 and key[1] <= self._generated

    def body(self, ticket_id: str, shape: Shape = BASE_SHAPE) -> bytes | None:
        """The JSON of ticket ``ticket_id`` in ``shape``, or ``None`` if there is none."""
        body = self._added.get(ticket_id)
        if body is None and self.is_generated(ticket_id):
            body = self._made.get(ticket_id, shape)
        return body

    def facts(self, ticket_id: str) -> Facts:
        """The facts of a ticket the store has."""
        facts = self._added_facts.get(ticket_id) or self._facts.get(ticket_id)
        if facts is None:
            facts = self._made.plan(ticket_id).facts()
            if self._generated <= FACTS_KEPT:
                self._facts[ticket_id] = facts
        return facts

    def ids_after(self, cursor: tuple[int, int, str] | None) -> Iterator[str]:
        """Every ticket id in search order, from just after ``cursor`` (``None``: the first)."""
        first = 1 if cursor is None else cursor[1] + 1
        last = self._generated if cursor is None or cursor[0] == 0 else 0
        generated = (str(n) for n in range(first, last + 1) if str(n) not in self._added)
        added = sorted(
            (i for i in self._added if cursor is None or order_key(i) > cursor), key=order_key
        )
        yield from heapq.merge(generated, added, key=order_key)

    def __len__(self) -> int:
        extra = sum(1 for i in self._added if not self.is_generated(i))
        return self._generated + extra
