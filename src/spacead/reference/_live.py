"""MRAD on a live camera feed: the CAD model and the camera loaded once, frames streamed.

:class:`LiveDetector` holds a :class:`ReferencePipeline` for one model and one
camera model (its pixel rays are computed once); each :meth:`LiveDetector.detect`
renders the reference at the frame's reported pose, refines and matches it,
and runs the detector, reporting every step's time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy.typing as npt

from spacead._validate import ChannelOrder, ImageFormat, as_rgb
from spacead.data import FrameSpec
from spacead.detect import (
    Detection,
    MRADParams,
    PADParams,
    detector_spec,
    detector_specs,
    make_detector,
)
from spacead.render import DEFAULT_SPOTLIGHT, Sphere, Spotlight
from spacead.render._checks import unit_direction
from spacead.scene import (
    Camera,
    CameraInfoMessage,
    Intrinsics,
    StationModel,
    camera_from_matrix,
    camera_from_quaternion,
    intrinsics_from_camera_info,
)

from ._pipeline import ReferenceParams, ReferencePipeline, ReferenceResult


def reference_methods() -> tuple[str, ...]:
    """The registered detectors that compare a frame with its reference, untrained."""
    return tuple(s.name for s in detector_specs() if s.needs_reference and not s.learned)


@dataclass(frozen=True)
class LiveResult:
    """One frame's detection with its reference.

    Attributes
    ----------
    detection : Detection
        The detector's output (score map, mask, image score).
    reference : ReferenceResult
        The reference it compared the frame with, the fit and the pose correction.
    seconds : dict of str to float
        ``reference`` (render, refine and match), ``detect`` and ``total``.
    """

    detection: Detection
    reference: ReferenceResult
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The detection's summary, the reference's record and the timings."""
        return {
            **self.detection.summary(),
            **self.reference.summary(),
            "ms": {k: round(1e3 * v, 2) for k, v in self.seconds.items()},
        }


