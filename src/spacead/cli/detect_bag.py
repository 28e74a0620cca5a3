"""``spacead detect-bag``: every frame of a ROS 2 recording against the CAD model."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from ._bag import BagInput, LiveOptions, finish, print_record
from ._command import Command
from ._common import RunOptions, run_flags
from ._options import Arg, Flatten


@dataclass(frozen=True, kw_only=True)
class DetectBag:
    """Detect hazards in every frame of a ROS 2 recording against the CAD model.

    Read IN (a rosbag2 folder, MCAP or sqlite3, or one .mcap file): images from
    --image-topic, intrinsics from its CameraInfo, the camera pose from /tf and
    /tf_static at each image's stamp; render each reference from --cad and run the
    detector. Write OUT, a rosbag2 (MCAP) with /spacead/mask, /spacead/overlay,
    /spacead/reference, /spacead/result and /spacead/annotations under each input
    image's header (Foxglove and RViz show them over the input), and
    OUT/summary.json; print one JSON line per frame.

    Attributes
    ----------
    bag : Path
        recording: a rosbag2 folder or an .mcap file
    cad : Path
        station model (glTF/GLB, OBJ, .blend) in the world frame's coordinates
    out : Path
        rosbag2 folder to write (MCAP)
    overwrite : bool
        replace OUT once the new recording is complete
    """

    bag: Annotated[Path, Arg(positional=True, metavar="IN")]
    cad: Path
    out: Path
    input: Annotated[BagInput, Flatten()] = field(default_factory=BagInput)
    live: Annotated[LiveOptions, Flatten()] = field(default_factory=LiveOptions)
    overwrite: bool = False
    run: Annotated[RunOptions, run_flags(("threads", "quiet"))] = field(default_factory=RunOptions)


def main(command: DetectBag) -> int:
    """Detect, print a JSON line per frame; exit 1 if an image could not be used."""
    from ..ros import detect_bag

    done = detect_bag(
        command.input.source(command.bag),
        command.live.detector(command.cad),
        command.out,
        compressed=command.live.compressed_out,
        overwrite=command.overwrite,
        progress=command.run.progress,
        on_frame=print_record,
    )
    for problem in done.tf_problems[:10]:
        print(f"ignored {problem}", file=sys.stderr)
    summary = f"{done.out}: {done.frames} frame(s) of {done.images} image(s)"
    summary += f", {len(done.skipped)} skipped"
    return finish(done.skipped, summary, listed_in=str(done.out / "summary.json"))


COMMAND = Command("detect-bag", DetectBag, main, extra="ros")
