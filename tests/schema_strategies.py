"""Hypothesis strategies for the JSON that Intercom's descriptions (2.9 to 2.16) allow for a ticket.

The schemas are ``tests/data/ticket_schemas_<version>.json``, copied by
``tools/ticket_schemas.py`` from the OpenAPI descriptions in
``../shared/spec/intercom-openapi-<version>.yaml`` (``test_schema_copy_matches_the_spec`` keeps
them in step). Every property may be absent unless the schema requires it; ``nullable`` ones may
be null; objects may carry keys the schema does not name (a later API version adds some), and the
live API's own shapes (the ``{"type": "list", "data": [...]}`` attribute list, contacts with
``role``) are mixed in.
"""

from __future__ import annotations

import enum
import string
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, get_args, get_type_hints

import attrs
from hypothesis import strategies as st

from .conftest import load

VERSIONS = ("2.9", "2.10", "2.11", "2.12", "2.13", "2.14", "2.15", "2.16")
SCHEMAS_BY_VERSION: dict[str, dict[str, Any]] = {
    version: load(f"ticket_schemas_{version.replace('.', '_')}.json") for version in VERSIONS
}
SCHEMAS = SCHEMAS_BY_VERSION["2.9"]
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


def resolve(schema: dict[str, Any], schemas: dict[str, Any] = SCHEMAS) -> dict[str, Any]:
    """``schema``, or the schema its ``$ref`` names (nullable if either says so)."""
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved = dict(schemas[ref.rsplit("/", 1)[1]])
    if schema.get("nullable"):
        resolved["nullable"] = True
    return resolved


def for_schema(
    schema: dict[str, Any], depth: int = 0, schemas: dict[str, Any] = SCHEMAS
) -> st.SearchStrategy[Any]:
    """Values the (resolved) schema allows."""
    schema = resolve(schema, schemas)
    base = _base(schema, depth, schemas)
    return st.none() | base if schema.get("nullable") else base


def _base(schema: dict[str, Any], depth: int, schemas: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for combined in ("anyOf", "oneOf"):
        if combined in schema:
            return st.one_of([for_schema(o, depth + 1, schemas) for o in schema[combined]])
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
        values = for_schema(items, depth + 1, schemas) if items else JSON_VALUES
        return st.lists(values, max_size=3)
    return _object(schema, depth, schemas)


def _object(
    schema: dict[str, Any], depth: int, schemas: dict[str, Any]
) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties")
    if not properties:
        extra = schema.get("additionalProperties")
        values = for_schema(extra, depth + 1, schemas) if isinstance(extra, dict) else JSON_VALUES
        return st.dictionaries(st.text(max_size=8), values, max_size=3)
    required = set(schema.get("required", ()))
    strategies = {name: for_schema(sub, depth + 1, schemas) for name, sub in properties.items()}
    known = st.fixed_dictionaries(
        {name: value for name, value in strategies.items() if name in required},
        optional={name: value for name, value in strategies.items() if name not in required},
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
def tickets(draw: st.DrawFn, version: str = "2.9") -> dict[str, Any]:
    """A ticket the description of ``version`` allows, sometimes in the live API's shapes."""
    root = for_schema({"$ref": "#/components/schemas/ticket"}, 0, SCHEMAS_BY_VERSION[version])
    ticket: dict[str, Any] = draw(root.filter(lambda value: value is not None))
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


def check_typed(value: Any, data: Any, schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Assert that ``value``, what structuring made of ``data``, holds every property that
    ``schema`` names as a typed attribute of the same name: objects as models, arrays as tuples,
    timestamps as UTC datetimes, known enum values as members, assignee ids as ``str`` or
    ``None``; absent properties are ``None``; and only keys the model does not know are in
    ``extra``."""
    _check(value, data, resolve(schema, schemas), schemas, None, "$")


def _check(
    value: Any, data: Any, schema: dict[str, Any], schemas: dict[str, Any], hint: Any, path: str
) -> None:
    if data is None:
        assert value is None, path
        return
    if "oneOf" in schema or "anyOf" in schema:  # a string, or an array of scalars
        expected = tuple(data) if isinstance(data, list) else data
        assert value == expected and type(value) is type(expected), path
        return
    kind = schema.get("type", "object")
    if kind == "object" and schema.get("properties"):
        _check_model(value, data, schema, schemas, path)
    elif kind == "object":  # free-form: kept as the JSON had it
        assert value == data and isinstance(value, Mapping), path
    elif kind == "array":
        assert isinstance(value, tuple) and len(value) == len(data), path
        item = resolve(schema["items"], schemas)
        for index, (got, sent) in enumerate(zip(value, data, strict=True)):
            _check(got, sent, item, schemas, None, f"{path}[{index}]")
    elif kind == "integer" and schema.get("format") in ("date-time", "timestamp"):
        if isinstance(value, datetime):
            assert value.tzinfo is UTC and value == datetime.fromtimestamp(data, UTC), path
        else:  # outside what a datetime holds: kept as the int
            assert value == data and type(value) is int, path
            assert not -62135596800 <= data <= 253402300799, path  # years 1 to 9999
    elif kind == "string" and isinstance(value, enum.Enum):
        assert value.value == data and isinstance(value, str), path
    else:
        assert value == data and type(value) is type(data), path
        members = _str_enum_of(hint)
        assert members is None or data not in {m.value for m in members}, f"{path}: not a member"


def _check_model(
    value: Any, data: dict[str, Any], schema: dict[str, Any], schemas: dict[str, Any], path: str
) -> None:
    assert attrs.has(type(value)), f"{path}: {value!r} is not a model"
    fields = attrs.fields_dict(type(value))
    hints = get_type_hints(type(value))
    items_key = getattr(value, "items_key", None)
    for name, sub in schema["properties"].items():
        assert name in fields, f"{path}.{name} is not a typed attribute of {type(value).__name__}"
        got = getattr(value, name)
        key = items_key if name == "ticket_type_attributes" and items_key else name
        if key not in data:
            assert got is None, f"{path}.{name}: absent, so None"
        elif "assignee_id" in fields[name].metadata:
            sent = data[key]
            assert got == (None if sent in ("0", 0) else str(sent)), f"{path}.{name}"
        else:
            _check(got, data[key], resolve(sub, schemas), schemas, hints[name], f"{path}.{name}")
    unknown = {k: v for k, v in data.items() if k not in fields and k != items_key}
    assert dict(value.extra) == unknown, f"{path}: extra"


def _str_enum_of(hint: Any) -> type[enum.StrEnum] | None:
    for arg in get_args(hint):
        if isinstance(arg, type) and issubclass(arg, enum.StrEnum):
            return arg
    return None
