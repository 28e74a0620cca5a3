"""``spacead evaluate``: a detector on every image of a dataset split."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from .._extras import require
from .._fileio import check_outside
from ..detect import detector_names, detector_spec, detector_specs
from ._command import Command
from ._common import PAIRS, RENDER_PARAM, RunOptions, print_skipped, reference_params, run_flags
from ._options import Arg, settings

if TYPE_CHECKING:
    from ..data import Problem


def methods_help() -> str:
    """``--method`` help from the detector registry (read when the parser is built)."""
    specs = detector_specs()
    plain = ", ".join(s.label for s in specs if not s.learned)
    learned = "; ".join(
        f"{s.label} ({s.summary}" + (f'; pip install "spacead[{s.extra}]")' if s.extra else ")")
        for s in specs
        if s.learned
    )
    return f"detector: {plain}; or a learned one, trained on the train split first: {learned}"


def evaluate_method(text: str) -> str:
    """``evaluate --method``: any registered detector (``anomalib:<model>`` included)."""
    try:
        detector_spec(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid choice: {text!r} (choose from {', '.join(detector_names())})"
        ) from None
    return text


@dataclass(frozen=True, kw_only=True)
class Evaluate:
    """Evaluate a detector on an ALLO-layout dataset.

    Run a detector on every image of a split and write metrics.json, predictions.csv
    and (with --save-maps) maps/<Camera k>/<name>.npy to --out.

    Attributes
    ----------
    root : Path
        dataset root (<split>/Camera<k>/images|masks|references)
    method : str
        the detector (help lists the registered ones)
    split : str
        split folder
    param : list of str
        detector parameter, repeatable
    out : Path
        output folder
    save_maps : bool
        save every float32 pixel score map (maps/) and predicted mask (masks/)
    strict : bool
        stop at the first unusable file instead of reporting it
    references : {"files", "render"} or None
        MRAD/PAD references: the split's references/ files, or rendered now from
        ROOT/transforms.json's CAD model and poses (default: files if there are any,
        else render)
    cad_outside : bool
        with --references render: read the CAD model even if transforms.json names one
        outside ROOT
    """

    root: Annotated[Path, Arg(positional=True)]
    method: Annotated[str, Arg(parse=evaluate_method, help=methods_help())]
    split: str = "test"
    param: Annotated[list[str], PAIRS] = field(default_factory=list)
    out: Path
    save_maps: bool = False
    strict: bool = False
    references: Literal["files", "render"] | None = None
    cad_outside: bool = False
    render_param: Annotated[list[str], RENDER_PARAM] = field(default_factory=list)
    run: Annotated[RunOptions, run_flags()] = field(default_factory=RunOptions)


def main(command: Evaluate) -> int:
    """Evaluate, write metrics.json (with these settings) and predictions.csv, print a table."""
    from ..bench import evaluate, summary_table, write_evaluation

    spec = detector_spec(command.method)
    if spec.extra is not None:
        require(spec.extra)
    out, run = command.out, command.run
    check_outside(out, command.root, "dataset")
    result = evaluate(
        command.root,
        command.method,
        split=command.split,
        params=spec.parse_params(command.method, command.param),
        maps_dir=out / "maps" if command.save_maps else None,
        masks_dir=out / "masks" if command.save_maps else None,
        strict=command.strict,
        resume_dir=out / ".partial",
        references=command.references,
        reference_params=reference_params(command.render_param),
        run=run,
        cad_outside=command.cad_outside,
    )
    metrics, predictions = write_evaluation(out, result, config=settings(command))
    print(summary_table([result.to_dict()]))
    if result.info("note"):  # e.g. a learned model trained from scratch, offline
        print(f"note: {command.method}: {result.info('note')}", file=sys.stderr)
    print_skipped(result.problems, str(out / "metrics.json"))
    if result.problems:
        print(
            f"{len(result.problems)} file(s) could not be used; see metrics.json", file=sys.stderr
        )
    if result.masks_thresholded:
        print(
            f"{result.masks_thresholded} foreground/background mask(s) with grey "
            "edges (resized with area averaging) were read thresholded at half scale",
            file=sys.stderr,
        )
    print(f"wrote {metrics} and {predictions}")
    if result.metrics.get("n_images", 0) == 0:
        print(f"error: {_nothing_evaluated(command, result.problems)}", file=sys.stderr)
        return 1
    return 0


def _nothing_evaluated(command: Evaluate, problems: Sequence[Problem]) -> str:
    """One line saying why no image could be scored, and what to do about it."""
    root, split = command.root, command.split
    if problems and all("missing reference" in p.reason for p in problems):
        how = (
            f"give the frames' poses and a 'cad' model in {root / 'transforms.json'} and add "
            "--references render, or make the files with 'spacead render'"
        )
        return (
            f"no image of {root / split} could be evaluated: {len(problems)} have no reference "
            f"({command.method} compares each image with one); {how}"
        )
    first = f"; first: {problems[0]}" if problems else ""
    return f"no image of {root / split} could be evaluated ({len(problems)} problem(s){first})"


COMMAND = Command("evaluate", Evaluate, main)
