"""Search queries: checked before anything is sent, and a few typed helpers to build them.

A query is Intercom's dict: a filter ``{"field": F, "operator": OP, "value": V}``, or a group
``{"operator": "AND" | "OR", "value": [query, ...]}``. ``check_query`` checks it as the
descriptions of ``POST /tickets/search`` (2.10 to 2.16) document it, and returns the JSON to
send; ``where``, ``all_of``, ``any_of`` and ``updated_since`` build one, checked at once.

What is checked:

- the shape: objects with exactly the keys of a filter or of a group;
- the operator: one the description lists, and one that fits the field's type in its "Accepted
  Fields" table (no ``>`` on a string field, no ``~`` on a date);
- the value: an array for ``IN`` and ``NIN``, a number or a timestamp for ``>``, ``<``, ``>=``,
  ``<=``, a string for ``~``, ``!~``, ``^``, ``$``, and the field's own type where the table gives
  one (a date takes a Unix timestamp, ``open`` a boolean);
- Intercom's limits: groups nest at most ``MAX_DEPTH`` deep (the outermost counted, as the fake
  Intercom reads "max 2 nested filters") and hold at most ``MAX_GROUP`` queries each.

A field outside the table (``ticket_attribute.{id}`` or another key of the ticket, which
Intercom says are mostly searchable) gets the operator and value checks only. A ``datetime``
value (timezone-aware) becomes Unix seconds; a naive one is refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, TypeAlias, TypedDict, cast

from ._errors import InvalidQueryError

__all__ = [
    "MAX_DEPTH",
    "MAX_GROUP",
    "Filter",
    "Group",
    "Operator",
    "Query",
    "all_of",
    "any_of",
    "check_query",
    "updated_since",
    "where",
]

MAX_DEPTH = 2  # groups (AND, OR) inside one another, the outermost counted
MAX_GROUP = 15  # queries in one group

Operator: TypeAlias = Literal["=", "!=", "IN", "NIN", ">", "<", ">=", "<=", "~", "!~", "^", "$"]
"""A filter's operator, as Intercom spells it."""

Query: TypeAlias = Mapping[str, Any]
"""A search query: a ``Filter``, a ``Group``, or a dict of the same shape."""


class Filter(TypedDict):
    """One condition on a field: ``{"field": "state", "operator": "=", "value": "submitted"}``."""

    field: str
    operator: Operator
    value: Any


class Group(TypedDict):
    """Queries joined by ``AND`` or ``OR``: ``{"operator": "AND", "value": [...]}``."""

    operator: Literal["AND", "OR"]
    value: list[Filter | Group]


_EQUALITY = ("=", "!=", "IN", "NIN")
_ORDER = (">", "<", ">=", "<=")
_TEXT = ("~", "!~", "^", "$")
_OPERATORS = frozenset(_EQUALITY + _ORDER + _TEXT)
_JOINS = ("AND", "OR")
# The "Accepted Fields" table, by type; ``ticket_attribute.{id}`` and the rest take any type.
_KINDS: dict[str, str] = {
    **dict.fromkeys(
        ("id", "title", "description", "category", "ticket_type_id", "contact_ids",
         "teammate_ids", "admin_assignee_id", "team_assignee_id", "state"),
        "string",
    ),
    **dict.fromkeys(("created_at", "updated_at", "snoozed_until"), "date"),
    "open": "boolean",
}  # fmt: skip
_KIND_OPERATORS = {"string": _EQUALITY + _TEXT, "date": _EQUALITY + _ORDER, "boolean": _EQUALITY}
_ATTRIBUTE = "ticket_attribute."


def _shown(value: object) -> str:
    """How a wrong value is named in a message: its JSON type, and the value when short."""
    if value is None:
        return "null"
    kind = {bool: "a boolean", str: "a string", list: "an array", tuple: "an array"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )
    text = repr(value)
    return f"{kind} ({text})" if len(text) <= 40 else kind


