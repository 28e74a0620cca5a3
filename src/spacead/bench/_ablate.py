"""The paper's Table III sweeps: MRAD ablations next to the RXD and PAD baselines."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .._fileio import write_csv
from .._parallel import RunOptions, run_options
from ..detect import MRADParams, PADParams, RXDParams
from ._evaluate import evaluate
from ._outputs import write_metrics, write_predictions
from ._result import SUMMARY_KEYS, EvaluationResult


@dataclass(frozen=True)
class Run:
    """One row of an ablation: a group (``"grid"``), a label (``"8x8"``) and parameters.

    ``pipeline`` says how the row's pipeline differs from the base one, where its
    sweep needs another to act at all (empty: the base pipeline).
    """

    group: str
    label: str
    method: str
    params: RXDParams | MRADParams
    pipeline: str = ""


def table_iii_runs(base: MRADParams | None = None) -> list[Run]:
    """RXD, PAD, then MRAD with each Table III ablation around ``base`` (default: optimised).

    Grid 8/6/4/3/2/none; tolerance 25/50/150/200 % of the base tolerance;
    noise kernel 5/10/20/30 % of the cell; noise SD 2/5/10; and the optimised setting.
    Each sweep runs in a pipeline where its parameter acts: the tolerance only
    steers region growing, so without it in ``base`` that sweep turns it on (and
    adds a 100 % row); spacead's minimum score removes the uniform noise the
    noise step looks for, so with one in ``base`` the kernel and SD sweeps run
    without it. :attr:`Run.pipeline` says so.
    """
    base = base or MRADParams()
    runs = [Run("baseline", "RXD", "rxd", RXDParams()), Run("baseline", "PAD", "pad", PADParams())]
    for g in (8, 6, 4, 3, 2, 1):
        runs.append(Run("grid", "no grid" if g == 1 else f"{g}x{g}", "mrad", replace(base, grid=g)))
    grow, note = base, ""
    if not base.region_growing:
        grow = replace(base, region_growing=True)
        note = "with region growing (tolerance acts there)"
    for pct in (25, 50, 150, 200) if grow is base else (25, 50, 100, 150, 200):
        params = replace(grow, tolerance=base.tolerance * pct / 100)
        runs.append(Run("tolerance", f"{pct}%", "mrad", params, note))
    quiet, note = base, ""
    if base.min_score > 0:
        quiet = replace(base, min_score=0.0)
        note = "without the minimum score (it removes the noise this step looks for)"
    for pct in (5, 10, 20, 30):
        runs.append(Run("kernel", f"{pct}%", "mrad", replace(quiet, noise_kernel=pct / 100), note))
    for sd in (2, 5, 10):
        runs.append(Run("noise_sd", f"SD {sd}", "mrad", replace(quiet, noise_sd=float(sd)), note))
    runs.append(Run("optimised", "MRAD", "mrad", base))
    return runs


def raw_step2(base: MRADParams | None = None) -> MRADParams:
    """MRAD's raw step-2 score: the per-cell dual RX score, scaled and thresholded only."""
    base = base or MRADParams()
    return replace(
        base,
        opening=1,
        full_cell_fraction=1.0,
        noise_sd=0.0,
        blur_sigma=0.0,
        region_growing=False,
        refine=False if base.region_growing else base.refine,  # refine acts only with growing
    )


_STEPS: tuple[tuple[str, str, Any], ...] = (
    # (label, parameter, value that turns the step off)
    ("opening", "opening", 1),
    ("full-cell rule", "full_cell_fraction", 1.0),
    ("noise removal", "noise_sd", 0.0),
    ("blur", "blur_sigma", 0.0),
    ("seeds & region growing", "region_growing", False),
    ("border refinement", "refine", False),
)


