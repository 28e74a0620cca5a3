"""``spacead inpaint synth|train|scan``: the image-completion survey of orbital frames.

``train`` and ``scan`` take their options from :class:`~spacead.models.inpaint.TrainConfig`
and :class:`~spacead.survey.ScanConfig`. Both modules import torch, so they are
imported (:func:`import_configs`) only when one of these commands is chosen, after
the ``inpaint`` extra was found; ``spacead --help`` and the other commands never load
torch.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from .._extras import require
from ..models.inpaint._presets import PRESETS
from ._command import Command, Group
from ._common import RunOptions, run_flags
from ._options import Arg, Changes, Flatten

if TYPE_CHECKING:
    from ..models.inpaint import TrainConfig
    from ..survey import ScanConfig

QUIET_AND_THREADS = ("threads", "quiet")


def import_configs() -> None:
    """Make ``TrainConfig`` and ``ScanConfig`` (torch) known to this module's annotations."""
    from ..models.inpaint import TrainConfig
    from ..survey import ScanConfig

    globals().update(TrainConfig=TrainConfig, ScanConfig=ScanConfig)


@dataclass(frozen=True, kw_only=True)
class Synth:
    """Write a synthetic HiRISE-like frame with planted hardware (for demos and tests).

    Write FRAME.tif, a synthetic grey terrain frame with planted hardware (boxes,
    panels, parachutes), and FRAME.objects.csv with the planted objects' boxes.

    Attributes
    ----------
    out : Path
        frame to write (TIFF)
    size : int
        side in pixels
    objects : int
        planted objects
    seed : int
        random seed
    """

    out: Annotated[Path, Arg(positional=True, metavar="FRAME.tif")]
    size: int = 4096
    objects: int = 16
    seed: int = 0


def synth(command: Synth) -> int:
    """Write the frame and its objects' table."""
    from .._fileio import write_csv
    from ..simulate import make_planetary_frame
    from ..tiles import write_tiff

    if command.objects < 0:
        raise ValueError(f"--objects must be zero or more, got {command.objects}")
    size = command.size
    image, objects = make_planetary_frame(size, size, rng=command.seed, n_objects=command.objects)
    frame = write_tiff(command.out, image, bigtiff=image.nbytes >= 2**31)
    truth = write_csv(
        frame.with_suffix(".objects.csv"),
        ["kind", "y0", "x0", "y1", "x1"],
        ([o.kind, o.y0, o.x0, o.y1, o.x1] for o in objects),
    )
    print(f"wrote {frame} ({size}×{size}) and {truth} ({len(objects)} objects)")
    return 0


def _preset_note(field: str) -> str:
    return f"cpu preset {PRESETS['cpu'][field]}, article {PRESETS['article'][field]}"


TRAIN_FIELDS = (
    "epochs",
    "batch_size",
    "lr",
    "width",
    "tile",
    "train_stride",
    "input_size",
    "max_tiles",
    "seed",
    "flip",
)
TRAIN_ARGS = {name: Arg(note=_preset_note(name)) for name in TRAIN_FIELDS} | {
    "train_stride": Arg(flags=("--stride",), key="stride", note=_preset_note("train_stride")),
    "flip": Arg(note="cpu preset off, article on; --no-flip keeps one frame's illumination"),
}


@dataclass(frozen=True, kw_only=True)
class Train:
    """Train on the tiles of one or more frames.

    Train the completion network on tiles cut from IMAGE (the frames to be scanned
    themselves: hardware is rare enough not to be learned) and write MODEL.pt.

    Attributes
    ----------
    images : list of Path
        TIFF/BigTIFF, JP2, PNG
    out : Path
        checkpoint
    preset : str
        training recipe the flags below change: cpu (default; about 12 min on 2 cores
        for a 4096-px frame) or article (the article's sizes, for a GPU: --device cuda)
    changes : Changes of TrainConfig
        the preset's fields given on the command line
    device : str or None
        cpu (default), cuda or cuda:N
    """

    images: Annotated[list[Path], Arg(positional=True, metavar="IMAGE")]
    out: Annotated[Path, Arg(metavar="MODEL.pt")]
    preset: Annotated[str, Arg(choices=tuple(PRESETS))] = "cpu"
    changes: Annotated[Changes[TrainConfig], Flatten(only=TRAIN_FIELDS, args=TRAIN_ARGS)]
    device: str | None = None
    run: Annotated[RunOptions, run_flags(QUIET_AND_THREADS)] = field(default_factory=RunOptions)


