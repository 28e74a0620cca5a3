"""One frame of the ray caster: per-frame constants, and the work on one tile of pixels.

Per pixel: a primary ray against the station's meshes (Embree) and the
celestial spheres (closed form); the nearest hit gives the mask label, the
depth and the surface to shade; a Sun-lit hit casts one shadow ray towards the
Sun (meshes) and is tested against the spheres that can eclipse it. Tiles are
independent, so the renderer runs them on a thread pool.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from spacead.scene import FOREGROUND, MATERIALS, Camera, Lighting, Scene

from ._bodies import intersect_spheres, sphere_shadow
from ._embree import EmbreeMeshes
from ._lights import spot_cone
from ._procedural import body_albedo, texture_facets
from ._shading import Surface, shade

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
Index = npt.NDArray[np.intp]

_CLOUDY = frozenset({"earth"})  # body materials that get white cloud banks


@dataclass(frozen=True)
class ShadingOptions:
    """The renderer options that the per-tile work needs (see ``RaycastRenderer``)."""

    shadows: bool
    shadow_bias: float
    spot_size_deg: float
    spot_blend: float
    textures: bool
    texture_scale: float


@dataclass(frozen=True)
class Frame:
    """Everything shared by the tiles of one frame."""

    options: ShadingOptions
    lighting: Lighting
    sun: F64  # unit vector towards the Sun
    origin: F64  # camera centre
    rotation: F32  # camera-to-world
    xs: F32  # normalised image-plane x: of each column (W,), or of each pixel (H, W)
    ys: F32  # normalised image-plane y: of each row (H,), or of each pixel (H, W)
    meshes: EmbreeMeshes
    part_label: npt.NDArray[np.uint8]
    part_material: Index  # row of the material tables below
    albedo: F32  # (M, 3) material tables of the materials in use
    specular: F32
    shininess: F32
    texture: F32
    centers: F64
    radii: F64
    body_material: tuple[str, ...]
    mesh_eclipsers: Index  # bodies that can shadow the station
    body_eclipsers: tuple[Index, ...]  # per body, the other bodies that can shadow it

    @classmethod
    def build(cls, scene: Scene, camera: Camera, options: ShadingOptions) -> Frame:
        """Prepare a frame: Embree scene, material tables, pixel grid, eclipse candidates."""
        xs, ys = camera.normalized_coordinates()
        sun = np.asarray(scene.lighting.sun_direction, np.float64)
        sun = sun / np.linalg.norm(sun)
        meshes = EmbreeMeshes([p.mesh for p in scene.parts])
        centers = np.array([b.center for b in scene.bodies], np.float64).reshape(-1, 3)
        radii = np.array([b.radius for b in scene.bodies], np.float64)
        everyone = np.arange(len(radii))
        names = sorted({p.material for p in scene.parts})
        mats = [MATERIALS[m] for m in names]
        return cls(
            options=options,
            lighting=scene.lighting,
            sun=sun,
            origin=np.asarray(camera.position, np.float64),
            rotation=np.asarray(camera.rotation, np.float32),
            xs=xs.astype(np.float32),
            ys=ys.astype(np.float32),
            meshes=meshes,
            part_label=np.array([p.label for p in scene.parts], np.uint8),
            part_material=np.array([names.index(p.material) for p in scene.parts], np.intp),
            albedo=np.array([m.albedo for m in mats], np.float32).reshape(-1, 3),
            specular=np.array([m.specular for m in mats], np.float32),
            shininess=np.array([m.shininess for m in mats], np.float32),
            texture=np.array([m.texture for m in mats], np.float32),
            centers=centers,
            radii=radii,
            body_material=tuple(b.material for b in scene.bodies),
            mesh_eclipsers=_eclipsers(centers, radii, meshes.origin, meshes.radius, sun, everyone),
            body_eclipsers=tuple(
                _eclipsers(centers, radii, centers[i], radii[i], sun, everyone[everyone != i])
                for i in everyone
            ),
        )

    def rays(self, row_start: int, row_stop: int) -> tuple[F32, F32]:
        """Cosine to the optical axis (M,) and unit world direction (M, 3) of image rows.

        Pixels are row-major, as in :meth:`spacead.scene.Camera.ray_directions`.
        """
        if self.xs.ndim == 2:  # distorted lens: a full grid
            x, y = self.xs[row_start:row_stop], self.ys[row_start:row_stop]
        else:
            x, y = self.xs[None, :], self.ys[row_start:row_stop, None]
        cos_axis = (1.0 / np.sqrt(x * x + y * y + 1.0)).astype(np.float32, copy=False)
        r = self.rotation
        dirs = x[..., None] * r[:, 0] + y[..., None] * r[:, 1] + r[:, 2]
        dirs *= cos_axis[..., None]
        return cos_axis.reshape(-1), dirs.reshape(-1, 3)


def _eclipsers(
    centers: F64, radii: F64, target: F64, target_radius: float, sun: F64, candidates: Index
) -> Index:
    """The spheres among ``candidates`` that can block the Sun for some point of a target sphere."""
    keep = []
    for b in candidates:
        c = centers[b] - target
        along = float(c @ sun)
        off_axis = float(np.linalg.norm(c - along * sun))
        if along > -target_radius and off_axis < radii[b] + target_radius:
            keep.append(b)
    return np.array(keep, np.intp)


def render_tile(
    frame: Frame, row_start: int, row_stop: int
) -> tuple[F32, npt.NDArray[np.uint8], F32]:
    """Linear radiance (M, 3), mask (M,) and depth (M,) of image rows ``row_start:row_stop``."""
    cos_axis, dirs = frame.rays(row_start, row_stop)
    hits = frame.meshes.intersect(frame.origin, dirs)
    t_body, body = intersect_spheres(frame.origin, dirs, frame.centers, frame.radii)
    on_body = t_body < hits.distance
    radiance = np.zeros((len(dirs), 3), np.float32)
    mask = np.zeros(len(dirs), np.uint8)
    depth = hits.distance
    depth[on_body] = t_body[on_body]
    rows = np.flatnonzero((hits.mesh >= 0) & ~on_body)
    if rows.size:
        part = hits.mesh[rows]
        mask[rows] = frame.part_label[part]
        radiance[rows] = _shade_mesh_hits(
            frame, dirs[rows], depth[rows], hits.normal[rows], part, cos_axis[rows]
        )
    for b, material in enumerate(frame.body_material):
        rows = np.flatnonzero(on_body & (body == b))
        if rows.size:
            mask[rows] = FOREGROUND
            radiance[rows] = _shade_body_hits(
                frame, b, material, dirs[rows], t_body[rows], cos_axis[rows]
            )
    return radiance, mask, depth


def _shade_mesh_hits(
    frame: Frame, dirs: F32, dist: F32, normal: F32, part: npt.NDArray[np.int32], cos_axis: F32
) -> F32:
    """Radiance of mesh hits, flat-shaded with the hit triangle's normal."""
    # unit normal facing the camera (two-sided surfaces): sign(n . d) = -1
    inv = 1.0 / np.sqrt(np.maximum(np.einsum("ij,ij->i", normal, normal), np.float32(1e-30)))
    normal = normal * np.where(np.einsum("ij,ij->i", normal, dirs) > 0, -inv, inv)[:, None]
    points = frame.origin + dist[:, None].astype(np.float64) * dirs
    visible = _sun_visibility(frame, points, normal, frame.mesh_eclipsers, with_meshes=True)
    mats = frame.part_material[part]
    albedo = frame.albedo[mats]
    opts = frame.options
    if opts.textures:
        normal, albedo = texture_facets(
            points, normal, albedo, frame.texture[mats], opts.texture_scale
        )
    spot = spot_cone(cos_axis, opts.spot_size_deg, opts.spot_blend)
    surface = Surface(
        normal, -dirs, dist, spot, visible, albedo, frame.specular[mats], frame.shininess[mats]
    )
    return shade(surface, frame.lighting)


