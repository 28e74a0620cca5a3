"""The ``spacead`` parser: jsonargparse, spelled as argparse spells options.

Why jsonargparse (anomalib's choice) and not tyro (nerfstudio's): the command
line had to stay as it was, word for word, and jsonargparse's parser *is*
argparse's. Positional arguments that may be left out (``detect QUERY
[REFERENCE]``), repeatable ``--param NAME=VALUE``, ``--flip/--no-flip`` with a
third state "the preset's", store-true flags without a ``--no-`` twin,
``allow_abbrev=False``, argparse's error messages and exit status 2 all stay
argparse's own, and :func:`spacead.cli.build_parser` still returns an
``argparse.ArgumentParser``. tyro 1.0 parses with a backend of its own: its
help and errors come in boxes, every boolean gets a ``--no-`` twin, an
optional boolean becomes ``--flip {None,True,False}``, and its argparse
export is deprecated. What jsonargparse adds to argparse is used here:

- it reads a class's fields, defaults and numpydoc help
  (``add_class_arguments``); :meth:`Parser.add_argument` receives each field
  and spells it the argparse way (``--anomalous-fraction``, ``store_true``,
  ``append``), the route its maintainers give for dashed names
  (jsonargparse issues 301 and 736);
- its parse puts defaults, then config values, then the command line on top
  of each other and checks required arguments after that, so ``--config
  FILE`` is ``set_defaults`` on the command's parser: the command line wins
  wherever it stands, positional arguments and ``--out`` may come from the
  file, and ``--param`` pairs add to the file's.

Its own value syntax (``--flag true``, ``--list+=x``, YAML values) and its
``--print_config`` (YAML, order-dependent) are not used: ``--print-config``
prints the command's settings as JSON, as before.
"""

from __future__ import annotations

import argparse
import inspect
import re
from collections.abc import Callable
from dataclasses import MISSING
from typing import Any

import jsonargparse

from ._options import Option, literal_choices, options, word_type

_ROLE = re.compile(r":[a-z]+:`~?(?:[\w.]*\.)?([^`]+)`")  # :func:`~spacead.x.f` -> f


def plain(text: str) -> str:
    """Docstring text as help text: reST markup removed, one line."""
    text = _ROLE.sub(r"\1", text).replace("`", "")
    return " ".join(text.split())


class Word:
    """argparse's ``type``: one command-line word to a value.

    Named after what it reads, because argparse's error says ``invalid int
    value: 'x'``; a plain callable also keeps jsonargparse from reading the
    word as YAML. A value that is no longer a word passes through.
    """

    def __init__(self, convert: Callable[[str], object], name: str | None = None) -> None:
        self.convert = convert
        self.__name__ = name or getattr(convert, "__name__", "value")

    def __call__(self, text: str) -> object:
        # jsonargparse checks parsed values (defaults too) with the same ``type``
        return self.convert(text) if isinstance(text, str) else text


def _words(text: str) -> tuple[str, ...]:
    """A comma-separated list (``--modes a,b``)."""
    return tuple(t.strip() for t in text.split(",") if t.strip())


def argparse_kwargs(opt: Option) -> dict[str, Any]:
    """Argparse's ``add_argument`` keywords for one option (besides help and default).

    Raises
    ------
    TypeError
        If the option's type has no command-line form.
    """
    arg, kind = opt.arg, opt.kind
    kw: dict[str, Any] = {} if arg.metavar is None else {"metavar": arg.metavar}
    if kind == "bool":
        negatable = arg.negatable or opt.default not in (False, MISSING)
        kw["action"] = argparse.BooleanOptionalAction if negatable else "store_true"
        return kw
    convert = arg.parse or (_words if kind == "csv" else word_type(opt.hint))
    if convert is None:
        raise TypeError(f"option {opt.key}: no command-line form for {opt.hint}")
    kw["type"] = Word(convert, "list" if kind == "csv" else None)
    choices = arg.choices or (literal_choices(opt.hint) if arg.parse is None else None)
    if choices is not None:
        kw["choices"] = choices
    if kind == "pairs":
        kw["action"] = "append"
    elif kind == "list":
        kw["nargs"] = "+" if opt.required else "*"
    elif arg.positional and not opt.required:
        kw["nargs"] = "?"
    if opt.required and not arg.positional:
        kw["required"] = True
    return kw


class HelpFormatter(jsonargparse.DefaultHelpFormatter):
    """argparse's help, with the default where it tells something and the help has none."""

    def _format_action_invocation(self, action: argparse.Action) -> str:
        return argparse.HelpFormatter._format_action_invocation(self, action)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        hidden = default is None or default is False or default is argparse.SUPPRESS
        hidden = hidden or (isinstance(default, str | list | tuple) and not default)
        if action.option_strings and not hidden and "default" not in text:
            text += " (default: %(default)s)"
        return text


class Parser(jsonargparse.ArgumentParser):
    """A parser whose options come from command dataclasses (:meth:`add_options`)."""

    _adding: dict[str, Option] | None = None  # the fields add_options is adding

    def __init__(self, *, prog: str, description: str | None = None) -> None:
        super().__init__(
            prog=prog,
            description=description,
            formatter_class=HelpFormatter,
            allow_abbrev=False,
            print_config=None,
        )
        self.options: dict[str, Option] = {}
        self.commands: dict[str, Parser] = {}  # the sub-commands' parsers, "inpaint scan" too

    def add_options(self, cls: type) -> None:
        """Add an argument for every option of the dataclass ``cls`` (see ``_options``).

        Raises
        ------
        TypeError
            If an option cannot be spelled, or jsonargparse skipped a field.
        """
        found = options(cls)
        for owner in dict.fromkeys(o.owner for o in found):
            mine = {o.path[-1]: o for o in found if o.owner is owner}
            skip: set[str | int] = {f for f in inspect.signature(owner).parameters if f not in mine}
            self._adding = mine
            try:
                self.add_class_arguments(owner, as_group=False, skip=skip)
            finally:
                self._adding = None
        missing = [o.key for o in found if o.key not in self.options]
        if missing:
            raise TypeError(f"{cls.__name__}: fields not added: {', '.join(missing)}")

    def add_argument(self, *names: Any, **kwargs: Any) -> Any:
        """Add an argument; a field from :meth:`add_options` is spelled the argparse way."""
        name = str(names[0]).lstrip("-") if names else ""
        if self._adding is None or name not in self._adding:
            return super().add_argument(*names, **kwargs)
        opt = self._adding[name]
        doc = opt.arg.help or plain(kwargs.get("help") or "")
        if opt.arg.note:
            doc = f"{doc.rstrip('.')} ({opt.arg.note})" if doc else opt.arg.note
        kw = argparse_kwargs(opt)
        if not opt.arg.positional:
            kw["dest"] = opt.key
        if not opt.required and not opt.arg.positional:
            kw["default"] = opt.default
        action = super().add_argument(*opt.flags, help=doc, **kw)
        if opt.arg.positional and not opt.required:
            self.set_defaults({opt.key: opt.default})
        self.options[opt.key] = opt
        return action


def doc_parts(cls: type) -> tuple[str, str]:
    """A class docstring's summary line (as argparse help) and its description."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    paragraphs = doc.split("\n\n")
    summary = plain(paragraphs[0]).rstrip(".")
    summary = summary[:1].lower() + summary[1:]
    body = []
    for para in paragraphs[1:]:
        if re.search(r"^-{3,}$", para, flags=re.MULTILINE):
            break
        body.append(plain(para))
    return summary, " ".join(body)
