"""``spacead report``: evaluation and ablation outputs as an HTML page and a Markdown table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from ._command import Command
from ._options import Arg


@dataclass(frozen=True, kw_only=True)
class Report:
    """Turn evaluation/ablation outputs into an HTML page and a Markdown table.

    Write OUT/report.html (self-contained) and OUT/report.md from DIRs made by
    `spacead evaluate` or `spacead ablate`.

    Attributes
    ----------
    dirs : list of Path
        evaluation or ablation folder
    out : Path
        output folder
    """

    dirs: Annotated[list[Path], Arg(positional=True, metavar="DIR")]
    out: Path


def main(command: Report) -> int:
    """Write the report and print its table."""
    from ..bench import load_runs, markdown_table, write_report

    path = write_report(command.dirs, command.out)
    print(markdown_table(load_runs(command.dirs)), end="")
    print(f"wrote {path} and {path.with_suffix('.md')}")
    return 0


COMMAND = Command("report", Report, main)
