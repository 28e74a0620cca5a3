"""Cameras: intrinsics and distortion against OpenCV, poses against SciPy, bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from spacead.scene import Camera, Intrinsics, camera_from_matrix, camera_from_quaternion

DISTORTED = Intrinsics(640, 480, 500.0, 520.0, 330.5, 236.0, -0.21, 0.05, 0.001, -0.0015, 0.01)


def _points(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(-4, 4, n), rng.uniform(-3, 3, n), rng.uniform(5, 30, n)])


def test_projection_equals_cv2_project_points_with_distortion():
    rot = Rotation.from_euler("xyz", [10, -20, 35], degrees=True).as_matrix()
    cam = DISTORTED.camera((1.0, -2.0, 0.5), rot)
    world = _points() @ rot.T + cam.position  # in front of the camera
    ours = cam.project(world)
    rvec, _ = cv2.Rodrigues(rot.T)
    tvec = -rot.T @ cam.position
    k = np.array([[500.0, 0, 330.0], [0, 520.0, 235.5], [0, 0, 1]])  # OpenCV: centres on integers
    ref, _ = cv2.projectPoints(world, rvec, tvec, k, np.array(DISTORTED.distortion))
    np.testing.assert_allclose(ours[:, :2] - 0.5, ref.reshape(-1, 2), atol=1e-6)
    np.testing.assert_allclose(ours[:, 2], (world - cam.position) @ rot[:, 2], rtol=1e-12)


def test_pinhole_projection_is_the_formula():
    cam = Intrinsics(100, 80, 90.0, 110.0, 48.0, 41.0).camera(np.zeros(3), np.eye(3))
    np.testing.assert_allclose(cam.project([[1.0, -0.5, 2.0]]), [[93.0, 13.5, 2.0]])


def test_pixel_rays_reproject_onto_their_pixel_centres():
    cam = DISTORTED.camera(np.zeros(3), np.eye(3))
    rays = cam.ray_directions().reshape(480, 640, 3)
    sample = rays[::37, ::53].reshape(-1, 3) * 7.0
    uv = cam.project(sample)[:, :2]
    rows, cols = np.mgrid[0:480:37, 0:640:53]
    np.testing.assert_allclose(uv[:, 0], cols.ravel() + 0.5, atol=1e-4)
    np.testing.assert_allclose(uv[:, 1], rows.ravel() + 0.5, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(rays, axis=2), 1.0, atol=1e-12)


def test_fov_camera_matches_its_intrinsics():
    cam = Camera(np.zeros(3), np.eye(3), 1920, 1080, fov_x_deg=60.0)
    k = cam.intrinsics
    assert (k.cx, k.cy, k.fx == k.fy) == (960.0, 540.0, True)
    assert k == Intrinsics.from_fov(1920, 1080, 60.0)
    assert round(k.scaled(480, 270).fx, 6) == round(k.fx / 4, 6)


def test_from_opencv_moves_the_principal_point_half_a_pixel():
    k = Intrinsics.from_opencv(
        [[500, 0, 319.5], [0, 500, 239.5], [0, 0, 1]], [0.1, 0, 0, 0], 640, 480
    )
    assert (k.cx, k.cy, k.k1, k.k3) == (320.0, 240.0, 0.1, 0.0)
    np.testing.assert_allclose(
        k.camera(np.zeros(3), np.eye(3)).opencv_matrix[:2, 2], (319.5, 239.5)
    )


@pytest.mark.parametrize("convention", ["opengl", "opencv"])
def test_pose_matrix_round_trip_and_axes(convention):
    rot = Rotation.from_euler("zyx", [40, 10, -25], degrees=True).as_matrix()
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = rot, (3.0, -1.0, 2.0)
    cam = camera_from_matrix(m, DISTORTED, convention=convention)
    np.testing.assert_allclose(cam.pose_matrix(convention), m, atol=1e-12)
    forward = -rot[:, 2] if convention == "opengl" else rot[:, 2]
    np.testing.assert_allclose(cam.rotation[:, 2], forward, atol=1e-12)
    # the other convention describes the same camera
    other = "opencv" if convention == "opengl" else "opengl"
    np.testing.assert_allclose(
        camera_from_matrix(cam.pose_matrix(other), DISTORTED, convention=other).rotation,
        cam.rotation,
        atol=1e-12,
    )


def test_quaternion_pose_equals_scipy_rotation():
    rot = Rotation.from_euler("xyz", [5, 70, -30], degrees=True)
    k = Intrinsics.from_fov(64, 48, 60.0)
    cam = camera_from_quaternion((1, 2, 3), rot.as_quat(), k)
    np.testing.assert_allclose(cam.rotation, rot.as_matrix(), atol=1e-12)
    wxyz = rot.as_quat(scalar_first=True) * 3.0  # not normalised: normalised for the user
    same = camera_from_quaternion((1, 2, 3), wxyz, k, scalar_first=True)
    np.testing.assert_allclose(same.rotation, cam.rotation, atol=1e-12)
    gl = camera_from_quaternion((1, 2, 3), rot.as_quat(), k, convention="opengl")
    np.testing.assert_allclose(gl.rotation, rot.as_matrix() @ np.diag([1, -1, -1]), atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"fx": 0.0}, ValueError, r"fx and fy must be > 0, got fx=0.0"),
        ({"fy": float("nan")}, ValueError, r"fy must be finite, got nan"),
        ({"width": 0}, ValueError, r"width must be an integer >= 1, got 0"),
        ({"k1": "a"}, TypeError, r"k1 must be a number, got 'a'"),
    ],
)
def test_bad_intrinsics_name_the_field(kwargs, error, match):
    fields = {"width": 64, "height": 48, "fx": 50.0, "fy": 50.0, "cx": 32.0, "cy": 24.0, **kwargs}
    with pytest.raises(error, match=match):
        Intrinsics(**fields)


@pytest.mark.parametrize(
    ("matrix", "match"),
    [
        (np.diag([1.0, 1.0, 2.0, 1.0]), r"pose rotation must be a proper rotation \(orthonormal"),
        (np.diag([1.0, 1.0, -1.0, 1.0]), r"proper rotation .*det = -1"),
        (np.full((4, 4), np.nan), r"pose matrix must be a finite \(4, 4\) or \(3, 4\) array"),
        (np.eye(3), r"pose matrix must be a finite \(4, 4\) or \(3, 4\) array, got \(3, 3\)"),
        (np.vstack([np.eye(4)[:3], [0, 0, 1, 1]]), r"last row must be \(0, 0, 0, 1\)"),
    ],
)
def test_bad_pose_matrices_are_refused(matrix, match):
    with pytest.raises(ValueError, match=match):
        camera_from_matrix(matrix, DISTORTED)


def test_bad_quaternions_and_conventions_are_refused():
    k = Intrinsics.from_fov(64, 48, 60.0)
    with pytest.raises(ValueError, match=r"quaternion must be 4 finite numbers, not all zero"):
        camera_from_quaternion((0, 0, 0), (0, 0, 0, 0), k)
    with pytest.raises(ValueError, match=r"position must be a finite vector of shape \(3,\)"):
        camera_from_quaternion((0, 0), (0, 0, 0, 1), k)
    with pytest.raises(ValueError, match=r"convention must be one of opengl, opencv, got 'ros'"):
        camera_from_matrix(np.eye(4), k, convention="ros")  # type: ignore[arg-type]
