"""A command: the dataclass its options fill and the function that runs it.

Adding one is a module with a frozen dataclass and a ``main(command) -> int``,
registered in :data:`spacead.cli.COMMANDS`. The dataclass's docstring gives the
help line (its summary), the description (the next paragraph) and each option's
help (its ``Attributes`` section); a field is ``--field-name`` unless its type
says otherwise (:class:`~spacead.cli._options.Arg`), and a library configuration
in a field annotated with :class:`~spacead.cli._options.Flatten` lends the
command all its fields. ``spacead check`` is the smallest::

    @dataclass(frozen=True, kw_only=True)
    class Check:
        root: Annotated[Path, Arg(positional=True)]


    def main(command: Check) -> int:
        problems = check_dataset(command.root)
        ...


    COMMAND = Command("check", Check, main)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from ._options import build, settings
from ._parser import Parser, doc_parts
from ._settings import dumps

C = TypeVar("C")


class Runnable(Protocol):
    """A command the registry can add and run (:class:`Command` of any options class)."""

    @property
    def name(self) -> str: ...

    @property
    def options(self) -> type: ...

    def prepare(self) -> None:
        """Check the extra the command needs and import what its options name."""
        ...

    def execute(self, values: Mapping[str, object], *, show: bool) -> int:
        """Build the command from parsed values; print its settings or run it."""
        ...


@dataclass(frozen=True)
class Command(Generic[C]):
    """One ``spacead`` command.

    Attributes
    ----------
    name : str
        The word that selects it.
    options : type
        The frozen dataclass its options fill (see :mod:`spacead.cli._options`).
    run : callable
        ``run(command) -> exit status``.
    extra : str or None
        The optional extra the command needs (``"inpaint"``): checked before its
        options are read, so that a missing one is one line naming what to install.
    imports : callable or None
        Imports what the option types need, when they need an extra (torch).
    """

    name: str
    options: type[C]
    run: Callable[[C], int]
    extra: str | None = None
    imports: Callable[[], None] | None = None

    def prepare(self) -> None:
        """Check the extra the command needs and import what its options name.

        Raises
        ------
        ImportError
            If the extra is missing; the message says how to install it.
        """
        if self.extra is not None:
            from .._extras import require

            require(self.extra)
        if self.imports is not None:
            self.imports()

    def execute(self, values: Mapping[str, object], *, show: bool) -> int:
        """Build the command from parsed values; print its settings (``show``) or run it."""
        command = build(self.options, values)
        if show:
            print(dumps(settings(command)))
            return 0
        _apply_threads(settings(command).get("threads"))
        return self.run(command)


@dataclass(frozen=True)
class Group:
    """Commands under one word (``spacead inpaint synth|train|scan``)."""

    name: str
    help: str
    description: str
    commands: tuple[Runnable, ...]


Entry = Runnable | Group


def _add_config_flags(parser: Parser) -> None:
    """``--config`` and ``--print-config`` for ``--help``; main() reads them before parsing."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="settings from a YAML or JSON file (keys as the flags; the command line wins); "
        "metrics.json and generate.json can be passed back",
    )
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the effective settings (for --config) and exit",
    )


def add_entries(
    parser: Parser, entries: Sequence[Entry], prefix: str, only: str | None
) -> dict[str, Parser]:
    """Add commands (and groups of them) under ``parser``; return their parsers by name.

    Only the command named ``only`` gets its options (all of them for None): the
    others need them for nothing but their own ``--help``, and some import torch.
    """
    dest = "command" if prefix == "spacead" else prefix.split()[-1] + "_command"
    sub = parser.add_subcommands(
        required=True,
        dest=dest,
        metavar="COMMAND" if dest == "command" else "STEP",
        description=None,
    )
    leaves: dict[str, Parser] = {}
    for entry in entries:
        if isinstance(entry, Group):
            help_text, description = entry.help, entry.description
        else:
            help_text, description = doc_parts(entry.options)
        child = Parser(prog=f"{prefix} {entry.name}", description=description)
        sub.add_subcommand(entry.name, child, help=help_text)  # type: ignore[no-untyped-call]
        child.prog = f"{prefix} {entry.name}"  # jsonargparse writes "prefix [options] name"
        leaves[entry.name] = child
        if isinstance(entry, Group):
            first, _, rest = (only or "").partition(" ")
            inner = None if only is None else rest if first == entry.name else ""
            nested = add_entries(child, entry.commands, child.prog, inner)
            leaves.update({f"{entry.name} {k}": v for k, v in nested.items()})
            continue
        if only is None or only == entry.name:
            try:
                entry.prepare()
            except ImportError:
                if only is not None:
                    raise
                continue  # the whole parser without an extra: that command's help says so
            child.add_options(entry.options)
            _add_config_flags(child)
    return leaves


def select(entries: Sequence[Entry], tokens: Sequence[str]) -> str | None:
    """The command that ``tokens`` name (``"inpaint scan"``), or None."""
    words = [t for t in tokens if not t.startswith("-")]
    path: list[str] = []
    current: Sequence[Entry] = entries
    for word in words:
        entry = next((e for e in current if e.name == word), None)
        if entry is None:
            break
        path.append(word)
        if not isinstance(entry, Group):
            return " ".join(path)
        current = entry.commands
    return None


def find(entries: Sequence[Entry], name: str) -> Runnable:
    """The command called ``name`` (``"inpaint scan"``).

    Raises
    ------
    KeyError
        If there is none.
    """
    first, _, rest = name.partition(" ")
    for entry in entries:
        if entry.name == first:
            if isinstance(entry, Group):
                return find(entry.commands, rest)
            return entry
    raise KeyError(name)


def _apply_threads(value: object) -> None:
    """``--threads``: spacead's thread setting, and torch's where torch is in use."""
    if value is None:
        return
    import sys

    from .._threads import parse_threads, set_threads

    setting = parse_threads(value, "--threads")
    set_threads(setting)
    torch = sys.modules.get("torch")
    if torch is not None and setting != "auto":
        torch.set_num_threads(int(setting))
