"""``--config FILE`` and ``--print-config``: a command's settings as one YAML or JSON file.

The file holds the same keys as the command's options (``--anomalous-fraction``
is ``anomalous_fraction``; ``-`` or ``_`` both work), its positional arguments
(``root``, ``out``) and ``param`` as a mapping or a list of ``NAME=VALUE``.
Its values become the defaults of the command's parser, so the command line
wins wherever ``--config`` stands, and ``--param`` pairs given there add to
the file's. ``--print-config`` prints the settings the command would run
with, in the same form, so that ``spacead evaluate ... --print-config >
run.json`` and then ``spacead evaluate --config run.json`` repeat a run. A
file whose top level has a ``config`` mapping (``metrics.json`` records one)
is read from there.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._options import Option
from ._parser import Parser, argparse_kwargs


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

        _refuse_deep_nesting(text, p)
        _refuse_aliases(yaml, text, p)
        data = yaml.safe_load(text)
    except RecursionError:
        raise ValueError(f"config {str(p)!r} is nested too deeply to be settings") from None
    except ValueError:
        raise
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


MAX_SETTINGS_BYTES = 1 << 20  # a settings file is a few hundred bytes
MAX_NESTING = 64  # settings are two or three levels deep


def _refuse_deep_nesting(text: str, path: Path) -> None:
    """Refuse a file nested deeper than settings are, before a parser recurses into it.

    PyYAML's pure-Python parser takes minutes to reach its recursion limit on a
    200,000-deep ``[[[...]]]``; counting brackets outside quotes takes milliseconds.
    """
    if len(text) > MAX_SETTINGS_BYTES:
        raise ValueError(
            f"config {str(path)!r} is {len(text):,} bytes, more than a settings file's "
            f"{MAX_SETTINGS_BYTES:,}"
        )
    depth, quote, escaped, previous = 0, "", False, "\n"
    for char in text:
        before, previous = previous, char
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
        elif char == '"' or (char == "'" and before in " \t\n:[{,-"):  # not it's
            quote = char
        elif char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise ValueError(
                    f"config {str(path)!r} is nested more than {MAX_NESTING} levels deep; "
                    "settings are not"
                )
        elif char in "]}":
            depth -= 1


def _refuse_aliases(yaml: Any, text: str, path: Path) -> None:
    """Refuse YAML anchors and aliases before anything is built from them.

    A few hundred bytes of nested aliases expand to gigabytes ("billion laughs");
    settings never need them. The events are read without building anything.
    """
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            mark = event.start_mark
            raise ValueError(
                f"config {str(path)!r} uses a YAML anchor or alias (line {mark.line + 1}); "
                "a settings file must spell each value out"
            )


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


def apply(leaf: Parser, config: Mapping[str, Any], path: str) -> None:
    """Make the file's settings the defaults of the command's parser.

    Raises
    ------
    ValueError
        If a key is not an option of the command, or a value cannot be one.
    """
    unknown = sorted(set(config) - set(leaf.options))
    if unknown:
        raise ValueError(
            f"config {path!r}: unknown key(s) {', '.join(unknown)} for {leaf.prog}; "
            f"valid keys: {', '.join(sorted(leaf.options))}"
        )
    leaf.set_defaults({k: _value(leaf.options[k], v, path) for k, v in config.items()})


def _value(opt: Option, value: Any, path: str) -> Any:
    """A config file's value as the option holds it after parsing its words."""
    key = opt.key
    if value is None:
        return [] if opt.kind == "pairs" else None
    if opt.kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"config {path!r}: {key} must be true or false, got {value!r}")
        return value
    if opt.kind == "pairs":  # --param NAME=VALUE, repeatable
        pairs = (
            [f"{k}={_text(v)}" for k, v in value.items()] if isinstance(value, Mapping) else value
        )
        if not isinstance(pairs, list):
            raise ValueError(f"config {path!r}: {key} must be a mapping or a list, got {value!r}")
        return [_word(opt, _text(p), path) for p in pairs]
    if opt.kind == "csv" and isinstance(value, list):
        value = ",".join(_text(v) for v in value)
    if isinstance(value, list | Mapping) and opt.kind not in ("list", "csv"):
        raise ValueError(f"config {path!r}: {key} takes one value, got {value!r}")
    if opt.kind == "list":
        items = value if isinstance(value, list) else [value]
        return [_word(opt, _text(v), path) for v in items]
    return _word(opt, _text(value), path)


def _word(opt: Option, text: str, path: str) -> Any:
    kw = argparse_kwargs(opt)
    try:
        value = kw["type"](text)
    except (ValueError, TypeError, argparse.ArgumentTypeError) as exc:
        kinds = {int: "a whole number", float: "a number"}
        convert = getattr(kw["type"], "convert", kw["type"])
        if convert in kinds:  # Python's own words ("invalid literal for int()") say less
            raise ValueError(
                f"config {path!r}: {opt.key} must be {kinds[convert]}, got {text!r}"
            ) from None
        raise ValueError(f"config {path!r}: {opt.key}: {exc}") from None
    choices = kw.get("choices")
    if choices is not None and value not in choices:
        shown = ", ".join(map(str, choices))
        raise ValueError(f"config {path!r}: {opt.key} must be one of {shown}, got {value!r}")
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def dumps(values: Mapping[str, object]) -> str:
    """Settings as indented JSON (valid YAML)."""
    return json.dumps(values, indent=2, sort_keys=True, default=str)
