"""``spacead export-bag``: a transforms.json dataset as a ROS 2 recording."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from ._command import Command
from ._options import Arg


@dataclass(frozen=True, kw_only=True)
class ExportBag:
    """Write a dataset's frames as a ROS 2 recording: images, CameraInfo, TF, Sun.

    Write OUT, a rosbag2 folder, from ROOT/transforms.json: the images on
    --image-topic in camera_optical_frame, their CameraInfo beside them, TF as an
    arm publishes it (world -> arm_base -> camera_link -> camera_optical_frame,
    the moving link sampled just before and after each exposure) and the Sun
    direction on /sun_direction; replay it with spacead detect-bag, Foxglove or
    ros2 bag play.

    Attributes
    ----------
    root : Path
        dataset root holding transforms.json and the frames
    out : Path
        rosbag2 folder to write
    image_topic : str
        topic of the images (compressed ones go to IMAGE_TOPIC/compressed)
    world_frame : str
        TF frame of the dataset's world coordinates
    images : str
        raw (sensor_msgs/Image rgb8), jpeg or png (CompressedImage)
    storage : str
        rosbag2 storage: mcap or sqlite3
    rate : float
        frames per second of the stamps
    overwrite : bool
        replace OUT once the new recording is complete
    """

    root: Annotated[Path, Arg(positional=True)]
    out: Annotated[Path, Arg(positional=True)]
    image_topic: str = "/camera/image_raw"
    world_frame: str = "world"
    images: Literal["raw", "jpeg", "png"] = "raw"
    storage: Literal["mcap", "sqlite3"] = "mcap"
    rate: Annotated[float, Arg(metavar="HZ")] = 10.0
    overwrite: bool = False


def main(command: ExportBag) -> int:
    """Write the recording and say what it holds."""
    from .._fileio import check_outside
    from ..ros import export_bag

    check_outside(command.out, command.root, "the dataset")
    done = export_bag(
        command.root,
        command.out,
        image_topic=command.image_topic,
        world_frame=command.world_frame,
        images=command.images,
        storage=command.storage,
        rate_hz=command.rate,
        overwrite=command.overwrite,
    )
    print(
        f"{done.out}: {done.frames} frame(s) on {done.image_topic}, CameraInfo, /tf, "
        f"/tf_static and /sun_direction (world frame {done.world_frame!r})"
    )
    return 0


COMMAND = Command("export-bag", ExportBag, main, extra="ros")
