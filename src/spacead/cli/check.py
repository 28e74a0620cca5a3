"""``spacead check``: every problem of a dataset, listed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from ._command import Command
from ._options import Arg

EXIT_PROBLEMS = 1


@dataclass(frozen=True, kw_only=True)
class Check:
    """Verify a dataset: masks, references, sizes and manifest agree.

    List every problem of ROOT (missing mask or reference, unreadable file, size
    mismatch, manifest/file disagreement); exit 1 if there is any.

    Attributes
    ----------
    root : Path
        dataset root
    """

    root: Annotated[Path, Arg(positional=True)]


def main(command: Check) -> int:
    """Print each problem and a summary line; exit 1 if there is any."""
    from ..data import check_dataset

    problems = check_dataset(command.root)
    for problem in problems:
        print(problem)
    root = command.root
    print(f"{root}: {len(problems)} problem(s)" if problems else f"{root}: OK")
    return EXIT_PROBLEMS if problems else 0


COMMAND = Command("check", Check, main)