def _seconds(when: datetime, operator: str, where: str) -> int:
    """Unix seconds for ``when``, rounded so that the comparison means the same on Intercom's
    whole seconds (up for ``<`` and ``>=``, down otherwise)."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise InvalidQueryError(
            "a naive datetime (no tzinfo) is ambiguous: give an aware one, such as "
            "datetime(2026, 11, 1, tzinfo=timezone.utc)",
            path=where,
        )
    seconds = when.timestamp()
    return math.ceil(seconds) if operator in ("<", ">=") else math.floor(seconds)


def _scalar(kind: str | None, operator: str, value: object, where: str) -> object:
    """``value`` as it is sent (a datetime as Unix seconds), or ``InvalidQueryError``."""
    if isinstance(value, datetime):
        if kind not in (None, "date"):
            raise InvalidQueryError(f"a {kind} field takes no datetime", path=where)
        return _seconds(value, operator, where)
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidQueryError(f"{value!r} is not a number JSON can carry", path=where)
    if operator in _ORDER:
        if kind == "date":  # Intercom's own example sends the date "1306054154" as a string
            fits = isinstance(value, str) and value.isascii() and value.isdigit()
            fits = fits or (isinstance(value, int) and not isinstance(value, bool))
        else:
            fits = isinstance(value, (int, float)) and not isinstance(value, bool)
        if fits:
            return value
        raise InvalidQueryError(
            f"{operator} takes a number or a timestamp, not {_shown(value)}", path=where
        )
    if operator in _TEXT:
        if isinstance(value, str):
            return value
        raise InvalidQueryError(f"{operator} takes a string, not {_shown(value)}", path=where)
    expected = {
        "string": ((str, int), "a string"),
        "date": ((int, str), "a Unix timestamp (an integer) or an aware datetime"),
        "boolean": ((bool, str), "true or false"),
    }.get(kind or "", ((str, int, float, bool), "a string, a number or a boolean"))
    fits = isinstance(value, expected[0]) and (bool in expected[0] or not isinstance(value, bool))
    if kind == "date" and isinstance(value, str):
        fits = value.isascii() and value.isdigit()
    if kind == "boolean" and isinstance(value, str):
        fits = value in ("true", "false")
    if not fits:
        raise InvalidQueryError(f"takes {expected[1]}, not {_shown(value)}", path=where)
    return value


def _filter(node: Mapping[Any, Any], where: str) -> dict[str, Any]:
    for key in node:
        if key not in ("field", "operator", "value"):
            raise InvalidQueryError(
                "not a key of a filter (field, operator, value)", path=f"{where}.{key}"
            )
    field, operator = node["field"], node.get("operator")
    if not isinstance(field, str) or not field or field == _ATTRIBUTE:
        raise InvalidQueryError(
            f"a filter's field is a field name such as 'updated_at', not {_shown(field)}",
            path=f"{where}.field",
        )
    kind = _KINDS.get(field)
    if operator in _JOINS:
        raise InvalidQueryError(
            f"{operator} joins queries: a group has no field", path=f"{where}.operator"
        )
    if operator not in _OPERATORS:
        raise InvalidQueryError(
            f"{_shown(operator)} is not an operator: use one of {', '.join(sorted(_OPERATORS))}",
            path=f"{where}.operator",
        )
    if kind is not None and operator not in _KIND_OPERATORS[kind]:
        raise InvalidQueryError(
            f"{operator} cannot be used on {field}, a {kind} field: use one of "
            f"{', '.join(_KIND_OPERATORS[kind])}",
            path=f"{where}.operator",
        )
    if "value" not in node:
        raise InvalidQueryError("a filter needs a value", path=where)
    value, at = node["value"], f"{where}.value"
    if operator in ("IN", "NIN"):
        if not isinstance(value, (list, tuple)) or not value:
            raise InvalidQueryError(
                f"{operator} takes a non-empty array of values, not {_shown(value)}", path=at
            )
        value = [_scalar(kind, operator, item, f"{at}[{i}]") for i, item in enumerate(value)]
    elif value is not None or operator not in ("=", "!="):  # "= null": the field is empty
        value = _scalar(kind, operator, value, at)
    return {"field": field, "operator": operator, "value": value}


def _check(node: object, where: str, depth: int) -> dict[str, Any]:
    if not isinstance(node, Mapping):
        raise InvalidQueryError(
            f"expected a filter or a group (an object), not {_shown(node)}", path=where
        )
    operator = node.get("operator")
    if "field" in node:
        return _filter(node, where)
    if operator not in _JOINS:
        if isinstance(operator, str) and operator.upper() in _JOINS:
            hint = f"a group's operator is written {operator.upper()!r}"
            raise InvalidQueryError(hint, path=f"{where}.operator")
        raise InvalidQueryError(
            "expected a filter {field, operator, value} or a group {operator: AND or OR, "
            "value: [...]}",
            path=where,
        )
    for key in node:
        if key not in ("operator", "value"):
            raise InvalidQueryError("not a key of a group (operator, value)", path=f"{where}.{key}")
    if depth >= MAX_DEPTH:
        raise InvalidQueryError(
            f"groups nest at most {MAX_DEPTH} deep (AND and OR inside one another)", path=where
        )
    members = node.get("value")
    if not isinstance(members, (list, tuple)) or not members:
        raise InvalidQueryError(
            f"{operator} takes a non-empty array of queries, not {_shown(members)}",
            path=f"{where}.value",
        )
    if len(members) > MAX_GROUP:
        raise InvalidQueryError(
            f"{len(members)} queries in one {operator} group; at most {MAX_GROUP} are allowed",
            path=f"{where}.value",
        )
    value = [_check(member, f"{where}.value[{i}]", depth + 1) for i, member in enumerate(members)]
    return {"operator": operator, "value": value}


def check_query(query: object) -> dict[str, Any]:
    """The JSON to send for ``query``, checked as Intercom documents search queries.

    The result is a new dict (``query`` is left as it is): the same query, with every
    ``datetime`` turned into Unix seconds and tuples into lists.

    Raises:
        InvalidQueryError: (a ``ValueError``) naming the JSON path of what is wrong and why.
    """
    return _check(query, "query", 0)


def where(field: str, operator: Operator, value: Any) -> Filter:
    """One filter, checked now: ``where("state", "=", "submitted")``.

    ``value`` is a string, a number, a boolean, an aware ``datetime`` (sent as Unix seconds),
    ``None`` (with ``=`` or ``!=``: the field is empty), or a list of those for ``IN`` and
    ``NIN``.

    Raises:
        InvalidQueryError: when Intercom would refuse the filter.
    """
    return cast(Filter, check_query({"field": field, "operator": operator, "value": value}))


def all_of(*queries: Query) -> Group:
    """The queries joined by ``AND`` (every one must match), checked now.

    ``all_of(where("state", "=", "submitted"), updated_since(since))``
    """
    return cast(Group, check_query({"operator": "AND", "value": list(queries)}))


def any_of(*queries: Query) -> Group:
    """The queries joined by ``OR`` (at least one must match), checked now."""
    return cast(Group, check_query({"operator": "OR", "value": list(queries)}))


def updated_since(when: datetime | int) -> Filter:
    """The tickets updated at or after ``when`` (an aware ``datetime``, or Unix seconds), to the
    second: the query of an incremental sync.

    It is sent as ``updated_at > when - 1``: Intercom's times are whole seconds, and so it means
    the same whether its ``>`` is strict or, as its table says, "greater (or equal) than".
    """
    if isinstance(when, datetime):
        when = _seconds(when, "=", "query.value")
    elif isinstance(when, bool) or not isinstance(when, int):
        raise InvalidQueryError(
            f"updated_since takes an aware datetime or Unix seconds, not {_shown(when)}",
            path="query.value",
        )
    return where("updated_at", ">", when - 1)
