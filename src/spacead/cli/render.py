"""``spacead render``: the reference of every frame of ``ROOT/transforms.json``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from ._command import Command
from ._common import RENDER_PARAM, RunOptions, print_skipped, reference_params, run_flags
from ._options import Arg

EXIT_PROBLEMS = 1


@dataclass(frozen=True, kw_only=True)
class Render:
    """Render the reference of every frame of ROOT/transforms.json from its CAD model.

    Render each frame's reference at its reported pose from the CAD model named by
    ROOT/transforms.json ('cad'), match its light levels and exposure to the frame
    (and refine the pose with --render-param refine=true); write
    OUT/<...>/references/<name>.png, OUT/references.csv and OUT/render.json.
    Re-running on a partial OUT resumes: a reference is kept only if its frame's entry,
    image and model and spacead's renderer are those it was made from, and its file is as
    written; any other is made again (and the run says how many).

    Attributes
    ----------
    root : Path
        dataset root holding transforms.json and the frames
    out : Path or None
        output root (default: ROOT itself)
    cad_outside : bool
        read the CAD model even if transforms.json names one outside ROOT
    """

    root: Annotated[Path, Arg(positional=True)]
    out: Path | None = None
    cad_outside: bool = False
    render_param: Annotated[list[str], RENDER_PARAM] = field(default_factory=list)
    run: Annotated[RunOptions, run_flags()] = field(default_factory=RunOptions)


def main(command: Render) -> int:
    """Render what is missing; exit 1 if a frame could not be rendered."""
    from ..reference import render_references

    run = command.run
    summary = render_references(
        command.root,
        command.out,
        params=reference_params(command.render_param),
        workers=run.workers,
        scheduler=run.scheduler,
        progress=run.progress,
        cad_outside=command.cad_outside,
    )
    print_skipped(summary.problems)
    notes = []
    if summary.stale:
        notes.append(f"{summary.stale} made again: their frame, image, model or spacead changed")
    if summary.replaced:
        notes.append(f"{summary.replaced} replaced reference file(s) spacead had not made here")
    print(
        f"rendered {summary.rendered} reference(s), {summary.skipped} already done, "
        f"{len(summary.problems)} problem(s); table: {summary.out / 'references.csv'}"
        + "".join(f"\n  ({note})" for note in notes)
    )
    return EXIT_PROBLEMS if summary.problems else 0


COMMAND = Command("render", Render, main)
