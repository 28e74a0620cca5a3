"""The 50 base camera poses around the station and their per-image perturbation.

Paper Section III-A: 50 poses along possible Canadarm3 trajectories near the
station's mounting fixtures, 1–40 for training and 41–50 for test, each
perturbed per image by Gaussian noise of σ = 1 m in position and 0.2 rad in
roll, pitch and yaw.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import trimesh

from ._meshes import Array, RngLike, as_rng, combine
from ._types import Camera, Part

TRAIN_POSES = range(1, 41)
"""1-based ids of the training poses (normal images only)."""
TEST_POSES = range(41, 51)
"""1-based ids of the test poses (normal and anomalous images)."""
POSE_SEED = 2030
"""Seed of the fixed pose layout (the paper's poses were defined by hand)."""

_CUBE_DIRECTIONS = np.array(
    [
        (x, y, z)
        for x in (-1, 0, 1)
        for y in (-1, 0, 1)
        for z in (-1, 0, 1)
        if (x, y, z) != (0, 0, 0)
    ],
    dtype=float,
)
_CUBE_DIRECTIONS /= np.linalg.norm(_CUBE_DIRECTIONS, axis=1, keepdims=True)


def look_at(
    position: Sequence[float],
    target: Sequence[float],
    up: Sequence[float] = (0.0, 0.0, 1.0),
    *,
    width: int = 1920,
    height: int = 1080,
    fov_x_deg: float = 60.0,
) -> Camera:
    """Camera at ``position`` looking at ``target``, image "up" towards ``up``.

    Examples
    --------
    >>> cam = look_at((0.0, -10.0, 0.0), (0.0, 0.0, 0.0))
    >>> cam.rotation[:, 2].tolist()  # forward
    [0.0, 1.0, 0.0]
    >>> cam.project(np.array([[0.0, 0.0, 1.0]]))[0, 1] < cam.height / 2  # above: upper half
    np.True_
    """
    pos, forward = np.asarray(position, dtype=float), np.asarray(target, dtype=float)
    forward = forward - pos
    forward /= np.linalg.norm(forward)
    up_v = np.asarray(up, dtype=float)
    if abs(float(forward @ up_v)) > 0.99 * np.linalg.norm(up_v):
        up_v = np.array([0.0, 1.0, 0.0]) if abs(forward[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    down = -(up_v - (up_v @ forward) * forward)
    down /= np.linalg.norm(down)
    rotation = np.column_stack([np.cross(down, forward), down, forward])
    return Camera(pos, rotation, width=width, height=height, fov_x_deg=fov_x_deg)


def with_resolution(camera: Camera, width: int, height: int) -> Camera:
    """The same camera with another image size (same horizontal field of view)."""
    if width <= 0 or height <= 0:
        raise ValueError(f"width and height must be positive, got {width} x {height}")
    return dataclasses.replace(camera, width=int(width), height=int(height))


def _axis_rotation(axis: int, angle: float) -> Array:
    c, s = np.cos(angle), np.sin(angle)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    out = np.eye(3)
    out[i, i], out[i, j], out[j, i], out[j, j] = c, -s, s, c
    return out


def perturb(
    camera: Camera, rng: RngLike = None, sigma_position: float = 1.0, sigma_rotation: float = 0.2
) -> Camera:
    r"""Add Gaussian pose noise, as the paper does for every rendered image.

    The position gets isotropic noise of ``sigma_position`` metres; the
    orientation is composed with yaw (about the camera's y axis), pitch (x) and
    roll (z, the viewing axis), each drawn with ``sigma_rotation`` radians:
    :math:`R' = R\,R_y(\psi)\,R_x(\theta)\,R_z(\phi)`.

    Examples
    --------
    >>> cam = look_at((0.0, -10.0, 0.0), (0.0, 0.0, 0.0))
    >>> moved = perturb(cam, rng=0)
    >>> bool(np.allclose(moved.rotation.T @ moved.rotation, np.eye(3)))
    True
    """
    gen = as_rng(rng)
    yaw, pitch, roll = gen.normal(0.0, sigma_rotation, 3)
    noise = _axis_rotation(1, yaw) @ _axis_rotation(0, pitch) @ _axis_rotation(2, roll)
    position = camera.position + gen.normal(0.0, sigma_position, 3)
    return dataclasses.replace(camera, position=position, rotation=camera.rotation @ noise)


def station_mesh(station: Sequence[Part]) -> trimesh.Trimesh:
    """All station parts as one mesh (for ray casting)."""
    if not station:
        raise ValueError("station must hold at least one part")
    return combine([p.mesh for p in station])


def _first_hits(mesh: trimesh.Trimesh, origins: Array, directions: Array) -> Array:
    """Distance to the first hit along each ray (``inf`` where it misses)."""
    origins = np.broadcast_to(origins, directions.shape)
    loc, index, _ = mesh.ray.intersects_location(origins, directions, multiple_hits=False)
    dist = np.full(len(directions), np.inf)
    dist[index] = np.linalg.norm(loc - origins[index], axis=1)
    return dist


def station_coverage(
    camera: Camera, mesh: trimesh.Trimesh, *, grid: tuple[int, int] = (32, 18)
) -> float:
    """Fraction of a coarse grid of pixel rays that hit ``mesh``."""
    coarse = dataclasses.replace(camera, width=grid[0], height=grid[1])
    return float(np.isfinite(_first_hits(mesh, camera.position, coarse.ray_directions())).mean())


def _acceptable(cam: Camera, target: Array, mesh: trimesh.Trimesh, clearance: float) -> bool:
    """Camera clear of the station, outside it, with the target in sight and a useful view."""
    around = _first_hits(mesh, cam.position, _CUBE_DIRECTIONS)
    if around.min() < clearance or np.isfinite(around).all():
        return False
    distance = float(np.linalg.norm(target - cam.position))
    if _first_hits(mesh, cam.position, cam.rotation[:, 2][None])[0] < distance - 0.1:
        return False
    return 0.1 <= station_coverage(cam, mesh) <= 0.95


def base_poses(
    station: Sequence[Part] | None = None,
    *,
    count: int = 50,
    distance: tuple[float, float] = (5.0, 30.0),
    clearance: float = 2.0,
    width: int = 1920,
    height: int = 1080,
    fov_x_deg: float = 60.0,
    max_tries: int = 20_000,
) -> tuple[Camera, ...]:
    """Deterministic base poses looking at the station, as from an arm-mounted camera.

    Each pose looks at a point of a station part (parts drawn uniformly, the
    point area-weighted), from ``distance`` metres (uniform) off the surface
    along a direction near its outward normal. A pose is kept when the camera
    is at least ``clearance`` metres from every surface (26 probe rays), not
    enclosed, sees its target and the station covers 10–95 % of the view.

    Parameters
    ----------
    station : sequence of Part, optional
        Defaults to :func:`build_station` ``()``.
    count : int
        Number of poses; pose id ``k`` (1-based) is ``poses[k - 1]``.

    Raises
    ------
    ValueError
        If fewer than ``count`` acceptable poses are found in ``max_tries``.
    """
    if station is None:
        from ._station import build_station

        station = build_station()
    mesh = station_mesh(station)
    meshes = [p.mesh for p in station if p.mesh.area > 0]
    gen = np.random.default_rng(POSE_SEED)
    poses: list[Camera] = []
    for _ in range(max_tries):
        part = meshes[int(gen.integers(len(meshes)))]
        face = int(gen.choice(len(part.faces), p=part.area_faces / part.area))
        target = gen.dirichlet(np.ones(3)) @ part.triangles[face]
        away = part.face_normals[face] + 0.7 * gen.normal(size=3)
        position = target + gen.uniform(*distance) * away / np.linalg.norm(away)
        cam = look_at(position, target, width=width, height=height, fov_x_deg=fov_x_deg)
        if any(np.linalg.norm(c.position - position) < 1.0 for c in poses):
            continue
        if _acceptable(cam, target, mesh, clearance):
            poses.append(cam)
            if len(poses) == count:
                return tuple(poses)
    raise ValueError(f"found only {len(poses)} of {count} acceptable poses in {max_tries} tries")
