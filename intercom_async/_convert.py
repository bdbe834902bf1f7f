"""The one cattrs converter: JSON data to models and back.

Every hook lives here, registered once at import on a single private converter; the models carry
no serialization code. Structuring is strict (a string field must hold a string, never a number
turned into one) and fast: each field type gets a direct hook, so no time goes to dispatching
``Optional`` at run time. Keys a model does not know go to its ``extra`` mapping.

``structure_ticket`` raises ``cattrs`` errors; callers turn them into ``ResponseDecodeError``
with the JSON path from ``error_path``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import attrs
from cattrs import Converter
from cattrs.errors import (
    AttributeValidationNote,
    BaseValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._models import (
    Attachment,
    ContactReference,
    ErrorDetail,
    Reference,
    Ticket,
    TicketContacts,
    TicketPart,
    TicketPartAuthor,
    TicketParts,
    TicketState,
    TicketType,
    TicketTypeAttribute,
    TicketTypeAttributeList,
    Timestamp,
)

__all__ = ["error_path", "structure_error_list", "structure_ticket", "to_dict"]

T = TypeVar("T")

_UTC = UTC
_STATES: dict[str, TicketState] = {s.value: s for s in TicketState}
# Keys under which the private fields travel through cattrs; no JSON key can start with NUL.
_EXTRA = "\x00extra"
_ITEMS_KEY = "\x00items_key"
_MODELS: tuple[type[Any], ...] = (
    Reference,
    TicketPartAuthor,
    Attachment,
    TicketPart,
    TicketParts,
    TicketTypeAttribute,
    TicketTypeAttributeList,
    TicketType,
    ContactReference,
    TicketContacts,
    Ticket,
)

# Models that arrive in JSON arrays, and whether the 2.9 description lets an item be null.
_ARRAY_ITEMS: dict[type[Any], bool] = {
    Attachment: False,
    TicketPart: False,
    TicketTypeAttribute: True,
    ContactReference: False,
}

_converter = Converter(detailed_validation=True)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _expected(what: str, value: object) -> TypeError:
    return TypeError(f"expected {what}, got {_json_type(value)}")


# -- scalar hooks: one direct function per declared field type -------------------------------


def _opt_str(value: Any, _: Any) -> str | None:
    if value is None or value.__class__ is str:
        return value
    raise _expected("a string or null", value)


def _opt_int(value: Any, _: Any) -> int | None:
    if value is None or value.__class__ is int:
        return value
    raise _expected("an integer or null", value)


def _opt_bool(value: Any, _: Any) -> bool | None:
    if value is None or value.__class__ is bool:
        return value
    raise _expected("a boolean or null", value)


def _opt_str_or_int(value: Any, _: Any) -> str | int | None:
    if value is None or value.__class__ is str or value.__class__ is int:
        return value
    raise _expected("a string, an integer or null", value)


def _opt_state(value: Any, _: Any) -> TicketState | str | None:
    if value.__class__ is str:
        return _STATES.get(value, value)
    if value is None:
        return None
    raise _expected("a string or null", value)


def _opt_timestamp(value: Any, _: Any) -> Timestamp | None:
    if value.__class__ is int:
        try:
            return datetime.fromtimestamp(value, _UTC)
        except (OverflowError, ValueError, OSError):
            return value  # outside datetime's range: keep it
    if value is None:
        return None
    raise _expected("a Unix timestamp (integer) or null", value)


def _opt_object(value: Any, _: Any) -> Mapping[str, Any] | None:
    if value is None or value.__class__ is dict:
        return value
    raise _expected("an object or null", value)


def _opt_object_or_str(value: Any, _: Any) -> Mapping[str, Any] | str | None:
    if value is None or value.__class__ is dict or value.__class__ is str:
        return value
    raise _expected("an object, a string or null", value)


def _unstructure_timestamp(value: Timestamp) -> int | float:
    if value.__class__ is int:
        return value
    ts = value.timestamp()  # type: ignore[union-attr]
    return int(ts) if ts.is_integer() else ts


def _drop_nulls(value: Any) -> Any:
    """JSON data with every key whose value is null removed, at any depth."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _register_scalars(c: Converter) -> None:
    for tp, structure in (
        (str | None, _opt_str),
        (int | None, _opt_int),
        (bool | None, _opt_bool),
        (str | int | None, _opt_str_or_int),
        (TicketState | str | None, _opt_state),
        (Timestamp | None, _opt_timestamp),
        (Mapping[str, Any] | None, _opt_object),
        (Mapping[str, Any] | str | None, _opt_object_or_str),
    ):
        _on(c.register_structure_hook_func, tp, structure)
    _on(c.register_unstructure_hook_func, Timestamp | None, _unstructure_timestamp)
    _on(c.register_unstructure_hook_func, TicketState | str | None, str)
    _on(c.register_unstructure_hook_func, Mapping[str, Any] | None, _drop_nulls)
    _on(c.register_unstructure_hook_func, Mapping[str, Any] | str | None, _drop_nulls)
    # The extra mapping is the dict the model hook built; it needs no checking.
    _on(c.register_structure_hook_func, Mapping[str, Any], lambda value, _: value)