class LiveDetector:
    """Detects hazards in a stream of frames of one camera against one CAD model.

    Parameters
    ----------
    cad : StationModel or path-like
        The station model (loaded once).
    intrinsics : Intrinsics
        The camera (size, focal lengths, principal point, distortion).
    params : MRADParams or PADParams, optional
        The detector's parameters (MRAD's defaults if omitted).
    reference : ReferenceParams, optional
        How references are made.
    method : {"mrad", "pad"}
        The detector.
    threads : int, optional
        Render threads (default: spacead's thread setting, every usable core
        under ``"auto"``).
    value_range, bit_depth, channel_order
        How to read the frames' numbers (:class:`spacead.detect.ImageFormat`),
        e.g. ``channel_order="bgr"`` for frames from ``cv2.VideoCapture`` or
        ``bit_depth=12`` for a 12-bit camera; the rendered references are RGB.

    Examples
    --------
    >>> import numpy as np, trimesh
    >>> from spacead.scene import Intrinsics, ModelPart, PBRMaterial, StationModel
    >>> box = trimesh.creation.box(extents=(4.0, 4.0, 4.0))
    >>> model = StationModel((ModelPart("box", box, PBRMaterial("paint", (0.6, 0.6, 0.6))),))
    >>> live = LiveDetector(model, Intrinsics.from_fov(160, 120, 60.0))
    >>> pose = np.eye(4)
    >>> pose[:3, 3] = (0.0, 0.0, 10.0)  # OpenGL camera at z = 10 looking down -z
    >>> frame = np.zeros((120, 160, 3), np.uint8)
    >>> out = live.detect(frame, pose, sun_direction=(0.0, 0.6, 0.8))
    >>> out.detection.score_map.shape, sorted(out.seconds)
    ((120, 160), ['detect', 'reference', 'total'])
    """

    def __init__(
        self,
        cad: StationModel | str | os.PathLike[str],
        intrinsics: Intrinsics,
        *,
        params: MRADParams | PADParams | None = None,
        reference: ReferenceParams | None = None,
        method: str = "mrad",
        threads: int | None = None,
        value_range: tuple[float, float] | None = None,
        bit_depth: int | None = None,
        channel_order: ChannelOrder = "rgb",
    ) -> None:
        methods = reference_methods()
        if method not in methods:
            raise ValueError(f"method must be one of {', '.join(methods)}, got {method!r}")
        if not isinstance(intrinsics, Intrinsics):
            raise TypeError(f"intrinsics must be an Intrinsics, got {type(intrinsics).__name__}")
        self.params = detector_spec(method).check_params(method, params)
        self.method = method
        self._detector = make_detector(method, self.params)
        self.frame_format = ImageFormat(value_range, bit_depth, channel_order)
        self.intrinsics = intrinsics
        self.pipeline = ReferencePipeline(cad, reference, threads=threads)

    @classmethod
    def from_camera_info(
        cls,
        cad: StationModel | str | os.PathLike[str],
        camera_info: CameraInfoMessage,
        **kwargs: Any,
    ) -> LiveDetector:
        """A detector for the camera a ``sensor_msgs/CameraInfo`` describes.

        ROI and binning are applied and ``K``'s integer pixel centres mapped to
        spacead's (:func:`spacead.scene.intrinsics_from_camera_info`); ``kwargs``
        are the constructor's. Inside a ROS 2 node, pass the first CameraInfo
        message; frames then go to :meth:`detect` with the pose from TF
        (``convention="opencv"`` for an optical frame).
        """
        return cls(cad, intrinsics_from_camera_info(camera_info), **kwargs)

    def camera(
        self, pose: npt.ArrayLike | tuple[npt.ArrayLike, npt.ArrayLike], convention: str = "opengl"
    ) -> Camera:
        """The camera at ``pose``: 4 × 4 camera-to-world, or (position, quaternion x y z w)."""
        if isinstance(pose, tuple):
            position, quaternion = pose
            return camera_from_quaternion(
                position,
                quaternion,
                self.intrinsics,
                convention=convention,  # type: ignore[arg-type]
            )
        return camera_from_matrix(pose, self.intrinsics, convention=convention)  # type: ignore[arg-type]

    def detect(
        self,
        frame: npt.ArrayLike,
        pose: npt.ArrayLike | tuple[npt.ArrayLike, npt.ArrayLike],
        sun_direction: Sequence[float],
        *,
        sun_strength: float = 1.0,
        bodies: Sequence[Sphere] = (),
        spotlight: Spotlight | None = DEFAULT_SPOTLIGHT,
        convention: str = "opengl",
    ) -> LiveResult:
        """Detect hazards in one frame taken at a reported pose.

        Parameters
        ----------
        frame : array_like, shape (H, W[, C])
            The camera image, read as the detector's ``value_range``,
            ``bit_depth`` and ``channel_order`` say.
        pose : array_like (4, 4), or tuple (position, quaternion)
            The reported camera-to-world pose (``convention`` axes; quaternions
            are (x, y, z, w)), in the model's world frame.
        sun_direction : sequence of 3 floats
            Unit vector towards the Sun, world frame.
        sun_strength, bodies, spotlight
            As in ``transforms.json``.
        convention : {"opengl", "opencv"}
            Camera axes of ``pose``.
        """
        unit = unit_direction(sun_direction)
        spec = FrameSpec(
            "live",
            self.camera(pose, convention),
            (float(unit[0]), float(unit[1]), float(unit[2])),
            float(sun_strength),
            tuple(bodies),
            spotlight,
        )
        return self.detect_frame(frame, spec)

    def detect_frame(self, frame: npt.ArrayLike, spec: FrameSpec) -> LiveResult:
        """Detect hazards in one frame described by its ``transforms.json`` fields.

        ``spec`` holds the reported pose, the intrinsics and the lights, as
        :func:`spacead.data.read_frame` reads a frame's JSON file or
        :func:`spacead.data.read_transforms` a dataset's: the result is
        ``spacead detect FRAME --camera FRAME.json --cad MODEL``'s.

        Raises
        ------
        ValueError
            If the frame's size is not the size of ``spec``'s intrinsics.
        """
        start = time.perf_counter()
        image = as_rgb(frame, "frame", self.frame_format)
        ref = self.pipeline.reference(image, spec)
        t1 = time.perf_counter()
        det = self._detector(image, ref.image)
        t2 = time.perf_counter()
        return LiveResult(
            det, ref, {"reference": t1 - start, "detect": t2 - t1, "total": t2 - start}
        )
