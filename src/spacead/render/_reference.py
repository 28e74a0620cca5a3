"""The reference renderer: a user's CAD model loaded once, rendered at many poses.

:class:`ReferenceRenderer` loads a :class:`~spacead.scene.StationModel` (or a
model file), builds its Embree scene and material tables once, and renders any
camera (full intrinsics and OpenCV distortion) with any Sun direction, camera
spotlight and celestial spheres. It returns each light's linear radiance
separately (:class:`LightComponents`), with the exact mask and the depth, so
that :mod:`spacead.reference` can fit their scales and the exposure to a
real frame before applying a tone curve.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from spacead._validate import check_positive
from spacead.scene import FOREGROUND, Camera, Intrinsics, StationModel, load_model

from .._threads import map_tiles, tile_threads
from ._bodies import intersect_spheres, sphere_shadow
from ._checks import check_camera, unit_direction
from ._embree import EmbreeMeshes
from ._pbr import (
    BASE,
    EMISSIVE,
    F0,
    HAS_F0,
    MATERIAL_COLUMNS,
    METALLIC,
    ROUGHNESS,
    TEX_BASE,
    TEX_EMISSIVE,
    TEX_MR,
    shade_hits,
)
from ._shading import spot_cone

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]

COMPONENTS = ("sun", "spot", "ambient", "emission")
"""The light components of a render, in the order of :attr:`LightComponents.radiance`."""
SPOT_POWER_PER_INTENSITY = float(4 * np.pi**2)
"""Blender spot power (W) per unit of spacead spotlight intensity (see ``_cycles_scene``)."""

_TILE = 32768  # rays per tile (whole rows); the output does not depend on it
_GRID_CACHE = 4  # pixel-ray grids kept (one per camera model in use)


@dataclass(frozen=True)
class Spotlight:
    r"""A spotlight at the camera centre, along the optical axis.

    Attributes
    ----------
    power_w : float
        Blender's spot power in watts (≥ 0); the radiance it gives a white
        Lambertian surface at distance :math:`r` on the axis is
        :math:`P / (4 \pi^2 r^2)`, as in Cycles.
    spot_angle_deg : float
        Full opening angle of the cone, in (0, 180) degrees.
    blend : float
        Fraction in [0, 1] of the cone's half-angle over which it fades out.
    """

    power_w: float = 400.0
    spot_angle_deg: float = 80.0
    blend: float = 0.15

    def __post_init__(self) -> None:
        check_positive(self.power_w, "spotlight power_w", allow_zero=True)
        if not 0 < self.spot_angle_deg < 180:
            raise ValueError(
                f"spotlight spot_angle_deg must be in (0, 180), got {self.spot_angle_deg!r}"
            )
        if not 0 <= self.blend <= 1:
            raise ValueError(f"spotlight blend must be in [0, 1], got {self.blend!r}")

    @property
    def intensity(self) -> float:
        """Radiance scale of a white surface at 1 m on the axis (spacead's units)."""
        return self.power_w / SPOT_POWER_PER_INTENSITY


DEFAULT_SPOTLIGHT = Spotlight()
"""400 W, 80° cone: the spotlight a frame gets when it names none."""


@dataclass(frozen=True)
class Sphere:
    """A celestial body as a Lambertian sphere (Moon, Earth; world metres, linear colour)."""

    name: str
    center: tuple[float, float, float]
    radius: float
    color: tuple[float, float, float] = (0.12, 0.12, 0.12)

    def __post_init__(self) -> None:
        c = np.asarray(self.center, np.float64)
        if c.shape != (3,) or not np.all(np.isfinite(c)):
            raise ValueError(
                f"body {self.name!r} center must be 3 finite numbers, got {self.center!r}"
            )
        if not (np.isfinite(self.radius) and self.radius > 0):
            raise ValueError(f"body {self.name!r} radius must be > 0, got {self.radius!r}")
        col = np.asarray(self.color, np.float64)
        if col.shape != (3,) or not np.all((col >= 0) & (col <= 1)):
            raise ValueError(
                f"body {self.name!r} color must be 3 values in [0, 1], got {self.color!r}"
            )


@dataclass(frozen=True)
class LightComponents:
    """A render split by light, before exposure and tone curve.

    Attributes
    ----------
    radiance : ndarray of float32, shape (H, W, 4, 3)
        Linear RGB radiance of each of :data:`COMPONENTS` (sun, spot, ambient,
        emission) per pixel, at unit scale: a Sun of strength 1, the given spotlight, an
        environment of radiance 1, the file's emission.
    mask : ndarray of uint8, shape (H, W)
        Exact labels: 0 space, 1 station and bodies (or a part's label).
    depth : ndarray of float32, shape (H, W)
        Distance along the pixel's ray to the first hit (metres); ``inf`` for space.
    """

    radiance: F32
    mask: npt.NDArray[np.uint8]
    depth: F32

    def combine(self, scales: npt.ArrayLike) -> F32:
        """Weighted sum of the components: ``scales`` of shape (4,) or (4, 3) (per channel)."""
        s = np.asarray(scales, np.float32)
        if s.shape == (len(COMPONENTS),):
            s = np.repeat(s[:, None], 3, axis=1)
        if s.shape != (len(COMPONENTS), 3):
            raise ValueError(f"scales must have shape (4,) or (4, 3), got {s.shape}")
        out: F32 = np.einsum("hwkc,kc->hwc", self.radiance, s)
        return out


@dataclass(frozen=True)
class _Tables:
    """The model as flat arrays for the shading kernel (built once)."""

    faces: I32
    vertex_normals: F32
    smooth: npt.NDArray[np.bool_]
    uvs: F32
    face_material: I32
    face_offset: I32
    part_label: npt.NDArray[np.uint8]
    materials: F32
    tex_data: F32
    tex_meta: I32

    @classmethod
    def build(cls, model: StationModel) -> _Tables:
        mats = model.materials
        index = {id(m): k for k, m in enumerate(mats)}
        faces, normals, smooth, uvs, face_mat, offsets = [], [], [], [], [], []
        n_vertices = n_faces = 0
        for part in model.parts:
            m = part.mesh
            nv, nf = len(m.vertices), len(m.faces)
            faces.append(np.asarray(m.faces, np.int64) + n_vertices)
            normals.append(
                part.normals if part.normals is not None else np.zeros((nv, 3), np.float32)
            )
            smooth.append(np.full(nf, part.normals is not None))
            uvs.append(part.uv if part.uv is not None else np.zeros((nv, 2), np.float32))
            face_mat.append(np.full(nf, index[id(part.material)], np.int32))
            offsets.append(n_faces)
            n_vertices += nv
            n_faces += nf
        table = np.zeros((len(mats), MATERIAL_COLUMNS), np.float32)
        textures: list[F32] = []
        for k, mat in enumerate(mats):
            table[k, BASE : BASE + 3] = mat.base_color
            table[k, METALLIC], table[k, ROUGHNESS] = mat.metallic, mat.roughness
            table[k, EMISSIVE : EMISSIVE + 3] = mat.emissive
            if mat.specular is not None:
                table[k, F0 : F0 + 3], table[k, HAS_F0] = mat.specular, 1.0
            for column, tex in (
                (TEX_BASE, mat.base_color_texture),
                (TEX_MR, mat.metallic_roughness_texture),
                (TEX_EMISSIVE, mat.emissive_texture),
            ):
                table[k, column] = -1.0
                if tex is not None:
                    table[k, column] = len(textures)
                    textures.append(np.ascontiguousarray(tex, np.float32))
        meta = np.zeros((max(1, len(textures)), 4), np.int32)
        offset = 0
        for t, tex in enumerate(textures):
            meta[t] = (offset, tex.shape[0], tex.shape[1], tex.shape[2])
            offset += tex.size
        data = (
            np.concatenate([t.ravel() for t in textures]) if textures else np.zeros(1, np.float32)
        )
        return cls(
            faces=np.ascontiguousarray(np.concatenate(faces), np.int32),
            vertex_normals=np.ascontiguousarray(np.concatenate(normals), np.float32),
            smooth=np.concatenate(smooth),
            uvs=np.ascontiguousarray(np.concatenate(uvs), np.float32),
            face_material=np.concatenate(face_mat),
            face_offset=np.asarray(offsets, np.int32),
            part_label=np.array([p.label for p in model.parts], np.uint8),
            materials=table,
            tex_data=data.astype(np.float32),
            tex_meta=meta,
        )


@dataclass(frozen=True)
class _Frame:
    """Per-render constants shared by the tiles."""

    origin: F64
    rotation: F32
    rays: tuple[F32, F32]  # cosine to the optical axis (H·W,) and camera-frame unit rays (H·W, 3)
    sun: F64
    sun_strength: float
    spotlight: Spotlight | None
    centers: F64
    radii: F64
    colors: F32
    shadows: bool
    shadow_bias: float


@dataclass
class ReferenceRenderer:
    """Renders a CAD model at many poses; the model and its Embree scene are loaded once.

    Parameters
    ----------
    model : StationModel or path-like
        A loaded model, or a model file for :func:`spacead.scene.load_model`.
    shadows : bool
        Cast a shadow ray towards the Sun from every lit hit (hard shadows).
    shadow_bias : float
        Offset (metres, ≥ 0) of shadow-ray origins along the normal.
    threads : int or None
        Tile threads; ``None`` = all CPUs this process may use. Output does not
        depend on it.

    Notes
    -----
    One ray through each pixel centre (so the mask is exact); vertex normals
    from the file are interpolated (smooth shading), triangles without them are
    flat-shaded, as glTF prescribes. Materials are shaded with the glTF 2.0
    BRDF (:mod:`spacead.render._pbr`); textures are sampled bilinearly with
    wrapping. The Sun is a directional light with hard shadows from the model
    and eclipses by the spheres; the spotlight sits at the camera centre.

    Examples
    --------
    >>> import trimesh
    >>> from spacead.scene import Intrinsics, ModelPart, PBRMaterial, StationModel
    >>> box = trimesh.creation.box(extents=(2.0, 2.0, 2.0))
    >>> model = StationModel((ModelPart("box", box, PBRMaterial("white", (1.0, 1.0, 1.0))),))
    >>> renderer = ReferenceRenderer(model)
    >>> cam = Intrinsics.from_fov(64, 48, 60.0).camera((0.0, 0.0, -10.0), np.eye(3))
    >>> out = renderer.render(cam, sun_direction=(0.0, 0.0, -1.0), spotlight=None)
    >>> out.radiance.shape, int(out.mask[24, 32]), round(float(out.depth[24, 32]), 2)
    ((48, 64, 4, 3), 1, 9.0)
    >>> round(float(out.radiance[24, 32, 0, 0]), 3)  # Sun behind the camera: 0.96 + 0.16 peak
    1.12
    """

    model: StationModel | str | os.PathLike[str]
    shadows: bool = True
    shadow_bias: float = 1e-3
    threads: int | None = None
    _meshes: EmbreeMeshes = field(init=False, repr=False)
    _tables: _Tables = field(init=False, repr=False)
    _rays: OrderedDict[Intrinsics, tuple[F32, F32]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.model, StationModel):
            self.model = load_model(self.model)
        check_positive(self.shadow_bias, "shadow_bias", allow_zero=True)
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1 or None, got {self.threads!r}")
        self._meshes = EmbreeMeshes([p.mesh for p in self.model.parts])
        self._tables = _Tables.build(self.model)
        self._rays = OrderedDict()

    @property
    def station(self) -> StationModel:
        """The loaded model."""
        assert isinstance(self.model, StationModel)  # set in __post_init__
        return self.model

    def _camera_rays(self, camera: Camera) -> tuple[F32, F32]:
        """Cosine to the axis (H·W,) and unit camera-frame direction (H·W, 3) of every pixel.

        Undistorting the pixel grid costs more than a render, so each camera
        model's rays are kept (a few per renderer).
        """
        key = camera.intrinsics
        if key in self._rays:
            self._rays.move_to_end(key)
            return self._rays[key]
        unit = camera.with_pose(np.zeros(3), np.eye(3)).ray_directions()  # camera frame
        rays = (unit[:, 2].astype(np.float32), unit.astype(np.float32))  # z = cos to the axis
        self._rays[key] = rays
        while len(self._rays) > _GRID_CACHE:
            self._rays.popitem(last=False)
        return rays

    def render(
        self,
        camera: Camera,
        *,
        sun_direction: npt.ArrayLike,
        sun_strength: float = 1.0,
        spotlight: Spotlight | None = DEFAULT_SPOTLIGHT,
        bodies: Sequence[Sphere] = (),
    ) -> LightComponents:
        """Render the light components, mask and depth seen by ``camera``.

        Parameters
        ----------
        camera : Camera
            Pose (OpenCV axes) and intrinsics, in the model's world frame.
        sun_direction : array_like, shape (3,)
            Vector from the scene towards the Sun (normalised here).
        sun_strength : float
            Scale of the Sun component (≥ 0; relative).
        spotlight : Spotlight or None
            The camera's spotlight; ``None`` leaves the spot component zero.
        bodies : sequence of Sphere
            Celestial spheres (Moon, Earth), shaded as Lambertian.

        Returns
        -------
        LightComponents

        Raises
        ------
        TypeError, ValueError
            If the camera, the Sun direction or a body is malformed.
        """
        check_camera(camera)
        frame = self._frame(camera, sun_direction, sun_strength, spotlight, bodies)
        h, w = camera.height, camera.width
        radiance = np.zeros((h * w, 4, 3), np.float32)  # calloc: space pages stay untouched
        mask = np.zeros(h * w, np.uint8)
        depth = np.empty(h * w, np.float32)

        def run(row_start: int, row_stop: int) -> None:
            px = slice(row_start * w, row_stop * w)
            self._tile(frame, row_start, row_stop, radiance[px], mask[px], depth[px])

        map_tiles(run, h, max(1, _TILE // w), self.threads or tile_threads())
        return LightComponents(
            radiance.reshape(h, w, 4, 3), mask.reshape(h, w), depth.reshape(h, w)
        )

    def _frame(
        self,
        camera: Camera,
        sun_direction: npt.ArrayLike,
        sun_strength: float,
        spotlight: Spotlight | None,
        bodies: Sequence[Sphere],
    ) -> _Frame:
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
        return _Frame(
            origin=np.asarray(camera.position, np.float64),
            rotation=np.asarray(camera.rotation, np.float32),
            rays=self._camera_rays(camera),
            sun=sun,
            sun_strength=float(sun_strength),
            spotlight=spotlight,
            centers=np.array([b.center for b in bodies], np.float64).reshape(-1, 3),
            radii=np.array([b.radius for b in bodies], np.float64),
            colors=np.array([b.color for b in bodies], np.float32).reshape(-1, 3),
            shadows=self.shadows,
            shadow_bias=self.shadow_bias,
        )

    def _tile_rays(self, frame: _Frame, start: int, stop: int) -> tuple[F32, F32]:
        """Cosine to the optical axis (M,) and unit world direction (M, 3) of pixels start:stop."""
        cos_axis, cam = frame.rays
        px = slice(start, stop)
        return cos_axis[px], cam[px] @ frame.rotation.T

    def _spot(self, frame: _Frame, cos_axis: F32, dist: F32) -> F32:
        if frame.spotlight is None or frame.spotlight.power_w == 0:
            return np.zeros(len(dist), np.float32)
        s = frame.spotlight
        cone = spot_cone(cos_axis, s.spot_angle_deg, s.blend)
        out: F32 = (cone * np.float32(s.intensity) / np.maximum(dist * dist, 1e-12)).astype(
            np.float32
        )
        return out

    def _tile(
        self,
        frame: _Frame,
        row_start: int,
        row_stop: int,
        radiance: F32,
        mask: npt.NDArray[np.uint8],
        depth: F32,
    ) -> None:
        """Trace and shade image rows ``row_start:row_stop`` into their slices of the outputs."""
        w = len(depth) // (row_stop - row_start)
        cos_axis, dirs = self._tile_rays(frame, row_start * w, row_stop * w)
        hits = self._meshes.intersect(frame.origin, dirs)
        t_body, body = intersect_spheres(frame.origin, dirs, frame.centers, frame.radii)
        on_body = t_body < hits.distance
        dist = hits.distance
        dist[on_body] = t_body[on_body]
        depth[:] = dist
        rows = np.flatnonzero((hits.mesh >= 0) & ~on_body)
        if rows.size:
            part = hits.mesh[rows]
            mask[rows] = self._tables.part_label[part]
            self._shade_mesh(frame, rows, hits, dirs[rows], cos_axis[rows], dist[rows], radiance)
        rows = np.flatnonzero(on_body)
        if rows.size:
            mask[rows] = FOREGROUND
            radiance[rows] = self._shade_bodies(
                frame, body[rows], dirs[rows], t_body[rows], cos_axis[rows]
            )

    def _shade_mesh(
        self,
        frame: _Frame,
        rows: npt.NDArray[np.intp],
        hits: Any,
        dirs: F32,
        cos_axis: F32,
        dist: F32,
        out: F32,
    ) -> None:
        """Shade the mesh hits of a tile into ``out[rows]`` (the tile's (M, 4, 3) radiance)."""
        t = self._tables
        geo = hits.normal[rows]
        face = (t.face_offset[hits.mesh[rows]] + hits.primitive[rows]).astype(np.int32)
        bary = np.stack([hits.u[rows], hits.v[rows]], axis=1)
        points = frame.origin + dist[:, None].astype(np.float64) * dirs
        visible = self._sun_visibility(frame, points, geo, dirs)
        visible *= np.float32(frame.sun_strength)  # the kernel scales the Sun by it
        spot = self._spot(frame, cos_axis, dist)
        shade_hits(
            rows, face, bary, geo, np.negative(dirs), visible, spot,
            t.faces, t.vertex_normals, t.smooth, t.uvs, t.face_material, t.materials,
            t.tex_data, t.tex_meta, frame.sun.astype(np.float32), out,
        )  # fmt: skip

    def _sun_visibility(self, frame: _Frame, points: F64, geo: F32, dirs: F32) -> F32:
        """1 where the Sun reaches a hit (its camera-facing side lit and nothing in the way)."""
        sun32 = frame.sun.astype(np.float32)
        facing = np.where(np.einsum("ij,ij->i", geo, dirs) > 0, -1.0, 1.0).astype(np.float32)
        normal = geo * (facing / np.maximum(np.linalg.norm(geo, axis=1), 1e-20))[:, None]
        visible: F32 = (normal @ sun32 > 0).astype(np.float32)
        if not frame.shadows or frame.sun_strength == 0:
            return visible
        lit = np.flatnonzero(visible)
        if lit.size == 0:
            return visible
        start = points[lit] + frame.shadow_bias * normal[lit].astype(np.float64)
        blocked = self._meshes.occluded(start, frame.sun)
        if len(frame.radii):
            blocked |= sphere_shadow(start, frame.sun, frame.centers, frame.radii)
        visible[lit[blocked]] = 0.0
        return visible

    def _shade_bodies(self, frame: _Frame, body: I32, dirs: F32, dist: F64, cos_axis: F32) -> F32:
        """Lambertian spheres: sun (with eclipses by the other spheres), spot and ambient."""
        points = frame.origin + dist[:, None] * dirs
        normal = ((points - frame.centers[body]) / frame.radii[body, None]).astype(np.float32)
        color = frame.colors[body]
        ndl = np.maximum(normal @ frame.sun.astype(np.float32), 0.0)
        if frame.shadows and len(frame.radii) > 1:
            for b in range(len(frame.radii)):
                own = np.flatnonzero(body == b)
                others = np.arange(len(frame.radii)) != b
                if own.size and others.any():
                    start = points[own] + 1e-6 * frame.radii[b] * normal[own]
                    shade = sphere_shadow(
                        start, frame.sun, frame.centers[others], frame.radii[others]
                    )
                    ndl[own[shade]] = 0.0
        ndv = np.maximum(-np.einsum("ij,ij->i", normal, dirs), 0.0)
        out = np.zeros((len(body), 4, 3), np.float32)
        out[:, 0] = color * (ndl * np.float32(frame.sun_strength))[:, None]
        out[:, 1] = color * (ndv * self._spot(frame, cos_axis, dist.astype(np.float32)))[:, None]
        out[:, 2] = color
        return out
