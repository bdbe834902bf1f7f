"""Hypothesis strategies for the JSON that Intercom's 2.9 description allows for a ticket.

The schemas are ``tests/data/ticket_schemas_2_9.json``, copied from the OpenAPI description in
``../shared/spec/intercom-openapi-2.9.yaml`` (``test_schema_copy_matches_the_spec`` keeps the two
in step). Every property may be absent; ``nullable`` ones may be null; objects may carry keys the
schema does not name (a later API version adds some), and the live API's own shapes (the
``{"type": "list", "data": [...]}`` attribute list, contacts with ``role``) are mixed in.
"""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

from .conftest import load

SCHEMAS: dict[str, Any] = load("ticket_schemas_2_9.json")
JSON_SCALARS = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
UNKNOWN_KEYS = st.text(string.ascii_lowercase + "_", min_size=3, max_size=10).map(
    lambda key: f"x_{key}"
)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved = dict(SCHEMAS[ref.rsplit("/", 1)[1]])
    if schema.get("nullable"):
        resolved["nullable"] = True
    return resolved


def for_schema(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values the (resolved) schema allows."""
    schema = _resolve(schema)
    base = _base(schema, depth)
    return st.none() | base if schema.get("nullable") else base


def _base(schema: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([for_schema(option, depth + 1) for option in schema["anyOf"]])
    kind = schema.get("type", "object")
    if kind == "string":
        return st.text(max_size=12)
    if kind == "integer":
        return st.integers(-(2**40), 2**40) | st.integers()
    if kind == "number":
        return st.integers(-1000, 1000) | st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        items = schema.get("items")
        return st.lists(for_schema(items, depth + 1) if items else JSON_VALUES, max_size=3)
    return _object(schema, depth)


def _object(schema: dict[str, Any], depth: int) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties")
    if not properties:
        extra = schema.get("additionalProperties")
        values = for_schema(extra, depth + 1) if isinstance(extra, dict) else JSON_VALUES
        return st.dictionaries(st.text(max_size=8), values, max_size=3)
    required = set(schema.get("required", ()))
    known = st.fixed_dictionaries(
        {name: for_schema(sub, depth + 1) for name, sub in properties.items() if name in required},
        optional={
            name: for_schema(sub, depth + 1)
            for name, sub in properties.items()
            if name not in required
        },
    )
    unknown = st.dictionaries(UNKNOWN_KEYS, JSON_VALUES, max_size=2)
    return st.builds(lambda a, b: {**b, **a}, known, unknown)


def _live_attribute_list(attributes: dict[str, Any]) -> dict[str, Any]:
    """The shape the live API sends: ``{"type": "list", "data": [...]}``."""
    items = attributes.pop("ticket_type_attributes", None)
    if items is None:
        return attributes
    return {**attributes, "type": "list", "data": items}


@st.composite
def tickets(draw: st.DrawFn) -> dict[str, Any]:
    """A ticket the 2.9 description allows, sometimes in the live API's shapes."""
    ticket: dict[str, Any] = draw(
        for_schema({"$ref": "#/components/schemas/ticket"}).filter(lambda value: value is not None)
    )
    kind = ticket.get("ticket_type")
    if (
        isinstance(kind, dict)
        and isinstance(kind.get("ticket_type_attributes"), dict)
        and draw(st.booleans())
    ):
        kind["ticket_type_attributes"] = _live_attribute_list(kind["ticket_type_attributes"])
    contacts = ticket.get("contacts")
    if isinstance(contacts, dict) and isinstance(contacts.get("contacts"), list):
        for contact in contacts["contacts"]:
            if draw(st.booleans()):
                contact.pop("type", None)
                contact["role"] = draw(st.sampled_from(["user", "lead"]))
    return ticket
