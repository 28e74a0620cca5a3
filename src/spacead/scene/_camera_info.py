"""``sensor_msgs/CameraInfo`` to :class:`spacead.scene.Intrinsics` (REP 104).

A CameraInfo's ``K`` and ``D`` describe the full-resolution sensor in OpenCV's pixel
convention (pixel centres on integers); the image it comes with may be a region of
interest (``roi``, in full-resolution pixels) that was then binned
(``binning_x``, ``binning_y``). In spacead's continuous convention (pixel centres at
``+ 0.5``) a full-resolution coordinate ``u`` is ``(u - x_offset) / binning_x`` in
the published image, so::

    fx' = fx / bx            cx' = (cx + 0.5 - x_offset) / bx

and the same for ``y``; distortion acts on normalised coordinates and is unchanged.
(``image_geometry`` divides the integer-centred ``cx`` instead, a quarter pixel off at
2 × binning.) The tests compare the mapping with ``cv2.projectPoints`` on the
full-resolution calibration.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ._camera import Intrinsics

# ROS distortion models -> how many coefficients spacead reads (OpenCV's order)
MODELS = {"plumb_bob": 5, "rational_polynomial": 8}


class CameraInfoError(ValueError):
    """A CameraInfo that spacead cannot use (model, calibration, binning, region)."""


class _RegionOfInterest(Protocol):
    x_offset: int
    y_offset: int
    height: int
    width: int


class CameraInfoMessage(Protocol):
    """The fields of ``sensor_msgs/CameraInfo`` that spacead reads."""

    height: int
    width: int
    distortion_model: str
    d: Sequence[float]
    k: Sequence[float]
    p: Sequence[float]
    binning_x: int
    binning_y: int
    roi: _RegionOfInterest


def intrinsics_from_camera_info(
    info: CameraInfoMessage, topic: str = "CameraInfo", *, rectified: bool = False
) -> Intrinsics:
    """The intrinsics of the images a CameraInfo describes (ROI and binning applied).

    Parameters
    ----------
    info : sensor_msgs/CameraInfo
        As ``rosbags`` (or ``rclpy``) gives it.
    topic : str
        Named in errors.
    rectified : bool
        The images are rectified (``image_proc``'s ``image_rect``): per REP 104 they
        follow the projection matrix ``P`` without distortion, whatever ``K`` and
        ``D`` say of the raw images (a fisheye's included).

    Raises
    ------
    CameraInfoError
        For an uncalibrated camera (``K`` all zero), a distortion model other than
        ``plumb_bob`` and ``rational_polynomial`` (``equidistant`` fisheye lenses
        included), a ROI outside the sensor, or intrinsics spacead refuses.
    """
    k = np.asarray(info.k, np.float64).reshape(-1)
    if k.size != 9 or not np.isfinite(k).all():
        raise CameraInfoError(f"{topic}: K must be 9 finite numbers, got {k.tolist()}")
    if not k.any():
        raise CameraInfoError(f"{topic}: the camera is uncalibrated (K is all zero)")
    coefficients = [0.0] * 8 if rectified else _distortion(info, topic)
    if rectified:
        p = np.asarray(info.p, np.float64).reshape(-1)
        if p.size != 12 or not np.isfinite(p).all() or not p.any():
            raise CameraInfoError(
                f"{topic}: rectified images need the projection matrix P, got {p.tolist()}"
            )
        k = p[[0, 1, 2, 4, 5, 6, 8, 9, 10]]  # P's left 3 x 3 is the rectified camera's K
    bx, by = (int(b) if int(b) > 0 else 1 for b in (info.binning_x, info.binning_y))
    roi = info.roi
    x0, y0 = int(roi.x_offset), int(roi.y_offset)
    full_w, full_h = int(info.width), int(info.height)
    w = int(roi.width) if roi.width else full_w - x0
    h = int(roi.height) if roi.height else full_h - y0
    if x0 < 0 or y0 < 0 or w < 1 or h < 1 or x0 + w > full_w or y0 + h > full_h:
        raise CameraInfoError(
            f"{topic}: roi (x_offset {x0}, y_offset {y0}, {roi.width} x {roi.height}) lies "
            f"outside the {full_w} x {full_h} sensor"
        )
    try:
        return Intrinsics(
            w // bx,
            h // by,
            k[0] / bx,
            k[4] / by,
            (k[2] + 0.5 - x0) / bx,
            (k[5] + 0.5 - y0) / by,
            *coefficients,
        )
    except (TypeError, ValueError) as exc:
        raise CameraInfoError(f"{topic}: {exc}") from None


def _distortion(info: CameraInfoMessage, topic: str) -> list[float]:
    """The coefficients of a supported model, padded to OpenCV's 8."""
    model = info.distortion_model
    d = [float(v) for v in info.d]
    if not all(np.isfinite(d)):
        raise CameraInfoError(f"{topic}: D must be finite, got {d}")
    if model == "" and not any(d):  # drivers of rectified or ideal cameras leave it empty
        return [0.0] * 8
    if model == "equidistant":
        raise CameraInfoError(
            f"{topic}: distortion_model 'equidistant' (a fisheye lens) is not supported; "
            "record rectified images (image_rect) with their CameraInfo, or use plumb_bob "
            "or rational_polynomial"
        )
    if model not in MODELS:
        raise CameraInfoError(
            f"{topic}: unknown distortion_model {model!r} (spacead reads {', '.join(MODELS)})"
        )
    n = MODELS[model]
    if len(d) > n and any(d[n:]):
        raise CameraInfoError(
            f"{topic}: {model} takes {n} coefficients, got {len(d)} with non-zero ones "
            f"past the first {n}"
        )
    if len(d) < 4:
        raise CameraInfoError(f"{topic}: {model} needs at least 4 coefficients, got {len(d)}")
    d = (d + [0.0] * 8)[:8]
    return d
