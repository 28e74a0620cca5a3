"""Placing a hazard in the camera's view: in the frustum, clear of the station, visible.

Paper Section III-B: the object is inserted into the view frustum near the
station and moved again if it is occluded or covers less than 0.1 % of the
image; it is then rendered at five depths (initial, ±1 m, ±2 m).

All tests are exact geometry on the meshes with Embree ray casting (no
collision library is needed):

- frustum: every hazard vertex lies in front of the near plane and projects
  inside the image;
- intersection: a hazard edge crossing a station triangle, a station edge
  crossing a hazard triangle, a station vertex inside the hazard, or the
  hazard enclosed by the station (rays along ±x, ±y, ±z from its centre all
  hit the station);
- size and occlusion: rays through a grid of pixels over the hazard's
  projected bounding box (at most ``max_rays``, strided) count the pixels
  whose first hit is the hazard; the covered fraction of the image is that
  count times the stride squared over W·H.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import trimesh

from spacead._recent import Recent

from ._meshes import Array, RngLike, as_rng
from ._poses import _first_hits, station_mesh
from ._types import Camera, Part

DEPTH_OFFSETS = (0.0, -1.0, 1.0, -2.0, 2.0)
"""The paper's five depths: initial, ±1 m, ±2 m along the viewing ray (+ = farther)."""
NEAR = 0.5
"""Near plane in metres: hazards must lie at least this far in front of the camera."""
_AXES = np.vstack([np.eye(3), -np.eye(3)])


@dataclass(frozen=True)
class HazardView:
    """How a hazard appears from a camera.

    Attributes
    ----------
    in_frustum : bool
        Every vertex in front of the near plane and inside the image.
    intersects_station : bool
    pixel_fraction : float
        Estimated fraction of the image where the hazard is the first hit.
    unoccluded : float
        Fraction of the hazard's pixels not hidden by the station.
    """

    in_frustum: bool
    intersects_station: bool
    pixel_fraction: float
    unoccluded: float

    def acceptable(self, min_fraction: float, min_unoccluded: float) -> bool:
        """All placement rules hold."""
        placed = self.in_frustum and not self.intersects_station
        return placed and self.pixel_fraction >= min_fraction and self.unoccluded >= min_unoccluded


def _in_frustum(mesh: trimesh.Trimesh, camera: Camera) -> bool:
    uvz = camera.project(np.asarray(mesh.vertices))
    u, v, z = uvz.T
    return bool(
        np.all(z > NEAR)
        and np.all((u >= 0) & (u <= camera.width) & (v >= 0) & (v <= camera.height))
    )


def _crosses(edges: Array, target: trimesh.Trimesh) -> bool:
    """Whether any segment (shape (N, 2, 3)) crosses a triangle of ``target``."""
    if len(edges) == 0:
        return False
    vec = edges[:, 1] - edges[:, 0]
    length = np.linalg.norm(vec, axis=1)
    keep = length > 0
    hit = _first_hits(target, edges[keep, 0], vec[keep] / length[keep, None])
    return bool(np.any(hit <= length[keep]))


@dataclass(frozen=True)
class _Station:
    """The station as one mesh, with its edges and their bounding boxes, for repeated tests."""

    mesh: trimesh.Trimesh
    edges: Array
    edge_lo: Array
    edge_hi: Array

    @classmethod
    def of(cls, station: Sequence[Part]) -> _Station:
        """The station's placement tables, reused while its parts stay the same.

        A generated dataset places every hazard against the same station: joining
        its meshes, finding their edges and building Embree's scene for the ray
        tests took ~35 ms a placement. Parts match by content (trimesh's mesh
        hash, kept current when a mesh changes).
        """
        return _STATIONS.get(tuple(hash(p.mesh) for p in station), lambda: cls._made(station))

    @classmethod
    def _made(cls, station: Sequence[Part]) -> _Station:
        mesh = station_mesh(station)
        edges = np.asarray(mesh.vertices)[mesh.edges_unique]
        return cls(mesh, edges, edges.min(axis=1), edges.max(axis=1))


_STATIONS: Recent[_Station] = Recent(2)