def _on(register: Callable[..., None], tp: Any, hook: Callable[..., Any]) -> None:
    """Register ``hook`` for exactly the type ``tp`` (unions and generics included)."""
    register(lambda candidate: candidate == tp, hook)


# -- model hooks -----------------------------------------------------------------------------


def _tuple_hook(
    item: Callable[[Any, Any], Any], nullable_items: bool
) -> Callable[[Any, Any], tuple[Any, ...] | None]:
    def structure(value: Any, _: Any) -> tuple[Any, ...] | None:
        if value.__class__ is list:
            if nullable_items:
                return tuple(None if v is None else item(v, None) for v in value)
            return tuple([item(v, None) for v in value])
        if value is None:
            return None
        raise _expected("an array or null", value)

    return structure


def _indexed(
    item: Callable[[Any, Any], Any], nullable_items: bool
) -> Callable[[Any, Any], tuple[Any, ...] | None]:
    """The same as ``_tuple_hook``, noting the index of a failing item for ``error_path``."""
    fast = _tuple_hook(item, nullable_items)

    def structure(value: Any, tp: Any) -> tuple[Any, ...] | None:
        try:
            return fast(value, tp)
        except Exception as exc:
            if value.__class__ is not list:
                raise
            for index, v in enumerate(value):
                if v is None and nullable_items:
                    continue
                try:
                    item(v, None)
                except Exception as inner:
                    inner.__notes__ = [
                        *getattr(inner, "__notes__", []),
                        IterableValidationNote(f"index {index}", index, tp),
                    ]
                    raise BaseValidationError("invalid array item", [inner], tp) from None
            raise exc  # pragma: no cover - the item failed once, it fails again

    return structure


def _model_hook(c: Converter, cls: type[Any], nullable: bool) -> Callable[[Any, Any], Any]:
    fields = attrs.fields(cls)
    known = frozenset(f.name for f in fields if f.name not in ("extra", "items_key"))
    overrides = {"extra": override(rename=_EXTRA)}
    if "items_key" in attrs.fields_dict(cls):
        overrides["items_key"] = override(rename=_ITEMS_KEY)
    base = make_dict_structure_fn(cls, c, **overrides)  # type: ignore[arg-type]
    is_attribute_list = cls is TicketTypeAttributeList

    def structure(value: Any, _: Any) -> Any:
        if value.__class__ is not dict:
            if nullable and value is None:
                return None
            raise _expected("an object or null" if nullable else "an object", value)
        if is_attribute_list and "data" in value and "ticket_type_attributes" not in value:
            return _structure_data_form(value)
        if value.keys() <= known:
            return base(value, cls)
        data = {k: v for k, v in value.items() if k in known or k == _ITEMS_KEY}
        data[_EXTRA] = {k: v for k, v in value.items() if k not in known and k != _ITEMS_KEY}
        return base(data, cls)

    def _structure_data_form(value: dict[str, Any]) -> Any:
        renamed = {("ticket_type_attributes" if k == "data" else k): v for k, v in value.items()}
        renamed[_ITEMS_KEY] = "data"
        try:
            return structure(renamed, cls)
        except BaseValidationError as exc:  # report the key the JSON used
            for inner in exc.exceptions:
                inner.__notes__ = [
                    AttributeValidationNote("data", "data", note.type)
                    if isinstance(note, AttributeValidationNote)
                    and note.name == "ticket_type_attributes"
                    else note
                    for note in getattr(inner, "__notes__", ())
                ]
            raise

    return structure


