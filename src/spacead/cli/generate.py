"""``spacead generate``: simulate an ALLO-style dataset; its options are ``GenerateConfig``'s."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from ..simulate import GenerateConfig, generate
from ._command import Command
from ._common import RunOptions, run_flags
from ._options import Arg, Flatten

# The spellings that differ from GenerateConfig's field names and types.
GENERATE_ARGS = {
    "reference_position_sigma": Arg(metavar="M"),
    "reference_rotation_sigma": Arg(metavar="RAD"),
    "reference_light_jitter": Arg(metavar="F"),
    "query_exposure_jitter": Arg(
        flags=("--exposure-jitter", "--query-exposure-jitter"), metavar="J"
    ),
    "modes": Arg(metavar="MODE,..."),
    "reference_noise": Arg(negatable=True),
}
# What `spacead bench` offers of them.
DATASET_FIELDS = ("train", "test", "anomalous_fraction", "width", "height", "seed")


@dataclass(frozen=True, kw_only=True)
class Generate:
    """Simulate an ALLO-style dataset (station, ephemerides, hazards, references).

    Render train (normal) and test images with exact 3-class masks and, for test,
    reference renders, in the canonical layout; re-running on a partial OUT resumes.

    Attributes
    ----------
    out : Path
        output dataset root
    config : GenerateConfig
        what to generate: one option per field
    run : RunOptions
        threads, workers, scheduler, progress
    """

    out: Annotated[Path, Arg(positional=True)]
    config: Annotated[GenerateConfig, Flatten(args=GENERATE_ARGS)]
    run: Annotated[RunOptions, run_flags()] = field(default_factory=RunOptions)


def main(command: Generate) -> int:
    """Generate (or resume) the dataset and say how many images it holds."""
    root = generate(command.out, command.config, run=command.run)
    with (root / "manifest.csv").open() as fh:
        n = sum(1 for _ in fh) - 1  # rows: mode variants included
    print(f"wrote {n} images to {root} (manifest: {root / 'manifest.csv'})")
    return 0


COMMAND = Command("generate", Generate, main)