def _shade_body_hits(
    frame: Frame, index: int, material: str, dirs: F32, dist: F64, cos_axis: F32
) -> F32:
    """Radiance of the hits on one celestial body (textured in its own sphere coordinates)."""
    points = frame.origin + dist[:, None] * dirs
    unit = (points - frame.centers[index]) / frame.radii[index]
    normal = unit.astype(np.float32)
    visible = _sun_visibility(frame, points, normal, frame.body_eclipsers[index], False)
    mat = MATERIALS[material]
    n = len(points)
    opts = frame.options
    if opts.textures:
        albedo = body_albedo(unit, mat.albedo, mat.texture, material in _CLOUDY)
    else:
        albedo = np.repeat(np.array([mat.albedo], np.float32), n, axis=0)
    spot = spot_cone(cos_axis, opts.spot_size_deg, opts.spot_blend)
    surface = Surface(
        normal, -dirs, dist.astype(np.float32), spot, visible, albedo,
        np.full(n, mat.specular, np.float32), np.full(n, mat.shininess, np.float32),
    )  # fmt: skip
    return shade(surface, frame.lighting)


def _sun_visibility(
    frame: Frame, points: F64, normal: F32, eclipsers: Index, with_meshes: bool
) -> F32:
    """1 where the Sun reaches a point, 0 where a mesh or a body blocks it."""
    visible = np.ones(len(points), np.float32)
    if not frame.options.shadows or frame.lighting.sun_irradiance == 0:
        return visible
    lit = np.flatnonzero(normal @ frame.sun.astype(np.float32) > 0)
    if lit.size == 0:
        return visible
    start = points[lit] + frame.options.shadow_bias * normal[lit].astype(np.float64)
    blocked = np.zeros(lit.size, np.bool_)
    if eclipsers.size:
        blocked = sphere_shadow(start, frame.sun, frame.centers[eclipsers], frame.radii[eclipsers])
    if with_meshes:
        blocked |= frame.meshes.occluded(start, frame.sun)
    visible[lit[blocked]] = 0.0
    return visible
