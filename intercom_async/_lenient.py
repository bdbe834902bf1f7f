"""Lenient structuring: an answer whose known fields have unexpected types, parsed all the same.

For ``version="Preview"`` and ``"Unstable"``, whose shape Intercom changes without a new
description: a field whose value the model cannot take is moved, as sent, into the ``extra`` of
the object that holds it, and everything else is typed as usual. So ``to_dict()`` still gives
back the exact JSON. Fields marked ``essential`` in their metadata (a page's tickets and its
cursor) are never moved: a wrong type there fails as in the strict mode, rather than end a
search early.

Nothing here runs unless the strict structuring failed: the generated function is tried first
on every object, and only a failing object is taken apart, one key at a time, each key checked
by the same generated function on a one-key object. The cost is linear in the size of what
failed.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from typing import Any, Union, get_args, get_origin, get_type_hints

import attrs

from ._structure import _ALTERNATE_KEYS, StructureError

__all__ = ["structure_leniently"]

Hooks = Mapping[type, Callable[[Any], Any]]
# The JSON keys that stand for another field's name (the attribute list's ``data``).
_FIELD_OF_KEY = {key: name for name, key in _ALTERNATE_KEYS.items()}


def _model_of(tp: Any) -> tuple[type | None, bool, bool]:
    """The model a field's type holds, whether it is an array of them, and whether its items
    may be null: ``(None, False, False)`` for a field of scalars."""
    for arg in get_args(tp) if get_origin(tp) in (Union, types.UnionType) else (tp,):
        if attrs.has(arg):
            return arg, False, False
        if get_origin(arg) is tuple:
            item = get_args(arg)[0]
            nullable = get_origin(item) in (Union, types.UnionType)
            models = [a for a in get_args(item) if attrs.has(a)] if nullable else [item]
            if models and attrs.has(models[0]):
                return models[0], True, nullable
    return None, False, False


def _field_name(cls: type, key: str) -> str:
    fields = attrs.fields_dict(cls)
    if key not in fields and "items_key" in fields:
        return _FIELD_OF_KEY.get(key, key)
    return key


def _nested(value: Any, tp: Any, hooks: Hooks, failure: StructureError) -> Any:
    """``value`` structured leniently as the model (or array of models) of type ``tp``; raises
    ``failure`` when it is not an object (an array of objects) to take apart."""
    model, many, nullable = _model_of(tp)
    if model is None:
        raise failure
    if not many:
        if value.__class__ is not dict:
            raise failure
        return structure_leniently(value, model, hooks)
    if value.__class__ is not list:
        raise failure
    items: list[Any] = []
    for index, item in enumerate(value):
        if item is None and nullable:
            items.append(None)
            continue
        try:
            items.append(structure_leniently(item, model, hooks))
        except StructureError as error:
            raise error.at(index) from None
    return tuple(items)


def structure_leniently(data: Any, cls: type[Any], hooks: Hooks) -> Any:
    """``data`` as a ``cls``, with every field whose value does not fit moved into ``extra``.

    Raises ``StructureError`` only when ``data`` is not an object, or an essential field (or
    an item of an array of models) cannot be taken at all.
    """
    hook = hooks[cls]
    try:
        return hook(data)
    except StructureError:
        if data.__class__ is not dict:
            raise
    hints = get_type_hints(cls)
    fields = attrs.fields_dict(cls)
    kept: dict[str, Any] = {}
    moved: dict[str, Any] = {}
    nested: dict[str, Any] = {}
    for key, value in data.items():
        try:
            hook({key: value})
        except StructureError as failure:
            name = _field_name(cls, key)
            try:
                nested[name] = _nested(value, hints[name], hooks, failure)
                if name != key:  # the attribute list's items, under ``data``
                    nested["items_key"] = key
            except StructureError as error:
                if fields[name].metadata.get("essential"):
                    raise error.at(key) if error is not failure else error from None
                moved[key] = value
        else:
            kept[key] = value
    instance = hook(kept)
    return attrs.evolve(instance, **nested, extra={**instance.extra, **moved})