def step_runs(base: MRADParams | None = None) -> list[Run]:
    """How each post-processing step changes MRAD, relative to its raw step-2 score.

    Group ``steps+`` starts from the raw step-2 score and adds, in pipeline
    order, each step that ``base`` uses (ending at ``base``). Group ``steps±``
    toggles one step or option of ``base`` at a time ("- X" removes a step the
    defaults use, "+ X" adds one they leave out).
    """
    base = base or MRADParams()
    raw = raw_step2(base)
    runs = [
        Run("baseline", "PAD", "pad", PADParams()),
        Run("steps+", "raw step-2 score", "mrad", raw),
    ]
    steps = [s for s in _STEPS if s[1] != "refine" or base.region_growing]  # refine needs growing
    current = raw
    for label, name, off in steps:
        if getattr(base, name) != off:
            current = replace(current, **{name: getattr(base, name)})
            runs.append(Run("steps+", f"+ {label}", "mrad", current))
    toggles: list[tuple[str, dict[str, Any]]] = [
        ("- fixed scaling (min-max)", {"scale": "minmax"}),
        ("- minimum score", {"min_score": 0.0}),
        ("- gain matching", {"match_gain": False}),
        ("- reference alignment", {"align": "none"}),
    ]
    for label, name, off in steps:
        on = getattr(MRADParams(), name) if getattr(MRADParams(), name) != off else _ON[name]
        used = getattr(base, name) != off
        toggles.append((f"{'-' if used else '+'} {label}", {name: off if used else on}))
    runs += [Run("steps±", label, "mrad", replace(base, **change)) for label, change in toggles]
    runs.append(Run("optimised", "MRAD", "mrad", base))
    return runs


# Value that turns a step on when the defaults leave it off.
_ON: dict[str, Any] = {
    "region_growing": True,
    "refine": True,
    "opening": 5,
    "full_cell_fraction": 0.9,
    "noise_sd": 5.0,
    "blur_sigma": 4.0,
}


SWEEPS = {"table3": table_iii_runs, "steps": step_runs}


def sweep_runs(names: Iterable[str], base: MRADParams | None = None) -> list[Run]:
    """Runs of the named sweeps (``table3``, ``steps``), duplicates removed, in order."""
    runs: list[Run] = []
    for name in names:
        if name not in SWEEPS:
            raise ValueError(f"unknown sweep {name!r}; valid sweeps: {', '.join(SWEEPS)}")
        for run in SWEEPS[name](base):
            if all((r.group, r.label) != (run.group, run.label) for r in runs):
                runs.append(run)
    return runs


ABLATION_COLUMNS = (
    "group",
    "label",
    "method",
    "n_images",
    "n_anomalous",
    *SUMMARY_KEYS[:-1],  # no P.AUPRO column
    "images_per_second",
    "params",
)


def _slug(run: Run) -> str:
    text = f"{run.group}_{run.label}".lower()
    return "".join(c if c.isalnum() else "_" for c in text).strip("_")


def ablate(
    root: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    runs: Iterable[Run] | None = None,
    split: str = "test",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    on_run: Callable[[Run, EvaluationResult], None] | None = None,
    run: RunOptions | None = None,
) -> list[EvaluationResult]:
    """Evaluate every run; write ``OUT/ablation.csv`` and each run's ``metrics.json``.

    Each run's folder ``OUT/runs/<run>/`` also keeps its ``predictions.csv`` (the
    report draws its image ROC from it).

    Returns the result of each run (with its ``group`` and ``label``), in run
    order. ``on_run`` is called after each run (the CLI prints progress). ``run``
    holds ``workers``, ``scheduler`` and ``progress`` in one value (give it or
    them, not both).
    """
    options = run_options(run, workers=workers, scheduler=scheduler, progress=progress)
    dest = Path(out)
    results = []
    for row in runs if runs is not None else table_iii_runs():
        result = evaluate(root, row.method, split=split, params=row.params, run=options)
        result = replace(result, group=row.group, label=row.label)
        folder = dest / "runs" / _slug(row)
        write_metrics(folder / "metrics.json", result.to_dict())
        write_predictions(folder / "predictions.csv", result.predictions)  # the report's image ROC
        results.append(result)
        if on_run is not None:
            on_run(row, result)
    write_ablation_csv(dest / "ablation.csv", results)
    return results


def write_ablation_csv(path: Path, results: Iterable[EvaluationResult]) -> Path:
    """One row per run with the benchmark metrics and the parameters as JSON."""

    def row(result: EvaluationResult) -> list[object]:
        values = [getattr(result, c) for c in ABLATION_COLUMNS[:-1]]
        return ["" if v is None else v for v in values] + [
            json.dumps(dict(result.params), sort_keys=True)
        ]

    return write_csv(path, ABLATION_COLUMNS, (row(r) for r in results))


def mrad_param_names() -> list[str]:
    """Every MRAD parameter name (for help texts)."""
    return [f.name for f in fields(MRADParams)]