def _intersects(hazard: trimesh.Trimesh, station: _Station) -> bool:
    lo, hi = hazard.bounds
    if np.any(hi < station.mesh.bounds[0]) or np.any(lo > station.mesh.bounds[1]):
        return False
    if _crosses(np.asarray(hazard.vertices)[hazard.edges_unique], station.mesh):
        return True
    near = np.all((station.edge_hi >= lo) & (station.edge_lo <= hi), axis=1)
    if _crosses(station.edges[near], hazard):
        return True
    inside = np.unique(station.edges[near].reshape(-1, 3), axis=0)
    inside = inside[np.all((inside >= lo) & (inside <= hi), axis=1)]
    if len(inside) and np.any(hazard.contains(inside)):
        return True
    return bool(np.isfinite(_first_hits(station.mesh, 0.5 * (lo + hi), _AXES)).all())


def _coverage(
    hazard: trimesh.Trimesh, camera: Camera, station: trimesh.Trimesh, max_rays: int
) -> tuple[float, float]:
    """(fraction of the image where the hazard is first hit, unoccluded fraction of its pixels)."""
    uv = camera.project(np.asarray(hazard.vertices))[:, :2]
    lo = np.clip(np.floor(uv.min(axis=0)), 0, [camera.width, camera.height]).astype(int)
    hi = np.clip(np.ceil(uv.max(axis=0)), 0, [camera.width, camera.height]).astype(int)
    box_area = int(np.prod(hi - lo))
    if box_area == 0:
        return 0.0, 0.0
    stride = max(1, int(np.ceil(np.sqrt(box_area / max_rays))))
    cols, rows = np.meshgrid(
        np.arange(lo[0], hi[0], stride) + 0.5, np.arange(lo[1], hi[1], stride) + 0.5
    )
    f = camera.focal_px
    x, y = (cols.ravel() - camera.width / 2) / f, (rows.ravel() - camera.height / 2) / f
    d = np.stack([x, y, np.ones(cols.size)], axis=1)
    d = (d / np.linalg.norm(d, axis=1, keepdims=True)) @ camera.rotation.T
    on_hazard = _first_hits(hazard, camera.position, d)
    hit = np.isfinite(on_hazard)
    if not hit.any():
        return 0.0, 0.0
    visible = _first_hits(station, camera.position, d[hit]) > on_hazard[hit]
    fraction = visible.sum() * stride**2 / (camera.width * camera.height)
    return float(fraction), float(visible.mean())


def _view(hazard: trimesh.Trimesh, camera: Camera, station: _Station, max_rays: int) -> HazardView:
    if not _in_frustum(hazard, camera):
        return HazardView(False, False, 0.0, 0.0)
    if _intersects(hazard, station):
        return HazardView(True, True, 0.0, 0.0)
    return HazardView(True, False, *_coverage(hazard, camera, station.mesh, max_rays))


def hazard_view(
    hazard: Part, camera: Camera, station: Sequence[Part], *, max_rays: int = 40_000
) -> HazardView:
    """Check a placed hazard against the placement rules (see the module notes)."""
    return _view(hazard.mesh, camera, _Station.of(station), max_rays)


