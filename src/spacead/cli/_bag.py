"""Options of the commands that read a ROS 2 recording and detect on its frames.

``detect-bag`` and ``serve`` read frames the same way (:class:`BagInput`) and run
the same detector (:class:`LiveOptions`): each group is declared once, here.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from ._common import PAIRS, RENDER_PARAM, print_skipped, reference_params
from ._options import Arg

if TYPE_CHECKING:
    from ..ros import BagSource, FrameDetector


def sun_vector(text: str) -> tuple[float, float, float]:
    """``--sun X,Y,Z``: three numbers."""
    try:
        x, y, z = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected three numbers X,Y,Z, got {text!r}") from None
    return (x, y, z)


def live_method(text: str) -> str:
    """``--method``: a detector that compares a frame with its rendered reference."""
    from ..reference import reference_methods

    if text not in reference_methods():
        raise argparse.ArgumentTypeError(
            f"invalid choice: {text!r} (choose from {', '.join(reference_methods())})"
        )
    return text


@dataclass(frozen=True, kw_only=True)
class BagInput:
    """Which frames of a recording, their camera, pose and sky.

    Attributes
    ----------
    image_topic : str or None
        sensor_msgs/Image or CompressedImage topic (default: the recording's only
        image topic)
    camera_info_topic : str or None
        CameraInfo topic (default: the image topic's sibling camera_info)
    world_frame : str
        TF frame of the CAD model's coordinates
    sun : tuple of float or None
        direction towards the Sun in the world frame
    sun_topic : str or None
        geometry_msgs/Vector3Stamped topic towards the Sun (rotated into the world
        frame by TF)
    sky : str or None
        ephemeris: the Sun, Moon and Earth at each image's stamp from --orbit
        (instead of --sun or --sun-topic)
    orbit : str or None
        the station's orbit for --sky ephemeris: nrho (the Gateway's),
        nrho@ISO-TIME (a perilune passage, UTC), a TLE file or a CCSDS OEM file
    inertial_frame : str or None
        TF frame with ICRF axes that gives the world frame's attitude for --sky
        ephemeris (default: the world frame is the station's LVLH frame, z away from
        the body it orbits, y along the velocity)
    every : int
        detect every Nth image
    tf_tolerance : float
        seconds outside the TF samples a pose may take the nearest one (default 0:
        no extrapolation, as tf2)
    """

    image_topic: str | None = None
    camera_info_topic: str | None = None
    world_frame: str = "world"
    sun: Annotated[tuple[float, float, float] | None, Arg(parse=sun_vector, metavar="X,Y,Z")] = None
    sun_topic: str | None = None
    sky: Literal["ephemeris"] | None = None
    orbit: Annotated[str | None, Arg(metavar="ORBIT")] = None
    inertial_frame: str | None = None
    every: int = 1
    tf_tolerance: Annotated[float, Arg(metavar="SECONDS")] = 0.0

    def source(self, bag: Path) -> BagSource:
        """The recording's frames as these options ask.

        Raises
        ------
        ValueError
            If ``--sky ephemeris`` comes without ``--orbit`` or the other way round.
        """
        from ..ros import BagSource, EphemerisSky
        from ..scene import load_orbit

        if (self.sky is None) != (self.orbit is None):
            raise ValueError("--sky ephemeris and --orbit ORBIT go together")
        if self.inertial_frame is not None and self.sky is None:
            raise ValueError("--inertial-frame is for --sky ephemeris")
        sky = None
        if self.orbit is not None:
            sky = EphemerisSky(load_orbit(self.orbit), self.inertial_frame)
        return BagSource(
            bag,
            image_topic=self.image_topic,
            world_frame=self.world_frame,
            camera_info_topic=self.camera_info_topic,
            sun=self.sun,
            sun_topic=self.sun_topic,
            sky=sky,
            every=self.every,
            tf_tolerance_s=self.tf_tolerance,
        )

    def given(self) -> list[str]:
        """The options given a value other than their default, as flags."""
        default = BagInput()
        return [
            "--" + f.name.replace("_", "-")
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        ]


@dataclass(frozen=True, kw_only=True)
class LiveOptions:
    """How each frame is compared with its reference, and how outputs are encoded.

    Attributes
    ----------
    method : str
        detector comparing a frame with its reference: mrad or pad
    param : list of str
        detector parameter, repeatable (e.g. --param grid=8)
    compressed_out : bool
        overlay and reference as JPEG CompressedImage (much smaller)
    """

    method: Annotated[str, Arg(parse=live_method)] = "mrad"
    param: Annotated[list[str], PAIRS] = field(default_factory=list)
    render_param: Annotated[list[str], RENDER_PARAM] = field(default_factory=list)
    compressed_out: bool = False

    def detector(self, cad: Path) -> FrameDetector:
        """The detector these options name, for the model ``cad``."""
        from ..detect import detector_spec
        from ..ros import FrameDetector

        params = detector_spec(self.method).parse_params(self.method, self.param)
        return FrameDetector(
            cad,
            method=self.method,
            params=params,  # type: ignore[arg-type]
            reference=reference_params(self.render_param),
        )


def print_record(record: dict[str, object]) -> None:
    """A frame's JSON line on stdout, flushed (a pipe reads it as it comes)."""
    print(json.dumps(record), flush=True)


def finish(skipped: Sequence[object], summary: str, listed_in: str | None = None) -> int:
    """Print the skipped frames and the summary line; exit status 1 if any was skipped."""
    print_skipped(skipped, listed_in=listed_in)
    print(summary, file=sys.stderr)
    return 1 if skipped else 0
