"""``spacead export-anomalib``: a dataset in anomalib's Folder layout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from ._command import Command
from ._common import print_skipped
from ._options import Arg


@dataclass(frozen=True, kw_only=True)
class ExportAnomalib:
    """Export a dataset in anomalib's Folder layout (binary masks, references beside).

    Write OUT/train/normal, OUT/test/normal, OUT/test/abnormal and OUT/test/mask
    (255 = class 2 only: anomalib counts every non-zero mask pixel as anomalous) and
    the references under OUT/references/; images are hard-linked where possible.

    Attributes
    ----------
    root : Path
        dataset root (ALLO layout)
    out : Path
        output folder
    no_references : bool
        do not export the references
    strict : bool
        stop at the first unusable file
    """

    root: Annotated[Path, Arg(positional=True)]
    out: Annotated[Path, Arg(positional=True)]
    no_references: bool = False
    strict: bool = False


def main(command: ExportAnomalib) -> int:
    """Export, report skipped files on stderr and the counts on stdout."""
    from ..data import export_anomalib

    out = command.out
    problems = export_anomalib(
        command.root, out, strict=command.strict, references=not command.no_references
    )
    print_skipped(problems)
    counts = {
        part: len(list((out / part).glob("*.png")))
        for part in ("train/normal", "test/normal", "test/abnormal")
    }
    print(
        f"wrote {out}: "
        + ", ".join(f"{n} {part}" for part, n in counts.items())
        + (f"; {len(problems)} file(s) skipped" if problems else "")
    )
    return 0


COMMAND = Command("export-anomalib", ExportAnomalib, main)
