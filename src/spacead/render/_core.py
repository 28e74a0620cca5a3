"""The tracing core shared by spacead's renderers: a model loaded once, rays, hits, lights.

:class:`Tracer` holds a station model as flat tables (:mod:`~spacead.render._surface`)
and an Embree scene, both built once, and answers the questions every pass of
a render (:mod:`~spacead.render._passes`) asks: the pixel rays of a camera,
the first hit of any rays (meshes and celestial spheres), the surface a hit
sees (textures, normal maps, the procedural facet layer of spacead's
simulator), and how much Sun and spotlight reach a point (shadow rays).
:class:`Frame` holds one render's camera and lights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from spacead._recent import Recent
from spacead.scene import Camera, StationModel

from ._bodies import intersect_spheres, intersect_spheres_from, sphere_shadow
from ._checks import unit_direction
from ._embree import EmbreeMeshes, RayHits
from ._lights import DIRECT, LightPaths, Sphere, Spotlight, spot_cone
from ._noise import apply_facets
from ._procedural import FACET_ROTATION, body_albedo
from ._surface import (
    FACETS,
    S_BASE,
    S_MS,
    S_NORMAL,
    SURFACE_COLUMNS,
    ModelTables,
    fetch_surfaces,
)

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
Index = npt.NDArray[np.intp]

_GRID_CACHE = 4  # camera models whose pixel rays are kept


@dataclass(frozen=True)
class CameraRays:
    """A camera model's pixel rays in its own frame: ``(x, y, 1)`` per pixel, and unit rays."""

    xy: F32  # (H, W, 2) undistorted normalised image coordinates of pixel centres
    unit: F32  # (H·W, 3) unit directions

    @classmethod
    def of(cls, camera: Camera) -> CameraRays:
        xs, ys = camera.normalized_coordinates()
        if xs.ndim == 1:
            xs, ys = np.meshgrid(xs, ys)
        xy = np.stack([xs, ys], axis=2).astype(np.float32)
        d = np.concatenate([xy.reshape(-1, 2), np.ones((xs.size, 1), np.float32)], axis=1)
        return cls(xy, (d / np.linalg.norm(d, axis=1, keepdims=True)).astype(np.float32))


