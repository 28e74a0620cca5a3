"""CameraInfo -> Intrinsics (REP 104) against cv2.projectPoints on the full sensor."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from spacead.reference import LiveDetector
from spacead.scene import CameraInfoError, Intrinsics, intrinsics_from_camera_info

K = [1400.0, 0.0, 955.3, 0.0, 1390.0, 548.7, 0.0, 0.0, 1.0]
PLUMB_BOB = [-0.21, 0.08, 0.0012, -0.0007, -0.015]
RATIONAL = [0.35, -0.12, 0.0009, 0.0004, 0.02, 0.61, -0.09, 0.03]


def _info(model="plumb_bob", d=PLUMB_BOB, k=K, binning=(0, 0), roi=(0, 0, 0, 0)):
    x0, y0, w, h = roi
    return SimpleNamespace(
        height=1080,
        width=1920,
        distortion_model=model,
        d=list(d),
        k=list(k),
        binning_x=binning[0],
        binning_y=binning[1],
        roi=SimpleNamespace(x_offset=x0, y_offset=y0, width=w, height=h),
    )


@pytest.mark.parametrize("model, d", [("plumb_bob", PLUMB_BOB), ("rational_polynomial", RATIONAL)])
@pytest.mark.parametrize(
    "binning, roi",
    [
        ((0, 0), (0, 0, 0, 0)),
        ((2, 2), (0, 0, 0, 0)),
        ((1, 1), (320, 100, 1280, 720)),
        ((2, 4), (320, 100, 1280, 720)),
    ],
)
def test_projection_matches_opencv_on_the_full_sensor(model, d, binning, roi):
    intr = intrinsics_from_camera_info(_info(model, d, binning=binning, roi=roi))
    rng = np.random.default_rng(3)
    points = np.column_stack([rng.uniform(-0.4, 0.4, (50, 2)), np.full(50, 1.0)]) * 5.0
    camera = intr.camera(np.zeros(3), np.eye(3))
    ours = camera.project(points)[:, :2]  # spacead's pixel centres at + 0.5
    full, _ = cv2.projectPoints(
        points, np.zeros(3), np.zeros(3), np.array(K).reshape(3, 3), np.array(d)
    )
    full = full.reshape(-1, 2)  # OpenCV: full-resolution pixel centres on integers
    bx, by = (max(b, 1) for b in binning)
    # the published pixel (integer centres) that sees a full-resolution point
    expected = np.column_stack(
        [(full[:, 0] + 0.5 - roi[0]) / bx - 0.5, (full[:, 1] + 0.5 - roi[1]) / by - 0.5]
    )
    assert ours - 0.5 == pytest.approx(expected, abs=1e-6)
    w = roi[2] or 1920
    h = roi[3] or 1080
    assert (intr.width, intr.height) == (w // bx, h // by)
    assert len(intr.distortion) == len(d)


def test_what_spacead_cannot_use_is_refused_in_one_line():
    with pytest.raises(CameraInfoError, match=r"^/cam/camera_info: the camera is uncalibrated"):
        intrinsics_from_camera_info(_info(k=[0.0] * 9), "/cam/camera_info")
    with pytest.raises(CameraInfoError, match=r"'equidistant' \(a fisheye lens\) is not supported"):
        intrinsics_from_camera_info(_info("equidistant", [0.1, 0.01, 0.0, 0.0]))
    with pytest.raises(CameraInfoError, match=r"unknown distortion_model 'kannala'"):
        intrinsics_from_camera_info(_info("kannala"))
    with pytest.raises(CameraInfoError, match=r"roi .* lies outside the 1920 x 1080 sensor"):
        intrinsics_from_camera_info(_info(roi=(1000, 0, 1280, 720)))
    with pytest.raises(CameraInfoError, match=r"plumb_bob takes 5 coefficients, got 8"):
        intrinsics_from_camera_info(_info("plumb_bob", RATIONAL))
    with pytest.raises(CameraInfoError, match=r"K must be 9 finite numbers"):
        intrinsics_from_camera_info(_info(k=[np.nan] * 9))
    assert intrinsics_from_camera_info(_info("", [])).distortion == (0.0,) * 5


def test_a_live_detector_takes_the_camera_info():
    import trimesh

    from spacead.scene import ModelPart, PBRMaterial, StationModel

    box = trimesh.creation.box(extents=(4.0, 4.0, 4.0))
    model = StationModel((ModelPart("box", box, PBRMaterial("paint", (0.6, 0.6, 0.6))),))
    live = LiveDetector.from_camera_info(model, _info(binning=(4, 4)))
    assert live.intrinsics == Intrinsics(480, 270, 350.0, 347.5, 955.8 / 4, 549.2 / 4, *PLUMB_BOB)


def test_rectified_images_follow_p_even_for_a_fisheye():
    """image_proc's image_rect: raw fisheye pixels undistorted by OpenCV land where P says."""
    fisheye = [0.08, -0.02, 0.004, -0.001]
    p = [1100.0, 0.0, 960.0, 0.0, 0.0, 1100.0, 540.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    info = _info("equidistant", fisheye)
    info.p = p
    intr = intrinsics_from_camera_info(info, "/cam/camera_info", rectified=True)
    assert intr.distortion == (0.0,) * 5
    rng = np.random.default_rng(5)
    points = np.column_stack([rng.uniform(-0.5, 0.5, (40, 2)), np.ones(40)]) * 4.0
    ours = intr.camera(np.zeros(3), np.eye(3)).project(points)[:, :2] - 0.5
    k = np.array(K).reshape(3, 3)
    raw, _ = cv2.fisheye.projectPoints(points[None], np.zeros(3), np.zeros(3), k, np.array(fisheye))
    rect = cv2.fisheye.undistortPoints(
        raw, k, np.array(fisheye), R=np.eye(3), P=np.array(p).reshape(3, 4)
    ).reshape(-1, 2)
    assert ours == pytest.approx(rect, abs=1e-3)
    info.p = [0.0] * 12
    with pytest.raises(
        CameraInfoError, match=r"^/c: rectified images need the projection matrix P"
    ):
        intrinsics_from_camera_info(info, "/c", rectified=True)