def _random_rotation(rng: np.random.Generator) -> Array:
    """Uniformly distributed rotation matrix (from a normalised Gaussian quaternion)."""
    q = rng.normal(size=4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def _moved(hazard: Part, offset: Array) -> Part:
    return dataclasses.replace(hazard, mesh=hazard.mesh.copy().apply_translation(offset))


def _view_ray(mesh: trimesh.Trimesh, camera: Camera) -> Array:
    """Unit vector from the camera to the centre of the hazard's bounding box."""
    ray = mesh.bounds.mean(axis=0) - camera.position
    out: Array = ray / np.linalg.norm(ray)
    return out


def place_hazard(
    hazard: Part,
    camera: Camera,
    station: Sequence[Part],
    *,
    rng: RngLike = None,
    min_fraction: float = 0.001,
    min_unoccluded: float = 0.9,
    depth_offsets: Sequence[float] = (0.0,),
    max_depth: float = 40.0,
    max_tries: int = 100,
    max_rays: int = 40_000,
) -> Part | None:
    """Place ``hazard`` at a random pose in the camera's view, clear of the station.

    A try draws a pixel in the central 80 % of the image, a uniformly random
    orientation and a depth along that pixel's ray between the near limit (the
    whole object in the frame) and the nearest of: the station surface on that
    ray, ``max_depth`` and the depth where the object would shrink below
    ``min_fraction`` (from its mean projected area, surface area / 4). The try
    is kept when :class:`HazardView` accepts it at every offset of
    ``depth_offsets`` along the viewing ray (pass :data:`DEPTH_OFFSETS` to
    guarantee all five depths of :func:`depth_variants`).

    Parameters
    ----------
    hazard : Part
        Centred at its origin, e.g. from :func:`make_hazard`.
    camera : Camera
    station : sequence of Part
    rng : int, numpy.random.Generator or None
    min_fraction : float
        Minimum fraction of the image the visible hazard must cover (paper: 0.1 %).
    min_unoccluded : float
        Minimum fraction of the hazard's pixels not hidden by the station.

    Returns
    -------
    Part or None
        The moved hazard (same name, material and label), or ``None`` when no
        try in ``max_tries`` satisfies the rules.
    """
    if not 0 < min_fraction < 1 or not 0 <= min_unoccluded <= 1:
        raise ValueError(
            f"min_fraction must be in (0, 1) and min_unoccluded in [0, 1], "
            f"got {min_fraction} and {min_unoccluded}"
        )
    gen = as_rng(rng)
    target = _Station.of(station)
    w, h, f = camera.width, camera.height, camera.focal_px
    lo_off, hi_off = min(0.0, *depth_offsets), max(0.0, *depth_offsets)
    for _ in range(max_tries):
        mesh = hazard.mesh.copy()
        mesh.vertices = np.asarray(mesh.vertices) @ _random_rotation(gen).T
        radius = 0.5 * float(np.linalg.norm(mesh.extents))
        px = gen.uniform([0.1 * w, 0.1 * h], [0.9 * w, 0.9 * h])
        ray = camera.rotation @ np.array([(px[0] - w / 2) / f, (px[1] - h / 2) / f, 1.0])
        ray /= np.linalg.norm(ray)
        border = min(px[0], w - px[0], px[1], h - px[1])
        station_depth = _first_hits(target.mesh, camera.position, ray[None])[0]
        size_depth = f * np.sqrt(mesh.area / 4 / (min_fraction * w * h))
        near = max(NEAR + radius, f * radius / border) - lo_off
        far = min(station_depth - radius, size_depth, max_depth) - hi_off
        if far <= near:
            continue
        position = camera.position + gen.uniform(near, far) * ray
        mesh.apply_translation(position - mesh.bounds.mean(axis=0))
        moved = (mesh.copy().apply_translation(off * ray) for off in depth_offsets)
        views = (_view(m, camera, target, max_rays) for m in moved)
        if all(v.acceptable(min_fraction, min_unoccluded) for v in views):
            return dataclasses.replace(hazard, mesh=mesh)
    return None


def depth_variants(
    hazard: Part,
    camera: Camera,
    station: Sequence[Part],
    *,
    offsets: Sequence[float] = DEPTH_OFFSETS,
    min_fraction: float = 0.001,
    min_unoccluded: float = 0.9,
    max_rays: int = 40_000,
) -> tuple[Part | None, ...]:
    """The placed hazard moved along its viewing ray by each offset (+ = away from the camera).

    The ray runs from the camera through the centre of the hazard's bounding
    box. Each variant is re-checked with :class:`HazardView`; a variant that
    breaks a rule is ``None`` (place with ``depth_offsets=offsets`` to avoid that).
    """
    target = _Station.of(station)
    ray = _view_ray(hazard.mesh, camera)
    out: list[Part | None] = []
    for off in offsets:
        moved = _moved(hazard, off * ray)
        ok = _view(moved.mesh, camera, target, max_rays).acceptable(min_fraction, min_unoccluded)
        out.append(moved if ok else None)
    return tuple(out)