def train(command: Train) -> int:
    """Train (after saying what the preset and the flags make) and write the checkpoint."""
    require("inpaint")
    from ..models.inpaint import TrainConfig
    from ..survey import train_inpainter

    config = TrainConfig.preset(command.preset, **command.changes.given)
    if command.run.progress:  # what the preset and the flags make (flips differ between presets)
        settings = ", ".join(f"{k} {v}" for k, v in config.to_dict().items())
        print(f"training ({command.preset} preset): {settings}", file=sys.stderr)
    path = train_inpainter(
        command.images,
        out=command.out,
        config=config,
        progress=command.run.progress,
        device=command.device,
    )
    print(f"wrote {path}")
    return 0


def fine_stride(text: str) -> int | str | None:
    """``--fine-stride``: a number of pixels, ``centre``, or 0 for no fine pass."""
    if text.strip().lower() == "centre":
        return "centre"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a number of pixels, centre or 0, got {text!r}"
        ) from None
    return value or None


SCAN_FIELDS = ("stride", "fine_stride", "k", "normalize", "fine_scope", "score")
SCAN_ARGS = {
    "stride": Arg(help="coarse stride (only with --fine-scope hits or --fine-stride 0)"),
    "fine_stride": Arg(
        metavar="PIXELS|centre",
        parse=fine_stride,
        help="fine stride (default centre: the model's scored-centre side, 24 px for 128-px "
        "tiles, so the centres cover the frame; 0 = no fine pass)",
    ),
}


@dataclass(frozen=True, kw_only=True)
class Scan:
    """Score every tile of a frame and flag outliers.

    Complete the masked centre of every tile of IMAGE with MODEL, score the completion
    error, flag tiles k sigma out and write scores, places and a heat map to OUT.

    Attributes
    ----------
    image : Path
        the frame
    model : Path
        checkpoint from `inpaint train`
    out : Path
        output folder
    config : ScanConfig
        which tiles are scored and how they are judged
    workers : int
        1 (default): this process, on torch's threads; N: N processes sharing the cores
        (this one included); with --scheduler, the size of a local Dask cluster
    scheduler : str or None
        Dask scheduler address (tcp://host:8786), or "local" for a local Dask cluster of
        --workers processes; default: none (see --workers)
    device : str or None
        cpu (default), cuda or cuda:N (single-process scans)
    """

    image: Annotated[Path, Arg(positional=True)]
    model: Path
    out: Path
    config: Annotated[ScanConfig, Flatten(only=SCAN_FIELDS, args=SCAN_ARGS)]
    workers: int = 1
    scheduler: Annotated[str | None, Arg(metavar="ADDRESS")] = None
    device: str | None = None
    run: Annotated[RunOptions, run_flags(QUIET_AND_THREADS)] = field(default_factory=RunOptions)


def scan(command: Scan) -> int:
    """Scan the frame; print the result's summary as one JSON line."""
    require("inpaint")
    from ..survey import scan_image

    result = scan_image(
        command.image,
        model=command.model,
        out_dir=command.out,
        config=command.config,
        workers=command.workers,
        scheduler=command.scheduler,
        progress=command.run.progress,
        device=command.device,
    )
    print(json.dumps(result.summary()))
    return 0


GROUP = Group(
    "inpaint",
    help="image-completion anomaly detection on large orbital frames (HiRISE workflow)",
    description="Train the image-completion CNN on a frame's own tiles, then flag tiles "
    "whose centre it cannot reconstruct (needs the inpaint extra: torch).",
    commands=(
        Command("synth", Synth, synth),
        Command("train", Train, train, extra="inpaint", imports=import_configs),
        Command("scan", Scan, scan, extra="inpaint", imports=import_configs),
    ),
)
