"""Closed mesh primitives shared by the station and hazard builders.

Every builder returns a watertight :class:`trimesh.Trimesh` (each edge shared
by exactly two faces) in metres; compound objects are concatenations of closed
primitives, which keeps them watertight without boolean operations.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import trimesh

Array = npt.NDArray[np.float64]
Point = Sequence[float] | Array
RngLike = int | np.random.Generator | None


def as_rng(rng: RngLike) -> np.random.Generator:
    """Return ``rng`` as a :class:`numpy.random.Generator` (``numpy.random.default_rng``)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is not None and not isinstance(rng, int | np.integer):
        raise TypeError(f"rng must be an int, a numpy Generator or None, got {type(rng).__name__}")
    return np.random.default_rng(rng)


def rotation(axis: Point, angle: float) -> Array:
    """3×3 rotation by ``angle`` radians about ``axis`` (Rodrigues' formula)."""
    k = np.asarray(axis, dtype=float)
    k = k / np.linalg.norm(k)
    cross = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    out: Array = np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * cross @ cross
    return out


def align(direction: Point) -> Array:
    """3×3 rotation taking +z onto the unit vector along ``direction``."""
    d = np.asarray(direction, dtype=float)
    d = d / np.linalg.norm(d)
    axis = np.cross([0.0, 0.0, 1.0], d)
    if np.linalg.norm(axis) < 1e-12:
        return np.eye(3) if d[2] > 0 else rotation([1.0, 0.0, 0.0], np.pi)
    return rotation(axis, float(np.arccos(np.clip(d[2], -1.0, 1.0))))


def rigid(matrix: Array, pivot: Point = (0.0, 0.0, 0.0)) -> Array:
    """4×4 homogeneous transform rotating by ``matrix`` about the point ``pivot``."""
    p = np.asarray(pivot, dtype=float)
    out = np.eye(4)
    out[:3, :3] = matrix
    out[:3, 3] = p - matrix @ p
    return out


def box(size: Point, center: Point = (0.0, 0.0, 0.0)) -> trimesh.Trimesh:
    """Axis-aligned box of extents ``size`` centred at ``center``."""
    mesh: trimesh.Trimesh = trimesh.creation.box(extents=np.asarray(size, dtype=float))
    mesh.apply_translation(np.asarray(center, dtype=float))
    return mesh


def cylinder(
    radius: float, length: float, axis: Point, center: Point, sections: int = 24
) -> trimesh.Trimesh:
    """Closed cylinder of ``length`` along ``axis``, centred at ``center``."""
    mesh: trimesh.Trimesh = trimesh.creation.cylinder(radius, length, sections=sections)
    mesh.apply_transform(rigid(align(axis)))
    mesh.apply_translation(np.asarray(center, dtype=float))
    return mesh


def segment_box(start: Point, end: Point, width: float) -> trimesh.Trimesh:
    """Square-section beam of side ``width`` from ``start`` to ``end``."""
    a, b = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    mesh: trimesh.Trimesh = trimesh.creation.box(
        extents=(width, width, float(np.linalg.norm(b - a)))
    )
    mesh.apply_transform(rigid(align(b - a)))
    mesh.apply_translation(0.5 * (a + b))
    return mesh


def revolved(
    profile: Sequence[tuple[float, float]], sections: int, axis: Point, base: Point
) -> trimesh.Trimesh:
    """Closed body of revolution.

    Parameters
    ----------
    profile : sequence of (radius, height)
        Profile from the axis back to the axis (first and last radius 0).
    sections : int
        Number of angular sections.
    axis : sequence of 3 floats
        Direction of the revolution axis in the world.
    base : sequence of 3 floats
        World point where the profile's height 0 lies.
    """
    mesh: trimesh.Trimesh = trimesh.creation.revolve(
        np.asarray(profile, dtype=float), sections=sections
    )
    mesh.apply_transform(rigid(align(axis)))
    mesh.apply_translation(np.asarray(base, dtype=float))
    return mesh


def ellipsoid(radii: Point, subdivisions: int = 3) -> trimesh.Trimesh:
    """Ellipsoid with semi-axes ``radii`` centred at the origin (a scaled icosphere)."""
    mesh: trimesh.Trimesh = trimesh.creation.icosphere(subdivisions=subdivisions)
    mesh.vertices = np.asarray(mesh.vertices) * np.asarray(radii, dtype=float)
    return mesh


def rounded_box(size: Point, exponent: float = 0.3, subdivisions: int = 3) -> trimesh.Trimesh:
    """Box with rounded edges (a sphere pushed towards its bounding cube)."""
    mesh: trimesh.Trimesh = trimesh.creation.icosphere(subdivisions=subdivisions)
    v = np.asarray(mesh.vertices)
    mesh.vertices = np.sign(v) * np.abs(v) ** exponent * 0.5 * np.asarray(size, dtype=float)
    return mesh


