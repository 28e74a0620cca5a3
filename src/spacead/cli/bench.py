"""``spacead bench``: :func:`spacead.bench.run_benchmark` on the command line."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from ..simulate import GenerateConfig
from ._command import Command
from ._common import RunOptions, run_flags
from ._options import Arg, Flatten
from .generate import DATASET_FIELDS


@dataclass(frozen=True, kw_only=True)
class Bench:
    """The paper's experiment end to end: generate, evaluate RXD/PAD/MRAD, report.

    Generate a small dataset in OUT/data (or resume it), evaluate RXD, PAD and MRAD
    into OUT/results/<method>, and write OUT/report/report.html.

    Attributes
    ----------
    out : Path
        output folder
    dataset : GenerateConfig
        what to generate (no training images by default)
    learned : tuple of str
        also train and evaluate these anomalib models (e.g. padim,patchcore; needs the
        anomalib extra and --train N); one that cannot run offline is listed with the
        reason
    """

    out: Annotated[Path, Arg(positional=True)] = Path("spacead-bench")
    dataset: Annotated[GenerateConfig, Flatten(only=DATASET_FIELDS, defaults={"train": 0})]
    learned: Annotated[tuple[str, ...], Arg(metavar="MODEL,...")] = ()
    run: Annotated[RunOptions, run_flags()] = field(default_factory=RunOptions)


def main(command: Bench) -> int:
    """Run the benchmark; print the report's table."""
    from ..bench import load_runs, markdown_table, run_benchmark

    if command.learned and command.dataset.train < 1:
        raise ValueError("--learned models need training images: add --train N (e.g. 100)")
    result = run_benchmark(command.out, command.dataset, learned=command.learned, run=command.run)
    for method, reason in result.skipped.items():
        print(f"spacead bench: skipped {method}: {reason}", file=sys.stderr)
    print(markdown_table(load_runs(result.runs)), end="")
    print(f"wrote {result.report}")
    return 0


COMMAND = Command("bench", Bench, main)
