"""The fake's reading of a ``POST /tickets/search`` query: checked as Intercom documents it, and
turned into a test on a ticket's ``Facts``.

A query is a filter ``{"field": F, "operator": OP, "value": V}`` or a group
``{"operator": "AND" | "OR", "value": [query, ...]}``; groups nest at most two deep and hold at
most 15 queries each. Anything else is a ``QueryError``, which the fake answers with a 400.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ._facts import Facts

__all__ = ["MAX_DEPTH", "MAX_GROUP", "QueryError", "Test", "compile_query"]

MAX_DEPTH = 2  # groups (AND, OR) inside one another, the outermost counted
MAX_GROUP = 15  # queries in one group

Test = Callable[[Facts], bool]

_TEXT = frozenset(
    {"id", "title", "description", "category", "ticket_type_id", "contact_ids",
     "teammate_ids", "admin_assignee_id", "team_assignee_id", "state"}
)  # fmt: skip
_DATES = frozenset({"created_at", "updated_at", "snoozed_until"})
_BOOLEANS = frozenset({"open"})
_ATTRIBUTE = "ticket_attribute."
# The words 2.14's description asks for, for the categories named in the JSON.
_CATEGORY_TERMS = {"request": "Customer", "task": "Back-office", "tracker": "Tracker"}

_ANY = ("=", "!=", "IN", "NIN")
_ORDER = (">", "<", ">=", "<=")
_STRING = ("~", "!~", "^", "$")
_OPERATORS = {
    **dict.fromkeys(_TEXT, _ANY + _STRING),
    **dict.fromkeys(_DATES, _ANY + _ORDER),
    **dict.fromkeys(_BOOLEANS, _ANY),
}


class QueryError(ValueError):
    """A query Intercom would refuse; the message says where and why."""


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _scalar(field: str, value: object, where: str) -> object:
    """``value`` as the field's type (ids and text as str, dates as int), or ``QueryError``."""
    if field in _DATES:
        if isinstance(value, str) and value.isascii() and value.isdigit():
            return int(value)  # Intercom's own example sends "1306054154"
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise QueryError(f"{where}: {field} takes a Unix timestamp, not {value!r}")
    if field in _BOOLEANS:
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise QueryError(f"{where}: {field} takes true or false, not {value!r}")
    if field in _TEXT:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise QueryError(f"{where}: {field} takes a string, not {_type_name(value)}")
        text = str(value)
        if field == "category":
            return _CATEGORY_TERMS.get(text, text)
        return text
    if isinstance(value, (str, int, float, bool)):  # a ticket attribute: any scalar
        return value
    raise QueryError(f"{where}: {field} takes a string, number or boolean, not {value!r}")


def _same(have: object, want: object) -> bool:
    if isinstance(have, bool) != isinstance(want, bool):
        return False
    if isinstance(have, (int, float)) and isinstance(want, str):
        return str(have) == want  # 2.16's integer assignee ids, searched as strings
    return have == want


def _values(have: object) -> list[object]:
    """A field's values: its items for the list fields (contact_ids, teammate_ids)."""
    if isinstance(have, tuple):
        return list(have)
    return [] if have is None else [have]


def _string_test(operator: str, want: str) -> Callable[[object], bool]:
    folded = want.casefold()
    checks: dict[str, Callable[[str], bool]] = {
        "~": lambda text: folded in text,
        "!~": lambda text: folded not in text,
        "^": lambda text: text.startswith(folded),
        "$": lambda text: text.endswith(folded),
    }
    check = checks[operator]
    return lambda have: isinstance(have, str) and check(have.casefold())


def _order_test(operator: str, want: object) -> Callable[[object], bool]:
    if isinstance(want, bool) or not isinstance(want, (int, float)):
        raise QueryError(f"operator {operator} compares numbers and dates only")
    checks: dict[str, Callable[[float], bool]] = {
        ">": lambda have: have > want,
        "<": lambda have: have < want,
        ">=": lambda have: have >= want,
        "<=": lambda have: have <= want,
    }
    check = checks[operator]
    return lambda have: (
        isinstance(have, (int, float)) and not isinstance(have, bool) and check(have)
    )


def _filter(node: Mapping[str, Any], where: str) -> Test:
    field, operator = node.get("field"), node.get("operator")
    if set(node) - {"field", "operator", "value"}:
        raise QueryError(
            f"{where}: unknown keys {sorted(set(node) - {'field', 'operator', 'value'})}"
        )
    if not isinstance(field, str):
        raise QueryError(f"{where}: a filter needs a field (a string)")
    attribute = field.startswith(_ATTRIBUTE) and len(field) > len(_ATTRIBUTE)
    if field not in _OPERATORS and not attribute:
        raise QueryError(f"{where}: {field!r} is not a field you can search tickets by")
    allowed = _ANY + _ORDER + _STRING if attribute else _OPERATORS[field]
    if operator not in allowed:
        raise QueryError(f"{where}: operator {operator!r} cannot be used with {field}")
    if "value" not in node:
        raise QueryError(f"{where}: a filter needs a value")
    value = node["value"]
    if operator in ("IN", "NIN"):
        if not isinstance(value, list) or not value:
            raise QueryError(f"{where}: {operator} takes a non-empty array of values")
        wanted = [_scalar(field, item, where) for item in value]
        inside = operator == "IN"
        return lambda facts: (
            inside
            == any(_same(have, want) for have in _values(facts.field(field)) for want in wanted)
        )
    if value is None and operator in ("=", "!="):  # no value: snoozed_until = null
        empty = operator == "="
        return lambda facts: empty == (facts.field(field) in (None, ()))
    want = _scalar(field, value, where)
    if operator in ("=", "!="):
        equal = operator == "="
        return lambda facts: equal == any(_same(have, want) for have in _values(facts.field(field)))
    if operator in _STRING:
        if not isinstance(want, str):
            raise QueryError(f"{where}: operator {operator} takes a string")
        check = _string_test(operator, want)
        if operator == "!~":
            return lambda facts: all(check(have) for have in _values(facts.field(field)))
        return lambda facts: any(check(have) for have in _values(facts.field(field)))
    try:
        order = _order_test(operator, want)
    except QueryError as exc:
        raise QueryError(f"{where}: {exc}") from None
    return lambda facts: order(facts.field(field))


def _compile(node: object, where: str, depth: int) -> Test:
    if not isinstance(node, Mapping):
        raise QueryError(f"{where}: expected an object, not {_type_name(node)}")
    if node.get("operator") not in ("AND", "OR"):
        return _filter(node, where)
    if depth >= MAX_DEPTH:
        raise QueryError(f"{where}: filters nest at most {MAX_DEPTH} levels deep")
    members = node.get("value")
    if not isinstance(members, list) or not members:
        raise QueryError(f"{where}: {node['operator']} takes a non-empty array of filters")
    if len(members) > MAX_GROUP:
        raise QueryError(
            f"{where}: {len(members)} filters in one {node['operator']} group, "
            f"at most {MAX_GROUP} are allowed"
        )
    tests = [_compile(member, f"{where}.value[{i}]", depth + 1) for i, member in enumerate(members)]
    if node["operator"] == "AND":
        return lambda facts: all(test(facts) for test in tests)
    return lambda facts: any(test(facts) for test in tests)


def compile_query(query: object) -> Test:
    """A test on ``Facts`` for ``query``, or a ``QueryError`` naming what is wrong and where."""
    return _compile(query, "query", 0)