def _model_unhook(c: Converter, cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    omit = {name: override(omit=True) for name in ("extra", "items_key")}
    base = make_dict_unstructure_fn(
        cls,
        c,
        _cattrs_omit_if_default=True,
        **{k: v for k, v in omit.items() if k in attrs.fields_dict(cls)},  # type: ignore[arg-type]
    )

    def unstructure(obj: T) -> dict[str, Any]:
        data = base(obj)
        items_key = getattr(obj, "items_key", None)
        if items_key not in (None, "ticket_type_attributes") and "ticket_type_attributes" in data:
            data[items_key] = data.pop("ticket_type_attributes")
        extra = obj.extra  # type: ignore[attr-defined]
        if extra:
            data.update(_drop_nulls(extra))
        return data

    return unstructure


def _build() -> Converter:
    """Register every hook, leaves first: a model's hook is generated from its fields' hooks."""
    c = _converter
    _register_scalars(c)
    for cls in _MODELS:
        hook = _model_hook(c, cls, nullable=False)
        _on(c.register_structure_hook_func, cls, hook)
        _on(c.register_structure_hook_func, cls | None, _model_hook(c, cls, nullable=True))
        _on(c.register_unstructure_hook_func, cls, _model_unhook(c, cls))
        if cls in _ARRAY_ITEMS:
            nullable_items = _ARRAY_ITEMS[cls]
            item_type: Any = cls | None if nullable_items else cls
            _on(
                c.register_structure_hook_func,
                tuple[item_type, ...] | None,
                _indexed(hook, nullable_items),
            )
    return c


_build()
_structure_ticket = _converter.get_structure_hook(Ticket)


def structure_ticket(data: Any) -> Ticket:
    """Parse decoded JSON into a ``Ticket``; raises on any shape the 2.9 description forbids."""
    if data.__class__ is dict:
        kind = data.get("type")
        if kind is not None and kind != "ticket":
            raise _expected_type(kind)
    return _structure_ticket(data, Ticket)  # type: ignore[no-any-return]


def _expected_type(kind: object) -> BaseValidationError:
    inner = ValueError(f'expected "ticket", got {kind!r}')
    inner.__notes__ = [AttributeValidationNote("type", "type", str)]
    return BaseValidationError("not a ticket", [inner], Ticket)


def structure_error_list(data: Any) -> tuple[str | None, list[ErrorDetail]]:
    """The ``request_id`` and ``errors`` of an Intercom ``error.list``, leniently.

    Anything that is not an error list gives ``(None, [])``; an entry missing a field gets
    ``None`` for it. Error bodies are read for diagnosis, so they never raise.
    """
    if not isinstance(data, dict):
        return None, []
    request_id = data.get("request_id")
    errors = data.get("errors")
    details = []
    if isinstance(errors, list):
        for entry in errors:
            if isinstance(entry, dict):
                details.append(
                    ErrorDetail(
                        code=_str_or_none(entry.get("code")),
                        message=_str_or_none(entry.get("message")),
                        field=_str_or_none(entry.get("field")),
                    )
                )
    return _str_or_none(request_id), details


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def to_dict(model: Any) -> Any:
    """JSON-ready data for a model, with the API's names and Unix-second timestamps.

    For every valid response, ``to_dict(ticket)`` equals the JSON Intercom sent with the keys
    whose value was null left out. Keys the model did not know come back from its ``extra``.
    """
    if not attrs.has(type(model)):
        raise TypeError(f"to_dict() takes an intercom_async model, not {type(model).__name__}")
    return _converter.unstructure(model)


def error_path(exc: BaseException, path: str = "$") -> tuple[str, str]:
    """The JSON path of the first failure inside a cattrs error, and what went wrong there."""
    while isinstance(exc, BaseValidationError) and exc.exceptions:
        inner = exc.exceptions[0]
        for note in getattr(inner, "__notes__", ()):
            if isinstance(note, AttributeValidationNote):
                path = f"{path}.{note.name}"
                break
            if isinstance(note, IterableValidationNote):
                path = f"{path}[{note.index}]"
                break
        exc = inner
    message = str(exc) or type(exc).__name__
    if isinstance(exc, KeyError):
        message = f"missing key {exc}"
    return path, message
