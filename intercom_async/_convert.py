"""The one cattrs converter: JSON data to models and back.

Every hook lives here, registered once at import on a single private converter; the models carry
no serialization code. Structuring hooks are generated per model by ``_structure`` (strict and
fast: one function per model, every field checked inline); unstructuring hooks are cattrs' own,
set to leave out fields that are ``None`` and to put ``extra`` keys back.

``structure_ticket`` raises ``StructureError``; callers turn it into ``ResponseDecodeError``
with the JSON path from ``error_path``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
from cattrs import Converter
from cattrs.gen import make_dict_unstructure_fn, override

from ._lenient import structure_leniently
from ._models import (
    Attachment,
    AuthorType,
    ContactReference,
    CursorPages,
    ErrorDetail,
    LinkedObject,
    LinkedObjectList,
    PageCursor,
    Reference,
    Ticket,
    TicketCategory,
    TicketContacts,
    TicketList,
    TicketPart,
    TicketPartAuthor,
    TicketParts,
    TicketState,
    TicketStateDetail,
    TicketStateList,
    TicketType,
    TicketTypeAttribute,
    TicketTypeAttributeList,
    Timestamp,
    UpdatedAttribute,
    UpdatedAttributeData,
    UpdatedAttributeValue,
)
from ._structure import StructureError, make_structure_fn

__all__ = [
    "TYPE_NAMES",
    "StructureError",
    "error_path",
    "structure",
    "structure_error_list",
    "structure_ticket",
    "to_dict",
]

T = TypeVar("T")

# Every model, leaves first: a model's hook is generated from the hooks of the models it nests.
_MODELS: tuple[type[Any], ...] = (
    Reference,
    TicketPartAuthor,
    Attachment,
    UpdatedAttribute,
    UpdatedAttributeValue,
    UpdatedAttributeData,
    TicketPart,
    TicketParts,
    TicketTypeAttribute,
    TicketTypeAttributeList,
    TicketStateDetail,
    TicketStateList,
    TicketType,
    ContactReference,
    TicketContacts,
    LinkedObject,
    LinkedObjectList,
    Ticket,
    PageCursor,
    CursorPages,
    TicketList,
)
# The strings that are an integer's decimal form: the assignee ids 2.16 sent as integers.
_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
# Fields typed ``SomeStrEnum | str | None``: written back as the string.
_STR_ENUMS = (TicketState, TicketCategory, AuthorType)

_converter = Converter()
# The generated structuring function of each model (filled by ``_build``).
_HOOKS: dict[type, Callable[[Any], Any]] = {}


def _unstructure_timestamp(value: Timestamp) -> int | float:
    if isinstance(value, int):
        return value
    ts = value.timestamp()
    return int(ts) if ts.is_integer() else ts


def _list_or_str(value: str | tuple[Any, ...]) -> str | list[Any]:
    return value if isinstance(value, str) else list(value)


def _drop_nulls(value: Any) -> Any:
    """A copy of JSON data with every key whose value is null removed, at any depth.

    Iterative, so that any depth ``json.loads`` accepted is fine here too.
    """
    if not isinstance(value, (dict, list)):
        return value
    root = _shallow(value)
    stack = [root]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in list(items):
            if isinstance(child, (dict, list)):
                node[key] = copy = _shallow(child)
                stack.append(copy)
    return root


def _shallow(value: dict[str, Any] | list[Any]) -> Any:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if v is not None}
    return list(value)


def _on(register: Callable[..., None], tp: Any, hook: Callable[..., Any]) -> None:
    """Register ``hook`` for exactly the type ``tp`` (unions and generics included)."""
    register(lambda candidate: candidate == tp, hook)


def _assignee_ids_back(obj: Any, names: tuple[str, ...], data: dict[str, Any]) -> None:
    """Write assignee ids as the JSON had them: a string, an integer, ``"0"`` or ``0`` for none."""
    kinds = obj._assignee_id_types or (None,) * len(names)
    for name, kind in zip(names, kinds, strict=True):
        value = getattr(obj, name)
        if kind is int:
            if value is None:
                data[name] = 0
            elif _INTEGER.fullmatch(value):
                data[name] = int(value)
        elif kind is str and value is None:
            data[name] = "0"


def _model_unhook(c: Converter, cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    private: dict[str, Any] = {
        n: override(omit=True)
        for n in ("extra", "items_key", "_assignee_id_types")
        if n in attrs.fields_dict(cls)
    }
    base = make_dict_unstructure_fn(cls, c, _cattrs_omit_if_default=True, **private)
    assignee_ids = tuple(f.name for f in attrs.fields(cls) if "assignee_id" in f.metadata)

    def unstructure(obj: Any) -> dict[str, Any]:
        data = base(obj)
        if assignee_ids:
            _assignee_ids_back(obj, assignee_ids, data)
        items_key = getattr(obj, "items_key", None)
        if items_key not in (None, "ticket_type_attributes") and "ticket_type_attributes" in data:
            data[items_key] = data.pop("ticket_type_attributes")
        extra = getattr(obj, "extra", None)
        if extra:
            data.update(_drop_nulls(dict(extra)))
        return data

    return unstructure


def _build(c: Converter) -> None:
    _on(c.register_unstructure_hook_func, Timestamp | None, _unstructure_timestamp)
    for members in _STR_ENUMS:
        _on(c.register_unstructure_hook_func, members | str | None, str)
    _on(c.register_unstructure_hook_func, str | tuple[int, ...] | None, _list_or_str)
    _on(c.register_unstructure_hook_func, str | tuple[str, ...] | None, _list_or_str)
    _on(
        c.register_unstructure_hook_func,
        TicketState | str | TicketStateDetail | None,
        lambda v: str(v) if isinstance(v, str) else c.unstructure(v, TicketStateDetail),
    )
    _on(c.register_unstructure_hook_func, Mapping[str, Any] | None, _drop_nulls)
    _on(c.register_unstructure_hook_func, Mapping[str, Any] | str | None, _drop_nulls)
    hooks = _HOOKS
    for cls in _MODELS:
        hook = hooks[cls] = make_structure_fn(cls, hooks)
        _on(c.register_structure_hook_func, cls, lambda value, _, hook=hook: hook(value))
        _on(c.register_unstructure_hook_func, cls, _model_unhook(c, cls))
    _on(c.register_unstructure_hook_func, ErrorDetail, _model_unhook(c, ErrorDetail))


_build(_converter)

# The ``type`` a model's JSON object says it is, where Intercom names it: anything else there is
# another object, refused before its fields are looked at. A model added later registers here.
TYPE_NAMES: dict[type[Any], str] = {Ticket: "ticket", TicketList: "ticket.list"}
_hooks: dict[type[Any], Callable[[Any, Any], Any]] = {}


def structure(data: Any, cls: type[T], *, lenient: bool = False) -> T:
    """Parse decoded JSON into a model of class ``cls``; raises ``StructureError`` on any
    shape the API's description forbids (and on a ``type`` that names another object).

    With ``lenient=True`` (for ``version="Preview"`` and ``"Unstable"``), a field whose value
    does not fit is moved, as sent, into the ``extra`` of the object holding it instead (see
    ``_lenient``); that costs nothing unless the strict structuring fails.
    """
    name = TYPE_NAMES.get(cls)
    if name is not None and data.__class__ is dict:
        kind = data.get("type")
        if kind is not None and kind != name:
            raise StructureError(f'expected "{name}", got {kind!r}', ["type"])
    hook = _hooks.get(cls)
    if hook is None:
        hook = _hooks[cls] = _converter.get_structure_hook(cls)
    try:
        return hook(data, cls)  # type: ignore[no-any-return]
    except StructureError:
        if not lenient:
            raise
    return structure_leniently(data, cls, _HOOKS)  # type: ignore[no-any-return]


def structure_ticket(data: Any) -> Ticket:
    """``structure(data, Ticket)``."""
    return structure(data, Ticket)


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


def error_path(error: StructureError) -> tuple[str, str]:
    """The JSON path of a structuring failure, and what went wrong there."""
    return error.json_path(), error.message
