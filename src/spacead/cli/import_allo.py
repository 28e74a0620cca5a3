"""``spacead import-allo``: ALLO's raw renders into the canonical layout."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from ._command import Command
from ._common import RunOptions, print_skipped, run_flags
from ._options import Arg


@dataclass(frozen=True, kw_only=True)
class ImportAllo:
    """Import ALLO's raw renders (exp_N/Camera<k>/...) into the canonical layout.

    Read ALLO's raw render folders (exp_N/Camera<k>/{normal, anomaly, anomaly_mask,
    fb_mask}, as its render_binary.py writes them) into OUT/<split>/Camera<k>/
    {images,masks} with 3-class masks, dropping renders whose hazard covers too few
    pixels as ALLO's preprocess.py does, and write the day, hazard, Sun strength,
    scale, depth offset and colour of each render to OUT/manifest.csv. Those come
    from ALLO's file names: <day>_normal_<illum>.png for normal renders and
    <day>_<hazard>_<illum>_<scale>_<depth>_<colour>.png for anomalous ones (a scale
    of -1: the hazard's own size); other names are imported with empty fields.

    Attributes
    ----------
    raw : Path
        one exp_N folder, or a folder of them
    out : Path
        dataset root to write
    min_pixels : int
        drop anomalous renders whose hazard covers at most this many pixels (ALLO's)
    normal_split : str
        split of normal renders
    anomaly_split : str
        split of anomalous renders
    palette_masks : bool
        write 3-class masks as palette PNGs (0/1/2 shown black, grey, red in viewers;
        spacead reads both, but OpenCV and ALLO's scripts read a palette PNG as colours)
    """

    raw: Annotated[Path, Arg(positional=True)]
    out: Annotated[Path, Arg(positional=True)]
    min_pixels: int = 2000
    normal_split: str = "train"
    anomaly_split: str = "test"
    palette_masks: bool = False
    run: Annotated[RunOptions, run_flags()] = field(default_factory=RunOptions)


def main(command: ImportAllo) -> int:
    """Import, report skipped and unparsed files on stderr, a JSON summary on stdout."""
    from ..data import import_allo

    run = command.run
    result = import_allo(
        command.raw,
        command.out,
        normal_split=command.normal_split,
        anomaly_split=command.anomaly_split,
        min_pixels=command.min_pixels,
        palette_masks=command.palette_masks,
        workers=run.workers,
        scheduler=run.scheduler,
        progress=run.progress,
    )
    print_skipped(result.problems)
    if result.unparsed_names:
        print(
            f"{len(result.unparsed_names)} file name(s) are not ALLO's pattern "
            f"(<day>_<hazard>_<illum>_<scale>_<depth>_<colour>); their manifest fields are "
            f"empty, e.g. {result.unparsed_names[0]}",
            file=sys.stderr,
        )
    print(json.dumps(result.summary()))
    return 0


COMMAND = Command("import-allo", ImportAllo, main)
