from __future__ import annotations

import numpy as np
import pytest
import trimesh
from scipy.spatial.transform import Rotation

from spacead.scene import (
    TEST_POSES,
    TRAIN_POSES,
    Camera,
    Part,
    base_poses,
    look_at,
    perturb,
    station_coverage,
    station_mesh,
    with_resolution,
)


def test_fifty_distinct_poses(poses: tuple[Camera, ...]) -> None:
    assert len(poses) == 50
    positions = np.array([c.position for c in poses])
    gaps = np.linalg.norm(positions[:, None] - positions[None], axis=-1) + np.eye(50) * 1e9
    assert gaps.min() >= 1.0
    for cam in poses:
        assert (cam.width, cam.height) == (1920, 1080)
        np.testing.assert_allclose(cam.rotation.T @ cam.rotation, np.eye(3), atol=1e-12)
        assert np.linalg.det(cam.rotation) == pytest.approx(1.0)


def test_train_and_test_ids() -> None:
    assert set(TRAIN_POSES).isdisjoint(TEST_POSES)
    assert sorted([*TRAIN_POSES, *TEST_POSES]) == list(range(1, 51))
    assert len(TRAIN_POSES) == 40 and len(TEST_POSES) == 10


def test_every_pose_sees_the_station(station: tuple[Part, ...], poses: tuple[Camera, ...]) -> None:
    mesh = station_mesh(station)
    centre = np.array([c.rotation[:, 2] for c in poses])
    origins = np.array([c.position for c in poses])
    assert mesh.ray.intersects_any(origins, centre).all()
    for cam in poses:
        assert 0.1 <= station_coverage(cam, mesh) <= 0.95
        hits, _, _ = mesh.ray.intersects_location(
            cam.position[None], cam.rotation[:, 2][None], multiple_hits=False
        )
        assert (
            4.0 <= np.linalg.norm(hits[0] - cam.position) <= 31.0
        )  # 5-30 m from the target surface


def test_poses_are_deterministic(station: tuple[Part, ...], poses: tuple[Camera, ...]) -> None:
    again = base_poses(station, count=5)
    for a, b in zip(again, poses[:5], strict=True):
        np.testing.assert_array_equal(a.position, b.position)
        np.testing.assert_array_equal(a.rotation, b.rotation)


def test_custom_resolution(station: tuple[Part, ...], poses: tuple[Camera, ...]) -> None:
    small = base_poses(station, count=2, width=640, height=360)
    assert (small[0].width, small[0].height) == (640, 360)
    np.testing.assert_array_equal(small[0].position, poses[0].position)
    resized = with_resolution(poses[3], 960, 540)
    assert (resized.width, resized.height, resized.fov_x_deg) == (960, 540, poses[3].fov_x_deg)
    with pytest.raises(ValueError, match="width and height must be positive"):
        with_resolution(poses[3], 0, 540)


def test_look_at_convention() -> None:
    cam = look_at((3.0, -10.0, 1.0), (3.0, 0.0, 1.0))
    uvz = cam.project(np.array([[3.0, 0.0, 1.0], [3.0, 0.0, 2.0], [4.0, 0.0, 1.0]]))
    np.testing.assert_allclose(uvz[0], [960.0, 540.0, 10.0])
    assert uvz[1, 1] < 540.0  # up in the world is up in the image (row decreases)
    assert uvz[2, 0] > 960.0  # +x is to the right when looking along +y with z up
    down = look_at((0.0, 0.0, 10.0), (0.0, 0.0, 0.0))  # straight down: fallback up vector
    np.testing.assert_allclose(down.rotation[:, 2], [0.0, 0.0, -1.0])


def test_perturbation_statistics(poses: tuple[Camera, ...]) -> None:
    base = poses[0]
    rng = np.random.default_rng(0)
    draws = [perturb(base, rng) for _ in range(4000)]
    offsets = np.array([d.position - base.position for d in draws])
    np.testing.assert_allclose(offsets.std(axis=0), 1.0, atol=0.05)
    np.testing.assert_allclose(offsets.mean(axis=0), 0.0, atol=0.06)
    relative = np.array([base.rotation.T @ d.rotation for d in draws])
    angles = Rotation.from_matrix(relative).as_euler("YXZ")  # yaw (y), pitch (x), roll (z)
    np.testing.assert_allclose(angles.std(axis=0), 0.2, atol=0.01)
    np.testing.assert_allclose(angles.mean(axis=0), 0.0, atol=0.015)
    for d in draws[:10]:
        np.testing.assert_allclose(d.rotation.T @ d.rotation, np.eye(3), atol=1e-12)


def test_perturb_is_seeded_and_scalable(poses: tuple[Camera, ...]) -> None:
    a, b = perturb(poses[1], rng=3), perturb(poses[1], rng=3)
    np.testing.assert_array_equal(a.position, b.position)
    np.testing.assert_array_equal(a.rotation, b.rotation)
    still = perturb(poses[1], rng=3, sigma_position=0.0, sigma_rotation=0.0)
    np.testing.assert_array_equal(still.position, poses[1].position)
    np.testing.assert_allclose(still.rotation, poses[1].rotation)


def test_impossible_pose_request() -> None:
    tiny = (Part("pebble", trimesh.creation.box(extents=(0.1, 0.1, 0.1)), "grey_metal"),)
    with pytest.raises(ValueError, match="acceptable poses"):
        base_poses(tiny, count=2, max_tries=50)