@dataclass(frozen=True)
class Frame:
    """Per-render constants shared by the tiles."""

    origin: F64
    rotation: F32
    width: int
    height: int
    rays: CameraRays
    sun: F64
    sun_strength: float
    spotlight: Spotlight | None
    bodies: tuple[Sphere, ...]
    centers: F64
    radii: F64
    shadows: bool
    bias: float
    paths: LightPaths

    @property
    def pixel_angle(self) -> float:
        """The angle (radians) one pixel spans at the image centre."""
        h, w = self.height, self.width
        if w < 2:
            return 1.0
        row = self.rays.xy[h // 2, w // 2 - 1 : w // 2 + 1, 0]
        return float(abs(row[1] - row[0])) or 1.0

    @property
    def axis(self) -> F32:
        """The optical axis in world coordinates."""
        out: F32 = self.rotation[:, 2]
        return out


class Tracer:
    """A model's tables and Embree scene, and the passes of a render (see the module notes).

    Parameters
    ----------
    model : StationModel
    facets : dict of str to float, optional
        Procedural facet amplitude per material name (spacead's simulator).
    facet_cell : float
        Side (metres) of one facet.
    """

    def __init__(
        self, model: StationModel, facets: dict[str, float] | None = None, facet_cell: float = 0.08
    ) -> None:
        self.model = model
        self.meshes = EmbreeMeshes([p.mesh for p in model.parts])
        self.tables = ModelTables.build(model, facets)
        self.facet_cell = facet_cell
        self.names = tuple(m.name for m in model.materials)
        self.has_facets = bool(np.any(self.tables.materials[:, FACETS] > 0))
        self._rays: Recent[CameraRays] = Recent(_GRID_CACHE)  # by camera model; thread-safe

    def frame(
        self,
        camera: Camera,
        sun_direction: npt.ArrayLike,
        sun_strength: float,
        spotlight: Spotlight | None,
        bodies: Sequence[Sphere],
        *,
        shadows: bool,
        bias: float,
        paths: LightPaths,
    ) -> Frame:
        """The checked per-render constants of a view of this model."""
        sun = unit_direction(sun_direction)
        if not (math.isfinite(sun_strength) and sun_strength >= 0):
            raise ValueError(f"sun_strength must be a finite number >= 0, got {sun_strength!r}")
        if spotlight is not None and not isinstance(spotlight, Spotlight):
            raise TypeError(
                f"spotlight must be a Spotlight or None, got {type(spotlight).__name__}"
            )
        for b in bodies:
            if not isinstance(b, Sphere):
                raise TypeError(f"bodies must hold Sphere objects, got {type(b).__name__}")
        return Frame(
            origin=np.asarray(camera.position, np.float64),
            rotation=np.asarray(camera.rotation, np.float32),
            width=camera.width,
            height=camera.height,
            rays=self.camera_rays(camera),
            sun=sun,
            sun_strength=float(sun_strength),
            spotlight=spotlight,
            bodies=tuple(bodies),
            centers=np.array([b.center for b in bodies], np.float64).reshape(-1, 3),
            radii=np.array([b.radius for b in bodies], np.float64),
            shadows=shadows,
            bias=bias,
            paths=paths,
        )

    def camera_rays(self, camera: Camera) -> CameraRays:
        """The pixel rays of a camera model (undistorting a grid costs more than a render)."""
        at_origin = camera.with_pose(np.zeros(3), np.eye(3))
        return self._rays.get(camera.intrinsics, lambda: CameraRays.of(at_origin))

    def world_rays(self, frame: Frame, pixels: Index) -> tuple[F32, F32]:
        """Cosine to the optical axis (M,) and unit world direction (M, 3) of pixel centres."""
        cam = frame.rays.unit[pixels]
        return cam[:, 2].copy(), cam @ frame.rotation.T

    def first(
        self, frame: Frame, origins: F64 | None, dirs: F32
    ) -> tuple[RayHits, F64, I32, npt.NDArray[np.bool_]]:
        """Mesh hits, sphere distance and index, and which rays hit a sphere first."""
        if origins is None:
            hits = self.meshes.intersect(frame.origin, dirs)
            t_body, body = intersect_spheres(frame.origin, dirs, frame.centers, frame.radii)
        else:
            hits = self.meshes.intersect_from(origins, dirs)
            t_body, body = intersect_spheres_from(origins, dirs, frame.centers, frame.radii)
        return hits, t_body, body, t_body < hits.distance

    def surfaces(
        self,
        hits: RayHits,
        rows: Index,
        dirs: F32,
        points: F64,
        spread: float,
        subsamples: int = 1,
        *,
        multiscatter: bool = True,
    ) -> tuple[F32, F32]:
        """Surface rows (M, :data:`SURFACE_COLUMNS`) of mesh hits ``rows`` seen along ``dirs``.

        ``spread`` is the angle (radians) a ray stands for (a pixel's, or a
        bounce lobe's): with the distance and the incidence it sets how much
        of each texture a hit averages (its mip level). Also returns
        ``subsamples`` normals and roughnesses per hit (M, S, 4) spread over
        that footprint (see :func:`fetch_surfaces`). ``multiscatter``: whether
        the BRDF adds the light scattered between microfacets
        (:attr:`LightPaths.multiscatter`).
        """
        t = self.tables
        face = (t.face_offset[hits.mesh[rows]] + hits.primitive[rows]).astype(np.int32)
        bary = np.stack([hits.u[rows], hits.v[rows]], axis=1)
        geo = hits.normal[rows]
        cos = np.abs(np.einsum("ij,ij->i", geo, dirs)) / np.maximum(
            np.linalg.norm(geo, axis=1), 1e-20
        )
        footprint = hits.distance[rows] * np.float32(spread) / np.sqrt(np.maximum(cos, 0.05))
        surf = np.empty((len(rows), SURFACE_COLUMNS), np.float32)
        sub = np.empty((len(rows), subsamples, 4), np.float32)
        fetch_surfaces(
            face,
            bary,
            geo,
            np.negative(dirs),
            footprint.astype(np.float32),
            t.faces,
            t.vertex_normals,
            t.smooth,
            t.uvs,
            t.tangents,
            t.vertex_tangents,
            t.uv_density,
            t.face_material,
            t.materials,
            t.tex_data,
            t.tex_meta,
            t.tex_levels,
            surf,
            sub,
        )
        surf[:, S_MS] = 1.0 if multiscatter else 0.0
        if self.has_facets:
            amplitude = np.ascontiguousarray(t.materials[t.face_material[face], FACETS])
            gain = np.ones((len(rows), 3), np.float32)
            normal = np.ascontiguousarray(surf[:, S_NORMAL : S_NORMAL + 3])
            apply_facets(points, normal, gain, amplitude, FACET_ROTATION, self.facet_cell, 0)
            surf[:, S_NORMAL : S_NORMAL + 3] = normal
            surf[:, S_BASE : S_BASE + 3] *= gain
            sub[:, :, :3] = normal[:, None, :]  # the layer replaces the normal
        return surf, sub

    def material_of(self, hits: RayHits, rows: Index) -> I32:
        """Material index of mesh hits ``rows``."""
        t = self.tables
        face = t.face_offset[hits.mesh[rows]] + hits.primitive[rows]
        out: I32 = t.face_material[face]
        return out

    def sun_light(self, frame: Frame, points: F64, geo: F32, sun: F64 | None = None) -> F32:
        """Sun visibility times strength at surface points; ``sun`` (N, 3): per-point directions."""
        direction = frame.sun if sun is None else sun
        facing = (
            (geo @ frame.sun.astype(np.float32) > 0)
            if sun is None
            else (np.einsum("ij,ij->i", geo, sun.astype(np.float32)) > 0)
        )
        visible = facing.astype(np.float32)
        if frame.sun_strength == 0:
            return visible * 0.0
        if frame.shadows:
            lit = np.flatnonzero(facing)
            if lit.size:
                start = points[lit] + frame.bias * geo[lit].astype(np.float64)
                if sun is None:
                    blocked = self.meshes.occluded(start, frame.sun)
                    if len(frame.radii):
                        blocked |= sphere_shadow(start, frame.sun, frame.centers, frame.radii)
                else:
                    d = direction[lit].astype(np.float32)
                    blocked = self.meshes.occluded_along(start, d)
                visible[lit[blocked]] = 0.0
        visible *= np.float32(frame.sun_strength)
        return visible

    def spot_light(self, frame: Frame, cos_axis: F32, dist: F32) -> F32:
        """The spotlight's cone factor over r² (zero without a spotlight)."""
        s = frame.spotlight
        if s is None or s.power_w == 0:
            return np.zeros(len(dist), np.float32)
        cone = spot_cone(cos_axis, s.spot_angle_deg, s.blend)
        out: F32 = (cone * np.float32(s.intensity) / np.maximum(dist * dist, 1e-12)).astype(
            np.float32
        )
        return out

    def shade_bodies(
        self, frame: Frame, body: I32, points: F64, dirs: F32, cos_axis: F32, dist: F32
    ) -> F32:
        """Direct components (M, 4, 3) of camera hits on the Lambertian spheres."""
        normal, color = self._body_surface(frame, body, points)
        ndl = np.maximum(normal @ frame.sun.astype(np.float32), 0.0)
        if frame.shadows and len(frame.radii) > 1:
            self._eclipse(frame, body, points, normal, ndl)
        ndv = np.maximum(-np.einsum("ij,ij->i", normal, dirs), 0.0)
        out = np.zeros((len(body), DIRECT, 3), np.float32)
        out[:, 0] = color * (ndl * np.float32(frame.sun_strength))[:, None]
        out[:, 1] = color * (ndv * self.spot_light(frame, cos_axis, dist))[:, None]
        out[:, 2] = color
        return out

    def body_radiance(self, frame: Frame, body: I32, points: F64) -> F32:
        """Radiance (M, 3) the spheres send towards any viewer (Lambertian, Sun only)."""
        normal, color = self._body_surface(frame, body, points)
        ndl = np.maximum(normal @ frame.sun.astype(np.float32), 0.0)
        if frame.shadows and len(frame.radii) > 1:
            self._eclipse(frame, body, points, normal, ndl)
        out: F32 = color * (ndl * np.float32(frame.sun_strength))[:, None]
        return out

    def _body_surface(self, frame: Frame, body: I32, points: F64) -> tuple[F32, F32]:
        """Unit normals and colours (procedural where a sphere has a texture) of sphere hits."""
        unit = (points - frame.centers[body]) / frame.radii[body, None]
        color = np.empty((len(body), 3), np.float32)
        for b, sphere in enumerate(frame.bodies):
            own = body == b
            if own.any():
                color[own] = body_albedo(unit[own], sphere.color, sphere.texture, sphere.clouds)
        return unit.astype(np.float32), color

    def _eclipse(self, frame: Frame, body: I32, points: F64, normal: F32, ndl: F32) -> None:
        """Zero ``ndl`` where another sphere hides the Sun from a sphere's point."""
        for b in range(len(frame.radii)):
            own = np.flatnonzero(body == b)
            others = np.arange(len(frame.radii)) != b
            if own.size and others.any():
                start = points[own] + 1e-6 * frame.radii[b] * normal[own]
                shade = sphere_shadow(start, frame.sun, frame.centers[others], frame.radii[others])
                ndl[own[shade]] = 0.0
