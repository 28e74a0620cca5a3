"""``spacead detect-bag``: every frame of a ROS 2 recording against the CAD model."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from ._command import Command
from ._common import PAIRS, RENDER_PARAM, RunOptions, print_skipped, reference_params, run_flags
from ._options import Arg


def sun_vector(text: str) -> tuple[float, float, float]:
    """``--sun X,Y,Z``: three numbers."""
    try:
        x, y, z = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected three numbers X,Y,Z, got {text!r}") from None
    return (x, y, z)


def live_method(text: str) -> str:
    """``--method``: a detector that compares a frame with its rendered reference."""
    from ..reference._live import reference_methods

    if text not in reference_methods():
        raise argparse.ArgumentTypeError(
            f"invalid choice: {text!r} (choose from {', '.join(reference_methods())})"
        )
    return text


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
    image_topic : str
        sensor_msgs/Image or CompressedImage topic
    out : Path
        rosbag2 folder to write (MCAP)
    camera_info_topic : str or None
        CameraInfo topic (default: the image topic's sibling camera_info)
    world_frame : str
        TF frame of the CAD model's coordinates
    sun : tuple of float or None
        direction towards the Sun in the world frame
    sun_topic : str or None
        geometry_msgs/Vector3Stamped topic towards the Sun (rotated into the world
        frame by TF)
    every : int
        detect every Nth image
    tf_tolerance : float
        seconds outside the TF samples a pose may take the nearest one (default 0:
        no extrapolation, as tf2)
    method : str
        detector comparing a frame with its reference: mrad or pad
    param : list of str
        detector parameter, repeatable (e.g. --param grid=8)
    compressed_out : bool
        overlay and reference as JPEG CompressedImage (much smaller)
    overwrite : bool
        replace OUT once the new recording is complete
    """

    bag: Annotated[Path, Arg(positional=True, metavar="IN")]
    cad: Path
    image_topic: str
    out: Path
    camera_info_topic: str | None = None
    world_frame: str = "world"
    sun: Annotated[tuple[float, float, float] | None, Arg(parse=sun_vector, metavar="X,Y,Z")] = None
    sun_topic: str | None = None
    every: int = 1
    tf_tolerance: Annotated[float, Arg(metavar="SECONDS")] = 0.0
    method: Annotated[str, Arg(parse=live_method)] = "mrad"
    param: Annotated[list[str], PAIRS] = field(default_factory=list)
    render_param: Annotated[list[str], RENDER_PARAM] = field(default_factory=list)
    compressed_out: bool = False
    overwrite: bool = False
    run: Annotated[RunOptions, run_flags(("threads", "quiet"))] = field(default_factory=RunOptions)


def main(command: DetectBag) -> int:
    """Detect, print a JSON line per frame; exit 1 if an image could not be used."""
    from ..detect import detector_spec
    from ..ros import BagSource, detect_bag

    params = detector_spec(command.method).parse_params(command.method, command.param)
    source = BagSource(
        command.bag,
        image_topic=command.image_topic,
        world_frame=command.world_frame,
        camera_info_topic=command.camera_info_topic,
        sun=command.sun,
        sun_topic=command.sun_topic,
        every=command.every,
        tf_tolerance_s=command.tf_tolerance,
    )
    done = detect_bag(
        source,
        command.cad,
        command.out,
        method=command.method,
        params=params,  # type: ignore[arg-type]
        reference=reference_params(command.render_param),
        compressed=command.compressed_out,
        overwrite=command.overwrite,
        progress=command.run.progress,
        on_frame=lambda record: print(json.dumps(record), flush=True),
    )
    print_skipped(done.skipped, listed_in=str(done.out / "summary.json"))
    for problem in done.tf_problems[:10]:
        print(f"ignored {problem}", file=sys.stderr)
    print(
        f"{done.out}: {done.frames} frame(s) of {done.images} image(s), "
        f"{len(done.skipped)} skipped",
        file=sys.stderr,
    )
    return 1 if done.skipped else 0


COMMAND = Command("detect-bag", DetectBag, main, extra="ros")