def tube(points: Array, radius: float, sections: int = 10) -> trimesh.Trimesh:
    """Closed tube of circular section swept along a polyline (parallel-transport frames).

    Parameters
    ----------
    points : ndarray, shape (N, 3)
        Centre line, N >= 2, consecutive points distinct.
    radius : float
        Tube radius in metres.
    sections : int
        Vertices per ring.
    """
    tangents = np.gradient(points, axis=0)
    tangents /= np.linalg.norm(tangents, axis=1, keepdims=True)
    normal = np.cross(tangents[0], [0.0, 0.0, 1.0] if abs(tangents[0, 2]) < 0.9 else [1.0, 0, 0])
    normal /= np.linalg.norm(normal)
    angles = 2 * np.pi * np.arange(sections) / sections
    rings = []
    for t in tangents:
        normal -= np.dot(normal, t) * t
        normal /= np.linalg.norm(normal)
        binormal = np.cross(t, normal)
        rings.append(np.outer(np.cos(angles), normal) + np.outer(np.sin(angles), binormal))
    ring = np.asarray(rings) * radius + points[:, None, :]
    n = len(points)
    vertices = np.vstack([ring.reshape(-1, 3), points[0], points[-1]])
    i, j = np.meshgrid(np.arange(n - 1), np.arange(sections), indexing="ij")
    a, b = i * sections + j, i * sections + (j + 1) % sections
    c, d = a + sections, b + sections
    side = np.concatenate([np.stack([a, b, d], -1), np.stack([a, d, c], -1)]).reshape(-1, 3)
    k, last = np.arange(sections), (n - 1) * sections
    start = np.stack([np.full(sections, n * sections), (k + 1) % sections, k], -1)
    end = np.stack([np.full(sections, n * sections + 1), last + k, last + (k + 1) % sections], -1)
    return _closed(vertices, np.vstack([side, start, end]))


def slab(heights: Array, size: Point, thickness: float) -> trimesh.Trimesh:
    """Closed sheet of ``thickness`` over a height field (a crumpled blanket).

    Parameters
    ----------
    heights : ndarray, shape (R, C)
        Height of the sheet's mid-surface at each grid node, in metres.
    size : sequence of 2 floats
        Extent of the grid along x (C nodes) and y (R nodes).
    thickness : float
        Distance between the top and bottom surfaces.
    """
    rows, cols = heights.shape
    gx, gy = np.meshgrid(
        np.linspace(-0.5, 0.5, cols) * size[0], np.linspace(-0.5, 0.5, rows) * size[1]
    )
    top = np.stack([gx, gy, heights + thickness / 2], -1).reshape(-1, 3)
    bottom = top - [0.0, 0.0, thickness]
    i, j = np.meshgrid(np.arange(rows - 1), np.arange(cols - 1), indexing="ij")
    a = (i * cols + j).ravel()
    quads = np.stack([a, a + 1, a + cols + 1, a + cols], -1)
    upper = np.vstack([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])
    lower = upper[:, ::-1] + rows * cols
    border = np.concatenate(
        [
            np.arange(cols - 1),
            np.arange(rows - 1) * cols + cols - 1,
            (rows - 1) * cols + np.arange(cols - 1, 0, -1),
            np.arange(rows - 1, 0, -1) * cols,
        ]
    )
    nxt, shift = np.roll(border, -1), rows * cols
    walls = np.vstack(
        [
            np.stack([border, nxt + shift, nxt], -1),
            np.stack([border, border + shift, nxt + shift], -1),
        ]
    )
    return _closed(np.vstack([top, bottom]), np.vstack([upper, lower, walls]))


def prism(polygon: Array, thickness: float) -> trimesh.Trimesh:
    """Closed prism over a star-shaped (about its centroid) 2-D polygon, counter-clockwise."""
    n = len(polygon)
    centre = polygon.mean(axis=0)
    ring = np.vstack([centre, polygon])
    top = np.column_stack([ring, np.full(n + 1, thickness / 2)])
    bottom = top - [0.0, 0.0, thickness]
    k = np.arange(n) + 1
    nxt = k % n + 1
    cap = np.stack([np.zeros(n, int), k, nxt], -1)
    sides = np.vstack(
        [np.stack([k, k + n + 1, nxt + n + 1], -1), np.stack([k, nxt + n + 1, nxt], -1)]
    )
    return _closed(np.vstack([top, bottom]), np.vstack([cap, cap[:, ::-1] + n + 1, sides]))


def combine(meshes: Sequence[trimesh.Trimesh]) -> trimesh.Trimesh:
    """Concatenate closed meshes into one (vertices are not merged, so it stays watertight)."""
    out = trimesh.util.concatenate(list(meshes))
    if not isinstance(out, trimesh.Trimesh):  # pragma: no cover - concatenate of Trimesh
        raise TypeError("expected a Trimesh")
    return out


def _closed(vertices: Array, faces: npt.NDArray[np.int64]) -> trimesh.Trimesh:
    """Trimesh with outward normals (flipped if the signed volume is negative)."""
    mesh = trimesh.Trimesh(vertices=vertices, faces=faces, process=False)
    if mesh.volume < 0:
        mesh.invert()
    return mesh
