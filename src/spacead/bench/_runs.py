"""The runs a report shows: evaluation and ablation folders read back."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..detect import detector_spec
from ._result import EvaluationResult


class ReportError(ValueError):
    """An input folder holds neither an evaluation nor an ablation."""


@dataclass(frozen=True)
class RunRecord:
    """One evaluated configuration and the folder it came from."""

    label: str
    group: str
    result: EvaluationResult
    folder: Path


def load_runs(folders: Iterable[str | os.PathLike[str]]) -> list[RunRecord]:
    """Read ``metrics.json`` (evaluation) or ``ablation.csv`` + ``runs/*/metrics.json`` folders."""
    runs: list[RunRecord] = []
    for f in map(Path, folders):
        if (f / "ablation.csv").is_file():
            with (f / "ablation.csv").open(newline="") as fh:
                order = [(r["group"], r["label"]) for r in csv.DictReader(fh)]
            found = {}
            for m in sorted((f / "runs").glob("*/metrics.json")):
                result = EvaluationResult.read(m)
                if result.label is None or result.group is None:
                    raise KeyError("label" if result.label is None else "group")
                found[(result.group, result.label)] = RunRecord(
                    result.label, result.group, result, m.parent
                )
            runs += [found[k] for k in order if k in found]
        elif (f / "metrics.json").is_file():
            result = EvaluationResult.read(f / "metrics.json")
            method = result.method or f.name
            group = "learned" if _is_learned(method) else "evaluation"
            runs.append(RunRecord(method.upper(), group, result, f))
        else:
            raise ReportError(f"{str(f)!r} holds neither metrics.json nor ablation.csv")
    if not runs:
        raise ReportError("no runs found in the given folders")
    return runs


def _is_learned(method: str) -> bool:
    """Whether a run's method is a learned detector (its spec says; unknown names are not)."""
    try:
        return detector_spec(method).learned
    except ValueError:
        return False


def pct(v: Any) -> str:
    """A fraction in percent with one decimal, or ``–``."""
    return "–" if v is None else f"{100 * float(v):.1f}"


def predictions(run: RunRecord) -> list[dict[str, str]]:
    """The rows of a run's ``predictions.csv`` (none if it kept none)."""
    path = run.folder / "predictions.csv"
    if not path.is_file():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))
