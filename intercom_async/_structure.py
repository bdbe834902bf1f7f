"""Fast, strict structuring hooks for the models, generated once per class at import.

cattrs' own generated hooks call one function per field; with ~15 fields on each of 20-500
ticket parts, those calls were most of a fetch's CPU. Here each model gets one generated
function that checks every field inline (a string must be a string, never a number turned into
one), builds nested models through their own generated functions, collects unknown keys into
``extra``, and fills the frozen instance's slots. ``_convert`` registers them on its
one converter. Measured with ``benchmarks/bulk_fetch.py --profile``.

Fields a later API version added (``since`` in their metadata) are looked up only in objects
that have a key the first version lacks, so 2.9-shaped parts pay nothing for them. Assignee ids
(``assignee_id`` in their metadata) become one type, and their JSON type is recorded for
``to_dict``.

A failure raises ``StructureError`` carrying the JSON path to the value that failed.
"""

from __future__ import annotations

import enum
import types
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Union, get_args, get_origin, get_type_hints

import attrs

from ._models import TicketState, TicketStateDetail, Timestamp

__all__ = ["StructureError", "make_structure_fn"]

_STATES: dict[str, TicketState] = {s.value: s for s in TicketState}
# Keys the live API uses in place of the schema's (the attribute list's ``data``).
_ALTERNATE_KEYS: dict[str, str] = {"ticket_type_attributes": "data"}
_PRIVATE_FIELDS = ("extra", "items_key", "_assignee_id_types")


class StructureError(Exception):
    """A JSON value that does not fit the model; ``path`` leads to it from the document root."""

    def __init__(self, message: str, path: list[str | int] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path: list[str | int] = path or []

    def at(self, step: str | int) -> StructureError:
        """This error, one level further from the root (``step`` is a key or an index)."""
        self.path.insert(0, step)
        return self

    def json_path(self, root: str = "$") -> str:
        return root + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.path)


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


def _bad(key: str | int | None, value: object, expected: str) -> StructureError:
    error = StructureError(f"expected {expected}, got {_json_type(value)}")
    return error if key is None else error.at(key)


def _locate(items: list[Any], item_fn: Callable[[Any], Any], key: str) -> StructureError:
    """The error of the first item of ``items`` that ``item_fn`` refuses, with its path."""
    for index, item in enumerate(items):
        try:
            item_fn(item)
        except StructureError as error:
            return error.at(index).at(key)
    return StructureError("array item refused", [key])  # pragma: no cover - it failed before


