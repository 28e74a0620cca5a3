"""A command's options, read from the dataclass it runs: spelling, type, default, key.

A command is a frozen dataclass. Each field is one option: ``--field-name``
(dashes for underscores), or a positional argument where the field's type says
``Annotated[..., Arg(positional=True)]``. A field annotated with
:class:`Flatten` holds a library configuration (``GenerateConfig``,
``ScanConfig``, ...) whose own fields become the command's options, so a
setting is declared once, in the library. Everything here is plain data: the
parser (:mod:`spacead.cli._parser`) turns :class:`Option` into argparse
arguments; :func:`build` turns parsed values into the command object, and
:func:`settings` turns that object back into the values ``--print-config``
prints and ``--config`` reads.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Generic, Literal, TypeVar, get_args, get_origin

C = TypeVar("C")
T = TypeVar("T")


@dataclass(frozen=True)
class Arg:
    """How one field is spelled on the command line; the rest comes from the field.

    Attributes
    ----------
    flags : tuple of str
        The option's spellings; default ``--field-name``. Extra spellings are
        aliases that ``--help`` lists beside the first.
    key : str or None
        The setting's name in ``--config`` files (default: the field's name).
    metavar : str or None
        The value's name in ``--help``.
    help : str or None
        Help text; default: the field's entry in its class's docstring.
    note : str or None
        Appended to the help text in parentheses.
    positional : bool
        A positional argument (optional where the field has a default; a list
        takes one or more values).
    parse : callable or None
        Converts one command-line word into the value (argparse's ``type``);
        default: from the field's type.
    choices : tuple of str or None
        The values allowed (default: a ``Literal`` type's).
    negatable : bool
        A boolean that also has ``--no-NAME``.
    """

    flags: tuple[str, ...] = ()
    key: str | None = None
    metavar: str | None = None
    help: str | None = None
    note: str | None = None
    positional: bool = False
    parse: Callable[[str], object] | None = None
    choices: tuple[str, ...] | None = None
    negatable: bool = False


@dataclass(frozen=True)
class Flatten:
    """A field holding a configuration whose own fields are the command's options.

    Attributes
    ----------
    only : tuple of str or None
        The configuration's fields offered on the command line (default: all);
        the others keep the configuration's defaults.
    args : mapping of str to Arg
        Spellings of some of its fields.
    defaults : mapping of str to object
        Defaults of this command that differ from the configuration's.
    """

    only: tuple[str, ...] | None = None
    args: Mapping[str, Arg] = field(default_factory=dict)
    defaults: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Changes(Generic[T]):
    """The fields of a configuration given on the command line (the rest from a preset).

    A command field typed ``Annotated[Changes[TrainConfig], Flatten(...)]``
    offers every flattened field with the default None ("the preset's value")
    and receives the values that were given.
    """

    given: Mapping[str, object]


@dataclass(frozen=True)
class Option:
    """One option of a command: its setting key, where it goes and how it reads.

    Attributes
    ----------
    key : str
        argparse's ``dest`` and the setting's name in config files.
    path : tuple of str
        The attribute path in the command object: ``("root",)`` or, for a
        flattened configuration, ``("config", "train")``.
    hint : object
        The field's type, ``Annotated`` removed.
    default : object
        The default, or ``dataclasses.MISSING`` for a required option.
    arg : Arg
        The spelling.
    owner : type
        The dataclass that declares the field (its docstring has the help).
    partial : bool
        Part of a :class:`Changes` group.
    """

    key: str
    path: tuple[str, ...]
    hint: object
    default: object
    arg: Arg
    owner: type
    partial: bool = False

    @property
    def flags(self) -> tuple[str, ...]:
        """The spellings on the command line (a positional's is its key)."""
        if self.arg.positional:
            return (self.key,)
        return self.arg.flags or ("--" + self.key.replace("_", "-"),)

    @property
    def required(self) -> bool:
        """No default: the command line or a config file must give it."""
        return self.default is MISSING

    @property
    def kind(self) -> str:
        """``bool``, ``pairs`` (repeatable ``NAME=VALUE``), ``list``, ``csv`` or ``value``."""
        tp = optional_base(self.hint)
        origin = get_origin(tp)
        if tp is bool:
            return "bool"
        if origin is list:
            return "list" if self.arg.positional else "pairs"
        if origin is tuple:
            return "csv"
        return "value"


def optional_base(hint: object) -> object:
    """``X`` for ``X | None`` (and for ``X`` itself)."""
    if isinstance(hint, UnionType) or get_origin(hint) is typing.Union:
        members = [a for a in get_args(hint) if a is not NoneType]
        if len(members) == 1:
            return members[0]
    return hint


def _fields(cls: type) -> list[tuple[dataclasses.Field[object], object, tuple[object, ...]]]:
    """Each field of a dataclass with its type and its ``Annotated`` metadata."""
    hints = typing.get_type_hints(cls, include_extras=True)
    out = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        hint = hints[f.name]
        meta: tuple[object, ...] = ()
        if get_origin(hint) is Annotated:
            hint, meta = get_args(hint)[0], tuple(hint.__metadata__)
        out.append((f, hint, meta))
    return out


def _default(f: dataclasses.Field[object]) -> object:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return MISSING


def options(cls: type) -> list[Option]:
    """Every option of a command dataclass, flattened configurations included.

    Raises
    ------
    TypeError
        If two options have the same key.
    """
    own: list[Option] = []
    grouped: list[Option] = []
    for f, hint, meta in _fields(cls):
        arg = next((m for m in meta if isinstance(m, Arg)), Arg())
        flat = next((m for m in meta if isinstance(m, Flatten)), None)
        if flat is None:
            own.append(Option(arg.key or f.name, (f.name,), hint, _default(f), arg, cls))
            continue
        partial = get_origin(hint) is Changes
        target = get_args(hint)[0] if partial else hint
        if not isinstance(target, type):
            raise TypeError(f"{cls.__name__}.{f.name}: Flatten needs a dataclass, got {target}")
        for g, sub_hint, sub_meta in _fields(target):
            if flat.only is not None and g.name not in flat.only:
                continue
            own_arg = next((m for m in sub_meta if isinstance(m, Arg)), Arg())
            sub_arg = flat.args.get(g.name, own_arg)
            default = None if partial else flat.defaults.get(g.name, _default(g))
            key = sub_arg.key or g.name
            grouped.append(
                Option(key, (f.name, g.name), sub_hint, default, sub_arg, target, partial)
            )
    found = own + grouped
    keys = [o.key for o in found]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise TypeError(f"{cls.__name__}: two options named {', '.join(twice)}")
    return found


def build(factory: type[C], values: Mapping[str, object]) -> C:
    """The command object from parsed values (one per option key)."""
    kwargs: dict[str, object] = {}
    groups: dict[str, dict[str, object]] = {}
    partial: dict[str, bool] = {}
    owner: dict[str, type] = {}
    for opt in options(factory):
        value = values[opt.key]
        if len(opt.path) == 1:
            kwargs[opt.path[0]] = value
            continue
        name, sub = opt.path
        owner[name], partial[name] = opt.owner, opt.partial
        if not (opt.partial and value is None):
            groups.setdefault(name, {})[sub] = value
    for name in owner:
        given = groups.get(name, {})
        kwargs[name] = Changes(given) if partial[name] else owner[name](**given)
    return factory(**kwargs)


def settings(command: object) -> dict[str, object]:
    """The command's settings as ``--print-config`` prints them and ``--config`` reads them."""
    out: dict[str, object] = {}
    for opt in options(type(command)):
        value = getattr(command, opt.path[0])
        if len(opt.path) == 2:
            if isinstance(value, Changes):
                value = value.given.get(opt.path[1])
            else:
                value = getattr(value, opt.path[1])
        out[opt.key] = flag_form(opt, value)
    return out


def flag_form(opt: Option, value: object) -> object:
    """A value as the command line spells it (paths as text, lists by commas, ...)."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if opt.kind == "csv" and isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, list | tuple):
        items = [os.fspath(v) if isinstance(v, os.PathLike) else v for v in value]
        return last_per_name(items) if opt.kind == "pairs" else items
    return value


def last_per_name(pairs: list[object]) -> list[object]:
    """``NAME=VALUE`` pairs with one entry per name, the last given (as parsing keeps it)."""
    merged: dict[str, object] = {}
    for pair in pairs:
        name = str(pair).partition("=")[0].strip()
        merged.pop(name, None)
        merged[name] = pair
    return list(merged.values())


def literal_choices(hint: object) -> tuple[object, ...] | None:
    """The values of a ``Literal`` type (of ``X | None`` too), or None."""
    tp = optional_base(hint)
    return get_args(tp) if get_origin(tp) is Literal else None


def word_type(hint: object) -> Callable[[str], object] | None:
    """How one word becomes a value of ``hint`` (its item type for lists), or None."""
    tp = optional_base(hint)
    if get_origin(tp) in (list, tuple):
        tp = get_args(tp)[0]
    if tp in (int, float, str, Path):
        return tp
    choices = literal_choices(tp)
    if choices:
        return type(choices[0])
    return None
