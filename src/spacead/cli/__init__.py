"""The ``spacead`` command: parses arguments, builds the command's dataclass, calls the library.

Each command is a module here: a frozen dataclass whose fields are its options
(flags, defaults, help and config-file keys come from it and from the library
configurations it embeds; see :mod:`spacead.cli._options` and, for the choice of
jsonargparse, :mod:`spacead.cli._parser`) and a ``main`` that calls the library.
Errors a user can cause (bad files, bad parameters) end in one readable line on
stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from concurrent.futures import BrokenExecutor

from .. import __version__
from .._extras import OfflineModelError
from .._first_run import MESSAGE as FIRST_RUN
from .._first_run import kernels_cached
from . import (
    ablate,
    bag_info,
    bench,
    check,
    detect,
    detect_bag,
    evaluate,
    export_anomalib,
    export_bag,
    generate,
    import_allo,
    inpaint,
    render,
    report,
    serve,
)
from ._command import Command, Entry, Group, Runnable, add_entries, find, select
from ._parser import Parser
from ._settings import apply, load, split_config_flags

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
# Commands that run numba kernels (the first run after an install compiles them).
_COMPILING = {"detect", "detect-bag", "serve", "generate", "render", "evaluate", "ablate", "bench"}

# The commands in the order ``spacead --help`` lists them.
COMMANDS: tuple[Entry, ...] = (
    detect.COMMAND,
    generate.COMMAND,
    render.COMMAND,
    check.COMMAND,
    evaluate.COMMAND,
    export_anomalib.COMMAND,
    import_allo.COMMAND,
    ablate.COMMAND,
    report.COMMAND,
    bench.COMMAND,
    inpaint.GROUP,
    detect_bag.COMMAND,
    export_bag.COMMAND,
    bag_info.COMMAND,
    serve.COMMAND,
)


def build_parser(only: str | None = None) -> Parser:
    """The ``spacead`` argument parser with all sub-commands.

    Parameters
    ----------
    only : str, optional
        Give options to this command only (``"evaluate"``, ``"inpaint scan"``): what
        :func:`main` parses with. By default every command has its options (a
        command whose extra is missing has none).

    Raises
    ------
    ImportError
        If the command ``only`` needs an extra that is not installed.
    """
    parser = Parser(prog="spacead", description="Visual anomaly detection for space imagery.")
    parser.add_argument("--version", action="version", version=f"spacead {__version__}")
    parser.commands = add_entries(parser, COMMANDS, "spacead", only)
    for p in [parser, *parser.commands.values()]:
        _add_output_options(p)
    return parser


def _add_output_options(p: Parser) -> None:
    """-v/--verbose and --debug on every parser (before or after the command)."""
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log what spacead does (INFO messages on stderr)",
    )
    p.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="DEBUG messages, and the full traceback of an error",
    )


def _configure_logging(verbose: bool, debug: bool) -> None:
    import logging

    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logger = logging.getLogger("spacead")
    logger.setLevel(level)
    if not any(getattr(h, "_spacead", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("spacead: %(levelname)s: %(name)s: %(message)s"))
        handler._spacead = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``spacead`` with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    Errors a user can cause end in one line on stderr (``--debug``: the full
    traceback) and exit status 1; Ctrl-C ends in one line and status 130,
    leaving what was finished in place for the same command to resume.
    """
    try:
        tokens, config_path, show = split_config_flags(sys.argv[1:] if argv is None else argv)
    except ValueError as exc:
        print(f"spacead: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    name = select(COMMANDS, tokens)
    prefix = f"spacead {name.split()[0]}" if name else "spacead"
    try:
        parser = build_parser(only=name or "")
    except ImportError as exc:  # the command's extra is missing
        if "--debug" in tokens:
            raise
        print(f"{prefix}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        if config_path is not None and name is not None:
            apply(parser.commands[name], load(config_path), config_path)
    except ValueError as exc:
        print(f"spacead: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    chosen, values, flags = _parse(parser, tokens)
    command = find(COMMANDS, chosen)
    debug = bool(flags.get("debug"))
    _configure_logging(bool(flags.get("verbose")), debug)
    return _run(command, values, show=show, debug=debug, prefix=prefix)


def _parse(parser: Parser, tokens: list[str]) -> tuple[str, dict[str, object], dict[str, object]]:
    """The chosen command (``"inpaint scan"``), its values, and the -v/--debug flags."""
    ns = parser.parse_args(tokens)
    flags: dict[str, object] = {}
    path: list[str] = []
    node, dest = ns, "command"
    while True:
        flags.update({k: node[k] for k in ("verbose", "debug") if k in node})
        word = node.get(dest)
        if word is None:
            break
        path.append(str(word))
        node, dest = node[str(word)], f"{word}_command"
    values = {k: v for k, v in node.items() if k not in ("verbose", "debug")}
    return " ".join(path), values, flags


def _interactive() -> bool:
    """Whether stderr is a terminal a person watches (where a silent stall would puzzle)."""
    return sys.stderr.isatty()


def _run(
    command: Runnable, values: dict[str, object], *, show: bool, debug: bool, prefix: str
) -> int:
    """Run a parsed command; turn the errors a user can cause into one line."""
    if not show and prefix.split()[-1] in _COMPILING and _interactive() and not kernels_cached():
        print(f"{prefix}: {FIRST_RUN}", file=sys.stderr)
    try:
        return command.execute(values, show=show)
    except KeyboardInterrupt:
        if debug:
            raise
        end_bar = "\n" if sys.stderr.isatty() else ""  # after a progress bar's last line
        print(
            f"{end_bar}{prefix}: interrupted; finished work is kept, and the same "
            "command resumes where it can",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except (ValueError, TypeError, OSError, ImportError, OfflineModelError) as exc:
        if debug:
            raise
        print(f"{prefix}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenExecutor as exc:
        print(
            f"{prefix}: error: a worker process died ({exc}); "
            "re-run to resume, or use --workers 1 to see the cause",
            file=sys.stderr,
        )
        return EXIT_ERROR


__all__ = ["COMMANDS", "Command", "Group", "build_parser", "main"]