def _nullable(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else fn(value)


def _scalar_items(items: list[Any], cls: type, key: str, expected: str) -> tuple[Any, ...]:
    """``items`` as a tuple if every one is a ``cls``, else the error naming the first that is
    not (a JSON array of strings, of integers...)."""
    for index, item in enumerate(items):
        if item.__class__ is not cls:
            raise _bad(index, item, expected).at(key)
    return tuple(items)


def _str_enum(tp: Any) -> type[enum.StrEnum] | None:
    """The ``StrEnum`` of a field typed ``SomeStrEnum | str | None``, else ``None``."""
    args = get_args(tp)
    if len(args) != 3 or args[1:] != (str, type(None)) or not isinstance(args[0], type):
        return None
    return args[0] if issubclass(args[0], enum.StrEnum) else None


# Inline checks per scalar field type: (condition the value must meet, what is expected).
_SCALARS: dict[Any, tuple[str, str]] = {
    str | None: ("v.__class__ is str", "a string or null"),
    int | None: ("v.__class__ is int", "an integer or null"),
    bool | None: ("v.__class__ is bool", "a boolean or null"),
    Mapping[str, Any] | None: ("v.__class__ is dict", "an object or null"),
    Mapping[str, Any] | str | None: (
        "v.__class__ is dict or v.__class__ is str",
        "an object, a string or null",
    ),
}


# Inline checks for a string or an array of scalars (``updated_attribute_data.value``'s ``id``
# and ``label``): (item class, what is expected of an item, what is expected of the value).
_SCALAR_ARRAYS: dict[Any, tuple[type, str, str]] = {
    str | tuple[int, ...] | None: (int, "an integer", "a string, an array of integers or null"),
    str | tuple[str, ...] | None: (str, "a string", "a string, an array of strings or null"),
}


def _assignee_id_lines(key: str, kind: str) -> list[str]:
    """Lines for an assignee id: a ``str`` (up to 2.15) or an ``int`` (2.16), ``"0"`` or ``0``
    for none. Leaves the id as a ``str`` or ``None`` in ``v``, and the JSON type in ``kind``."""
    return [
        f"v = o.get({key})",
        "if v.__class__ is str:",
        f"    {kind} = str",
        "    if v == '0': v = None",
        "elif v.__class__ is int:",
        f"    {kind} = int",
        "    v = None if v == 0 else str(v)",
        f"elif v is None: {kind} = None",
        f"else: raise _bad({key}, v, 'a string, an integer or null')",
    ]


def _field_lines(
    name: str, key: str, tp: Any, env: dict[str, Any], hooks: Mapping[type, Callable[..., Any]]
) -> list[str]:
    """Source lines that leave the structured value of field ``name`` in ``v``.

    ``key`` is a Python expression for the JSON key: a quoted name, or a variable.
    """
    get = f"v = o.get({key})"
    if tp in _SCALARS:
        check, expected = _SCALARS[tp]
        return [get, f"if v is not None and not ({check}): raise _bad({key}, v, {expected!r})"]
    members = _str_enum(tp)
    if members is not None:  # a known value becomes its member; any other string stays a str
        lookup = "_STATES" if members is TicketState else f"_members_{name}"
        env[lookup] = {m.value: m for m in members}
        return [  # a subscript is quicker than .get(v, v), and a value it misses is rare
            get,
            "if v.__class__ is str:",
            f"    try: v = {lookup}[v]",
            "    except KeyError: pass  # a value this version does not know: kept as the str",
            f"elif v is not None: raise _bad({key}, v, 'a string or null')",
        ]
    if tp in _SCALAR_ARRAYS:
        item_cls, item_expected, expected = _SCALAR_ARRAYS[tp]
        env[f"_item_cls_{name}"] = item_cls
        return [
            get,
            "if v.__class__ is list:",
            f"    v = _scalar_items(v, _item_cls_{name}, {key}, {item_expected!r})",
            f"elif v is not None and v.__class__ is not str: raise _bad({key}, v, {expected!r})",
        ]
    if tp == Timestamp | None:
        return [
            get,
            "if v.__class__ is int:",
            "    try: v = _fromtimestamp(v, _UTC)",
            "    except (OverflowError, ValueError, OSError): pass  # kept as the int it was",
            f"elif v is not None: raise _bad({key}, v, 'a Unix timestamp (integer) or null')",
        ]
    if tp == TicketState | str | TicketStateDetail | None:  # a string (2.9) or an object (2.12+)
        env["_h_state_detail"] = hooks[TicketStateDetail]
        return [
            get,
            "if v.__class__ is str:",
            "    try: v = _STATES[v]",
            "    except KeyError: pass",
            "elif v.__class__ is dict:",
            "    try: v = _h_state_detail(v)",
            f"    except StructureError as e: raise e.at({key})",
            f"elif v is not None: raise _bad({key}, v, 'a string, an object or null')",
        ]
    args = [a for a in get_args(tp) if a is not type(None)]
    if len(args) == 1 and args[0] in hooks:  # a nested model, or null
        fn = f"_h_{name}"
        env[fn] = hooks[args[0]]
        return [
            get,
            "if v is not None:",
            f"    try: v = {fn}(v)",
            f"    except StructureError as e: raise e.at({key})",
        ]
    if len(args) == 1 and get_origin(args[0]) is tuple:  # an array of models, or null
        item = get_args(args[0])[0]
        nullable_items = get_origin(item) in (Union, types.UnionType)
        model = next(a for a in get_args(item) if a is not type(None)) if nullable_items else item
        fn = f"_h_{name}"
        env[fn] = hooks[model]
        env[f"{fn}_item"] = _nullable(hooks[model]) if nullable_items else hooks[model]
        build = (
            f"tuple([None if x is None else {fn}(x) for x in v])"
            if nullable_items
            else f"tuple([{fn}(x) for x in v])"
        )
        return [
            get,
            "if v.__class__ is list:",
            "    if not v: v = ()  # most parts have no attachments: no comprehension to run",
            "    else:",
            f"        try: v = {build}",
            f"        except StructureError: raise _locate(v, {fn}_item, {key})",
            f"elif v is not None: raise _bad({key}, v, 'an array or null')",
        ]
    raise TypeError(f"no structuring rule for {name}: {tp!r}")  # pragma: no cover


def _construct(cls: type[Any], values: dict[str, str], env: dict[str, Any]) -> list[str]:
    """Source lines that build and return the instance; ``values`` maps fields to expressions.

    attrs' ``__init__`` of a frozen class sets each field through ``object.__setattr__``; for a
    class whose fields have no validator or converter and that has no post-init hook, setting
    each slot through its own descriptor does the same work about a third faster. Any other
    class goes through ``__init__``.
    """
    plain = not hasattr(cls, "__attrs_post_init__") and all(
        f.validator is None and f.converter is None and f.name in vars(cls)
        for f in attrs.fields(cls)
    )
    if not plain:
        alias = {f.name: f.alias for f in attrs.fields(cls)}
        return [f"    return _cls({', '.join(f'{alias[n]}={v}' for n, v in values.items())})"]
    env["_new"] = object.__new__
    lines = ["    instance = _new(_cls)"]
    for name, value in values.items():
        env[f"_set_{name}"] = vars(cls)[name].__set__
        lines.append(f"    _set_{name}(instance, {value})")
    return [*lines, "    return instance"]


def make_structure_fn(
    cls: type[Any], hooks: Mapping[type, Callable[..., Any]]
) -> Callable[[Any], Any]:
    """Generate the structuring function of attrs class ``cls``.

    ``hooks`` holds the functions already generated for the models ``cls`` nests. The function
    takes decoded JSON (a dict) and returns an instance of ``cls``.
    """
    hints = get_type_hints(cls)
    fields = [f for f in attrs.fields(cls) if f.name not in _PRIVATE_FIELDS]
    has_items_key = "items_key" in attrs.fields_dict(cls)
    known = {f.name for f in fields}
    env: dict[str, Any] = {
        "_cls": cls,
        "_known": frozenset(known),
        "_known_alt": frozenset(known | set(_ALTERNATE_KEYS.values())),
        "_bad": _bad,
        "_locate": _locate,
        "_scalar_items": _scalar_items,
        "_fromtimestamp": datetime.fromtimestamp,
        "_UTC": UTC,
        "_STATES": _STATES,
        "StructureError": StructureError,
    }
    lines = [
        "def structure(o, _=None):",
        "    if o.__class__ is not dict: raise _bad(None, o, 'an object')",
    ]
    if has_items_key:  # the attribute list: its items under either key
        lines += [
            "    items_key = 'ticket_type_attributes'",
            "    if items_key not in o and 'data' in o: items_key = 'data'",
            "    known = _known if items_key == 'ticket_type_attributes' else _known_alt",
        ]
    ks = "known" if has_items_key else "_known"  # the names of the fields, as the body sees them
    extra = f"{{}} if {ks}.issuperset(o) else {{k: x for k, x in o.items() if k not in {ks}}}"
    # Fields a later API version added (``since`` in their metadata) are absent from most
    # objects: when every key is a field of the first version, they are None without a look.
    later = [f for f in fields if "since" in f.metadata]
    if later:
        env["_core"] = frozenset(f.name for f in fields if "since" not in f.metadata)
        lines += [
            "    if _core.issuperset(o):",
            "        later = False",
            "        extra = {}",
            "    else:",
            "        later = True",
            f"        extra = {extra}",
        ]
    else:
        lines.append(f"    extra = {extra}")
    values = {}
    assignee_kinds = []
    later_lines = []
    for index, f in enumerate(fields):
        key = "items_key" if has_items_key and f.name in _ALTERNATE_KEYS else repr(f.name)
        if "assignee_id" in f.metadata:
            assignee_kinds.append(f"k{index}")
            body = _assignee_id_lines(key, f"k{index}")
        else:
            body = _field_lines(f.name, key, hints[f.name], env, hooks)
        if f in later:
            later_lines += [f"        {line}" for line in body] + [f"        a{index} = v"]
        else:
            lines += [f"    {line}" for line in body] + [f"    a{index} = v"]
        values[f.name] = f"a{index}"
    if later:
        absent = " = ".join(values[f.name] for f in later)
        lines += ["    if later:", *later_lines, f"    else: {absent} = None"]
    values["extra"] = "extra"
    if has_items_key:
        values["items_key"] = "items_key"
    if assignee_kinds:
        values["_assignee_id_types"] = f"({', '.join(assignee_kinds)},)"
    lines += _construct(cls, values, env)
    # Everything the body looks up is a variable of the enclosing factory, read from its cell:
    # as quick as a local, and unlike default arguments, nothing to fill in on each call.
    names = sorted(set(env) | {"str", "int", "bool", "dict", "list", "tuple"})
    env.update({"str": str, "int": int, "bool": bool, "dict": dict, "list": list, "tuple": tuple})
    indented = "\n".join(f"    {line}" for line in lines)
    source = f"def factory({', '.join(names)}):\n{indented}\n    return structure"
    namespace: dict[str, Any] = {}
    code = compile(source, f"<intercom_async structure {cls.__name__}>", "exec")
    exec(code, {}, namespace)  # noqa: S102 - our own generated source, from our own models
    fn: Callable[[Any], Any] = namespace["factory"](**{name: env[name] for name in names})
    fn.__doc__ = f"Structure decoded JSON into a {cls.__name__}.\n\n{source}"
    return fn
