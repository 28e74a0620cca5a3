"""``--config FILE`` and ``--print-config``: a command's settings as one YAML or JSON file.

The file holds the same keys as the command's flags (``--anomalous-fraction``
is ``anomalous_fraction``; ``-`` or ``_`` both work), its positional
arguments (``root``, ``out``) and ``param`` as a mapping or a list of
``NAME=VALUE``. Flags given on the command line win over the file; positional
arguments come from the file only when the command line gives none.
``--print-config`` prints the effective settings in the same form, so that
``spacead evaluate ... --print-config > run.json`` and then
``spacead evaluate --config run.json`` repeat a run. A file whose top level
has a ``config`` mapping (``metrics.json`` records one) is read from there.

argparse has no configuration files of its own, and no well-kept library
adds them to an existing argparse CLI without rewriting it (jsonargparse,
anomalib's choice, replaces the parser), so the flags are translated here.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

_SKIP = {"help", "config", "print_config", "version", "func", "command", "inpaint_command"}


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The settings in a YAML or JSON file (JSON is YAML too).

    Raises
    ------
    ValueError
        If the file cannot be read or does not hold a mapping; the message names the file.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read config {str(p)!r}: {exc}") from None
    try:
        import yaml  # type: ignore[import-untyped]

        data = yaml.safe_load(text)
    except Exception as exc:  # yaml.YAMLError and its many subclasses
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[0]
        raise ValueError(f"config {str(p)!r} is not YAML or JSON: {problem}{where}") from None
    if isinstance(data, Mapping) and isinstance(data.get("config"), Mapping):
        data = data["config"]
    if not isinstance(data, Mapping):
        raise ValueError(f"config {str(p)!r} must hold a mapping of settings, got {data!r}")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def split_config_flags(argv: Sequence[str]) -> tuple[list[str], str | None, bool]:
    """``argv`` without ``--config FILE`` and ``--print-config``, the file, and the flag."""
    out: list[str] = []
    path, show = None, False
    tokens = iter(argv)
    for token in tokens:
        if token == "--config":
            path = next(tokens, None)
            if path is None:
                raise ValueError("--config needs a FILE")
        elif token.startswith("--config="):
            path = token.partition("=")[2]
        elif token == "--print-config":
            show = True
        else:
            out.append(token)
    return out, path, show


def leaf_parser(
    parser: argparse.ArgumentParser, argv: Sequence[str]
) -> tuple[argparse.ArgumentParser, int]:
    """The sub-command parser that ``argv`` selects, and how many tokens select it."""
    current, used = parser, 0
    while True:
        sub = next((a for a in current._actions if isinstance(a, argparse._SubParsersAction)), None)
        if sub is None:
            return current, used
        names = [i for i, t in enumerate(argv) if i >= used and not t.startswith("-")]
        if not names or argv[names[0]] not in sub.choices:
            return current, used
        current, used = sub.choices[argv[names[0]]], names[0] + 1


def _settable(leaf: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {
        a.dest: a
        for a in leaf._actions
        if a.dest not in _SKIP and a.dest != argparse.SUPPRESS and a.default != argparse.SUPPRESS
    }


def _flag(action: argparse.Action) -> str:
    return next((o for o in action.option_strings if o.startswith("--")), action.option_strings[0])


def _given(action: argparse.Action, tokens: Sequence[str]) -> bool:
    names = set(action.option_strings)
    if isinstance(action, argparse.BooleanOptionalAction):
        names |= {"--no-" + o[2:] for o in action.option_strings if o.startswith("--")}
    return any(t in names or t.split("=", 1)[0] in names for t in tokens)


def _has_positionals(leaf: argparse.ArgumentParser, tokens: Sequence[str]) -> bool:
    """Whether ``tokens`` hold a positional argument (option values skipped)."""
    by_flag = {o: a for a in leaf._actions for o in a.option_strings}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.startswith("-") and len(token) > 1:
            action = by_flag.get(token.split("=", 1)[0])
            if action is not None and "=" not in token and action.nargs != 0:
                i += 1  # its value (options here take one)
        else:
            return True
        i += 1
    return False


def _tokens(action: argparse.Action, value: Any, key: str, path: str) -> list[str]:
    if value is None:
        return []
    if not action.option_strings:  # a positional
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]
    flag = _flag(action)
    if isinstance(action, argparse.BooleanOptionalAction):
        return [flag if value else "--no-" + flag[2:]]
    if action.nargs == 0:  # store_true
        if not isinstance(value, bool):
            raise ValueError(f"config {path!r}: {key} must be true or false, got {value!r}")
        return [flag] if value != action.default else []
    if isinstance(action, argparse._AppendAction):  # --param NAME=VALUE, repeatable
        pairs = [f"{k}={v}" for k, v in value.items()] if isinstance(value, Mapping) else value
        if not isinstance(pairs, list):
            raise ValueError(f"config {path!r}: {key} must be a mapping or a list, got {value!r}")
        return [t for pair in pairs for t in (flag, _text(pair))]
    if isinstance(value, list):
        if action.nargs in (None, "?"):  # one value: a comma-separated list (as --modes)
            return [flag, ",".join(_text(v) for v in value)]
        return [flag, *(_text(v) for v in value)]
    return [flag, _text(value)]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def apply(
    leaf: argparse.ArgumentParser, config: Mapping[str, Any], rest: Sequence[str], path: str
) -> list[str]:
    """Command-line tokens for ``config``, to go before ``rest`` (which wins)."""
    settable = _settable(leaf)
    unknown = sorted(set(config) - set(settable))
    if unknown:
        raise ValueError(
            f"config {path!r}: unknown key(s) {', '.join(unknown)} for {leaf.prog}; "
            f"valid keys: {', '.join(sorted(settable))}"
        )
    positionals: list[str] = []
    options: list[str] = []
    for action in leaf._actions:
        if action.dest not in config:
            continue
        if not action.option_strings:
            positionals += _tokens(action, config[action.dest], action.dest, path)
        elif not _given(action, rest) or isinstance(action, argparse._AppendAction):
            # --param NAME=VALUE pairs add up: the file's first, the command line's after
            # them, so a name given on the command line wins and the file's others stay.
            options += _tokens(action, config[action.dest], action.dest, path)
    if _has_positionals(leaf, rest):
        positionals = []
    return [*options, *positionals]


def effective(leaf: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, Any]:
    """The settings a command runs with, as ``--config`` reads them back."""
    out: dict[str, Any] = {}
    for dest, action in _settable(leaf).items():
        if not hasattr(args, dest):
            continue
        value = getattr(args, dest)
        if isinstance(action, argparse._AppendAction) and isinstance(value, list):
            value = _last_per_name(value)
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        elif isinstance(value, list | tuple):
            value = [os.fspath(v) if isinstance(v, os.PathLike) else v for v in value]
        out[dest] = value
    return out


def _last_per_name(pairs: list[Any]) -> list[Any]:
    """``NAME=VALUE`` pairs with one entry per name, the last given (as parsing keeps it)."""
    merged: dict[str, Any] = {}
    for pair in pairs:
        name = str(pair).partition("=")[0].strip()
        merged.pop(name, None)
        merged[name] = pair
    return list(merged.values())


def dumps(settings: Mapping[str, Any]) -> str:
    """The settings as indented JSON (valid YAML)."""
    return json.dumps(settings, indent=2, sort_keys=True, default=str)
