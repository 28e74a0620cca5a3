"""``spacead ablate``: the paper's Table III ablations plus RXD and PAD."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from ._command import Command
from ._common import PAIRS, RunOptions, run_flags
from ._options import Arg


@dataclass(frozen=True, kw_only=True)
class Ablate:
    """Run the paper's Table III ablations plus RXD and PAD.

    Evaluate RXD, PAD and MRAD with the Table III sweeps (grid 8/6/4/3/2/none,
    tolerance 25/50/150/200 %, kernel 5/10/20/30 %, SD 2/5/10) and write
    OUT/ablation.csv and OUT/runs/<run>/metrics.json. Each sweep runs where its
    parameter acts (tolerance with region growing, the noise step without the
    minimum score), and the table says so above its rows.

    Attributes
    ----------
    root : Path
        dataset root
    out : Path
        output folder
    split : str
        split folder
    param : list of str
        MRAD base parameter the sweeps vary around, repeatable
    sweeps : str
        comma-separated: table3 (the paper's Table III), steps (each post-processing
        step vs the raw step-2 score); default table3
    """

    root: Annotated[Path, Arg(positional=True)]
    out: Path
    split: str = "test"
    param: Annotated[list[str], PAIRS] = field(default_factory=list)
    sweeps: str = "table3"
    run: Annotated[RunOptions, run_flags()] = field(default_factory=RunOptions)


def main(command: Ablate) -> int:
    """Run the sweeps, printing one table row per run as it finishes."""
    from ..bench import EvaluationResult, Run, ablate, summary_table, sweep_runs
    from ..detect import MRADParams

    runs = sweep_runs(command.sweeps.split(","), MRADParams.from_strings(command.param))

    groups: list[str] = []

    def report(run: Run, result: EvaluationResult) -> None:
        if not groups or groups[-1] != run.group:  # rows grouped by sweep, under its name
            groups.append(run.group)
            print(f"-- {run.group}" + (f": {run.pipeline}" if run.pipeline else ""), flush=True)
        print(summary_table([result.to_dict()], label_key="label").splitlines()[1], flush=True)

    print(summary_table([], label_key="label"), flush=True)
    ablate(
        command.root,
        command.out,
        runs=runs,
        split=command.split,
        run=command.run,
        on_run=report,
    )
    print(f"wrote {command.out / 'ablation.csv'}")
    return 0


COMMAND = Command("ablate", Ablate, main)
