"""A station model as flat tables, and what a ray hit sees of it (compiled with numba).

:class:`ModelTables` holds every part's triangles, vertex normals, texture
coordinates, per-triangle tangent frames and material, and every texture in
one flat array, built once per model. :func:`fetch_surfaces` turns ray hits
(triangle, barycentric coordinates) into the inputs of the BRDF, one row of
:data:`SURFACE_COLUMNS` per hit: shading normal (interpolated vertex normals,
tilted by the normal map), geometric normal, base colour, metalness,
roughness, the dielectric :math:`F_0`, emission and ambient occlusion, all
after their textures and facing the viewer (surfaces are two-sided), and
whether the BRDF compensates multiple scattering (set by the caller).

Normal maps follow glTF: tangent-space, +x along increasing ``u``, +y along
increasing ``v`` (trimesh's ``v`` points up, as Blender's), scaled by
``normalTexture.scale``. Tangents are per triangle, from its texture
coordinates (the usual fallback when a file has no ``TANGENT`` attribute),
orthogonalised against the shading normal at the hit.

Written with numba for the reason given in :mod:`spacead.render._pbr`: one
fused pass per hit instead of dozens of full-array NumPy passes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from spacead.scene import PBRMaterial, StationModel

from ._textures import mip_levels, read_texture, texel, texel_span

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]

# Columns of the per-material table (one row per material).
BASE, METALLIC, ROUGHNESS, EMISSIVE, F0 = 0, 3, 4, 5, 8
TEX_BASE, TEX_MR, TEX_EMISSIVE, TEX_NORMAL, TEX_OCCLUSION = 11, 12, 13, 14, 15
NORMAL_SCALE, OCCLUSION_STRENGTH, FACETS = 16, 17, 18
MATERIAL_COLUMNS = 19
_DEFAULT_F0 = 0.04  # glTF's dielectric reflectance at normal incidence

# Columns of a surface row (one row per hit), see fetch_surfaces.
S_NORMAL, S_GEO, S_BASE, S_METAL, S_ROUGH, S_F0, S_EMIT, S_OCC = 0, 3, 6, 9, 10, 11, 14, 17
S_MS = 18  # 1: compensate the specular lobe for multiple scattering (see _pbr), 0: not
SURFACE_COLUMNS = 19
TOKSVIG = 0.25  # roughness widening per unit of normal-map shortening (see fetch_surfaces)


@dataclass(frozen=True)
class ModelTables:
    """A model as flat arrays for the compiled kernels (built once per model).

    ``facets`` gives, per material, the amplitude of a procedural texture layer
    (spacead's simulator); files have none.
    """

    faces: I32
    vertex_normals: F32
    smooth: npt.NDArray[np.bool_]
    uvs: F32
    tangents: F32  # (F, 4): unit tangent along +u and the bitangent's handedness
    vertex_tangents: F32  # (V, 3): the faces' tangents averaged at each vertex
    uv_density: F32  # (F,): texture-coordinate units per metre (0 without UVs)
    face_material: I32
    face_offset: I32
    part_label: npt.NDArray[np.uint8]
    materials: F32
    tex_data: F32
    tex_meta: I32  # one row per mip level: (offset, h, w, channels)
    tex_levels: I32  # one row per texture: (first level's row, number of levels)

    @classmethod
    def build(cls, model: StationModel, facets: dict[str, float] | None = None) -> ModelTables:
        """Tables of ``model``; ``facets`` maps material names to a facet amplitude."""
        mats = model.materials
        index = {id(m): k for k, m in enumerate(mats)}
        faces, normals, smooth, uvs, tangents, density, face_mat, offsets, vt = (
            [] for _ in range(9)
        )
        n_vertices = n_faces = 0
        for part in model.parts:
            m = part.mesh
            nv, nf = len(m.vertices), len(m.faces)
            faces.append(np.asarray(m.faces, np.int64) + n_vertices)
            normals.append(
                part.normals if part.normals is not None else np.zeros((nv, 3), np.float32)
            )
            smooth.append(np.full(nf, part.normals is not None))
            uv = part.uv if part.uv is not None else np.zeros((nv, 2), np.float32)
            uvs.append(uv)
            frame = _face_frames(m.vertices, m.faces, uv, part.uv is not None)
            tangents.append(frame[:, :4])
            density.append(frame[:, 4])
            vt.append(_vertex_tangents(nv, m.faces, frame))
            face_mat.append(np.full(nf, index[id(part.material)], np.int32))
            offsets.append(n_faces)
            n_vertices += nv
            n_faces += nf
        table, data, meta, levels = _material_table(mats, facets or {})

        def joined(arrays: list[Any], shape: tuple[int, ...], dtype: type) -> Any:
            out = np.concatenate(arrays) if arrays else np.zeros(shape, dtype)
            return np.ascontiguousarray(out, dtype)

        return cls(
            faces=joined(faces, (0, 3), np.int32),
            vertex_normals=joined(normals, (0, 3), np.float32),
            smooth=joined(smooth, (0,), np.bool_),
            uvs=joined(uvs, (0, 2), np.float32),
            tangents=joined(tangents, (0, 4), np.float32),
            vertex_tangents=joined(vt, (0, 3), np.float32),
            uv_density=joined(density, (0,), np.float32),
            face_material=joined(face_mat, (0,), np.int32),
            face_offset=np.asarray(offsets, np.int32),
            part_label=np.array([p.label for p in model.parts], np.uint8),
            materials=table,
            tex_data=data,
            tex_meta=meta,
            tex_levels=levels,
        )


def _material_table(
    mats: tuple[PBRMaterial, ...], facets: dict[str, float]
) -> tuple[F32, F32, I32, I32]:
    """The material rows, and the textures' mip levels as one flat array (see ModelTables)."""
    table = np.zeros((len(mats), MATERIAL_COLUMNS), np.float32)
    textures: list[list[F32]] = []
    for k, mat in enumerate(mats):
        table[k, BASE : BASE + 3] = mat.base_color
        table[k, METALLIC], table[k, ROUGHNESS] = mat.metallic, mat.roughness
        table[k, EMISSIVE : EMISSIVE + 3] = mat.emissive
        table[k, F0 : F0 + 3] = mat.specular if mat.specular is not None else _DEFAULT_F0
        table[k, NORMAL_SCALE] = mat.normal_scale
        table[k, OCCLUSION_STRENGTH] = mat.occlusion_strength
        table[k, FACETS] = facets.get(mat.name, 0.0)
        columns = (TEX_BASE, TEX_MR, TEX_EMISSIVE, TEX_NORMAL, TEX_OCCLUSION)
        for column, tex in zip(columns, mat.maps, strict=True):
            table[k, column] = -1.0
            if tex is not None:
                table[k, column] = len(textures)
                textures.append(mip_levels(tex))
    flat = [level for chain in textures for level in chain]
    meta = np.zeros((max(1, len(flat)), 4), np.int32)
    levels = np.zeros((max(1, len(textures)), 2), np.int32)
    offset = row = 0
    for t, chain in enumerate(textures):
        levels[t] = (row, len(chain))
        for level in chain:
            meta[row] = (offset, level.shape[0], level.shape[1], level.shape[2])
            offset += level.size
            row += 1
    data = np.concatenate([t.ravel() for t in flat]) if flat else np.zeros(1, np.float32)
    return table, data.astype(np.float32), meta, levels


def _face_frames(vertices: npt.ArrayLike, faces: npt.ArrayLike, uv: F32, has_uv: bool) -> F32:
    """Per triangle (F, 6): unit tangent along +u, handedness, UV units per metre, area.

    Zeros where the triangle has no usable texture coordinates.
    """
    tri = np.asarray(vertices, np.float64)[np.asarray(faces)]
    out = np.zeros((len(tri), 6), np.float32)
    if not has_uv or len(tri) == 0:
        return out
    t_uv = np.asarray(uv, np.float64)[np.asarray(faces)]
    e1, e2 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    d1, d2 = t_uv[:, 1] - t_uv[:, 0], t_uv[:, 2] - t_uv[:, 0]
    det = d1[:, 0] * d2[:, 1] - d2[:, 0] * d1[:, 1]
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)[:, None]
    tangent = (e1 * d2[:, 1:2] - e2 * d1[:, 1:2]) * inv
    bitangent = (e2 * d1[:, 0:1] - e1 * d2[:, 0:1]) * inv
    length = np.linalg.norm(tangent, axis=1)
    ok &= length > 1e-12
    geo = np.cross(e1, e2)
    hand = np.where(np.einsum("ij,ij->i", np.cross(geo, tangent), bitangent) < 0, -1.0, 1.0)
    out[ok, :3] = tangent[ok] / length[ok, None]
    out[ok, 3] = hand[ok]
    area = np.linalg.norm(geo, axis=1)
    out[:, 4] = np.sqrt(np.abs(det) / np.maximum(area, 1e-20))
    out[:, 5] = area
    return out


def _vertex_tangents(n_vertices: int, faces: npt.ArrayLike, frames: F32) -> F32:
    """Area-weighted mean of the tangents of the triangles around each vertex (V, 3).

    Interpolated over a triangle, they turn smoothly from one triangle to the
    next, as MikkTSpace's do: per-triangle tangents would show every edge of
    a normal-mapped mesh. Files split vertices where texture coordinates jump,
    so a seam keeps its two tangents.
    """
    acc = np.zeros((n_vertices, 3))
    weighted = frames[:, :3].astype(np.float64) * frames[:, 5:6]
    for k in range(3):
        np.add.at(acc, np.asarray(faces)[:, k], weighted)
    norm = np.linalg.norm(acc, axis=1, keepdims=True)
    out: F32 = np.where(norm > 1e-12, acc / np.maximum(norm, 1e-12), 0.0).astype(np.float32)
    return out


@numba.njit(cache=True, nogil=True, fastmath=True)
def _shading_normal(
    f: int, w0: float, w1: float, w2: float, gx: float, gy: float, gz: float,
    faces: I32, vertex_normals: F32, smooth: npt.NDArray[np.bool_],
) -> tuple[float, float, float]:  # fmt: skip  # pragma: no cover - compiled
    """Interpolated vertex normal of a smooth triangle, else its geometric normal (unnormalised)."""
    if not smooth[f]:
        return gx, gy, gz
    a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
    nx = w0 * vertex_normals[a, 0] + w1 * vertex_normals[b, 0] + w2 * vertex_normals[c, 0]
    ny = w0 * vertex_normals[a, 1] + w1 * vertex_normals[b, 1] + w2 * vertex_normals[c, 1]
    nz = w0 * vertex_normals[a, 2] + w1 * vertex_normals[b, 2] + w2 * vertex_normals[c, 2]
    return nx, ny, nz


@numba.njit(cache=True, nogil=True, fastmath=True)
def _normal_map(
    nx: float, ny: float, nz: float, tx: float, ty: float, tz: float, hand: float,
    mx: float, my: float, mz: float,
) -> tuple[float, float, float]:  # fmt: skip  # pragma: no cover - compiled
    """Unit normal tilted by a tangent-space map value (mx, my, mz), around unit (nx, ny, nz).

    (tx, ty, tz) is the tangent, ``hand`` the bitangent's handedness.
    """
    d = tx * nx + ty * ny + tz * nz
    tx, ty, tz = tx - d * nx, ty - d * ny, tz - d * nz
    inv = 1.0 / max(math.sqrt(tx * tx + ty * ty + tz * tz), 1e-20)
    tx, ty, tz = tx * inv, ty * inv, tz * inv
    bx, by, bz = hand * (ny * tz - nz * ty), hand * (nz * tx - nx * tz), hand * (nx * ty - ny * tx)
    ox = mx * tx + my * bx + mz * nx
    oy = mx * ty + my * by + mz * ny
    oz = mx * tz + my * bz + mz * nz
    inv = 1.0 / max(math.sqrt(ox * ox + oy * oy + oz * oz), 1e-20)
    return ox * inv, oy * inv, oz * inv


@numba.njit(cache=True, nogil=True, fastmath=True)
def _mapped_normal(
    data: F32, meta: I32, levels: I32, tex: int, u: float, v: float, texels: float,
    frame: tuple[float, float, float, float, float, float, float, float, float],
    rough: float, buf: F32,
) -> tuple[float, float, float, float]:  # fmt: skip  # pragma: no cover - compiled
    """Normal map at (u, v) over ``texels``: tilted unit normal and its widened roughness.

    ``frame`` holds the smooth normal, the tangent, the handedness, the facing
    sign and the map's scale. Texels averaged over the footprint make a
    shorter normal: the lost length widens the roughness (Toksvig).
    """
    texel(data, meta, levels, tex, u, v, texels, buf)
    nx, ny, nz, tx, ty, tz, hand, flip, scale = frame
    mx, my, mz = 2.0 * buf[0] - 1.0, 2.0 * buf[1] - 1.0, 2.0 * buf[2] - 1.0
    length = min(max(math.sqrt(mx * mx + my * my + mz * mz), 0.3), 1.0)
    widen = TOKSVIG * scale * scale * (1.0 - length) / length
    rough = min((rough * rough * rough * rough + widen) ** 0.25, 1.0)
    # seen from behind, n and the bitangent (hand * n x t) are negated: negating x too
    # gives the front side's tilted normal, negated
    ox, oy, oz = _normal_map(nx, ny, nz, tx, ty, tz, hand, mx * scale * flip, my * scale, mz)
    return ox, oy, oz, rough


@numba.njit(cache=True, nogil=True, fastmath=True)
def _stratum(k: int, n: int) -> tuple[float, float]:  # pragma: no cover - compiled
    """Offset in [-0.5, 0.5)² of sub-sample ``k`` of ``n`` (the R2 sequence, centred)."""
    u = 0.5 + k * 0.7548776662466927
    v = 0.5 + k * 0.5698402909980532
    return u - math.floor(u) - 0.5, v - math.floor(v) - 0.5


@numba.njit(cache=True, nogil=True, fastmath=True)
def fetch_surfaces(
    face: I32,
    bary: F32,
    geo_normal: F32,
    view: F32,
    footprint: F32,
    faces: I32,
    vertex_normals: F32,
    smooth: npt.NDArray[np.bool_],
    uvs: F32,
    tangents: F32,
    vertex_tangents: F32,
    uv_density: F32,
    face_material: I32,
    materials: F32,
    tex_data: F32,
    tex_meta: I32,
    tex_levels: I32,
    out: F32,
    subnormals: F32,
) -> None:  # pragma: no cover - compiled; tested through the renderer
    """Fill ``out[i]`` (:data:`SURFACE_COLUMNS`) for hit ``i`` (see the module notes).

    Per hit: ``face``, its global triangle; ``bary``, Embree's (u, v);
    ``geo_normal``, the unnormalised geometric normal; ``view``, the unit
    direction towards the viewer; ``footprint``, the width (metres) of the
    surface the pixel (or ray) covers there, which picks the textures' mip
    levels. Both normals are flipped to the viewer's side. A normal map's
    texels averaged over the footprint make a shorter normal: the lost length
    widens the roughness (Toksvig). ``subnormals`` (N, S, 4) receives S normals
    and roughnesses spread over the footprint, read from a finer mip level:
    the direct light averaged over them has the glints of crumpled foil a
    camera integrates over a pixel (S = 1: the pixel's own normal).
    """
    buf = np.empty(3, np.float32)
    for i in range(face.shape[0]):
        f = face[i]
        o = out[i]
        vx, vy, vz = view[i, 0], view[i, 1], view[i, 2]
        gx, gy, gz = geo_normal[i, 0], geo_normal[i, 1], geo_normal[i, 2]
        flip = 1.0 if gx * vx + gy * vy + gz * vz >= 0.0 else -1.0  # two-sided: face the viewer
        w1, w2 = bary[i, 0], bary[i, 1]
        w0 = 1.0 - w1 - w2
        nx, ny, nz = _shading_normal(f, w0, w1, w2, gx, gy, gz, faces, vertex_normals, smooth)
        inv = flip / max(math.sqrt(nx * nx + ny * ny + nz * nz), 1e-20)
        nx, ny, nz = nx * inv, ny * inv, nz * inv
        ginv = flip / max(math.sqrt(gx * gx + gy * gy + gz * gz), 1e-20)
        o[S_GEO], o[S_GEO + 1], o[S_GEO + 2] = gx * ginv, gy * ginv, gz * ginv
        mat = materials[face_material[f]]
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        u = w0 * uvs[a, 0] + w1 * uvs[b, 0] + w2 * uvs[c, 0]
        v = w0 * uvs[a, 1] + w1 * uvs[b, 1] + w2 * uvs[c, 1]
        spread = footprint[i] * uv_density[f]  # texture-coordinate units
        metal, rough = mat[METALLIC], mat[ROUGHNESS]
        if mat[TEX_MR] >= 0:
            read_texture(tex_data, tex_meta, tex_levels, int(mat[TEX_MR]), u, v, spread, buf)
            rough, metal = rough * buf[0], metal * buf[1]
        base_rough = rough
        sx, sy, sz = nx, ny, nz  # the smooth normal, before the map
        mapped = mat[TEX_NORMAL] >= 0 and tangents[f, 3] != 0.0
        if mapped:
            tmap = int(mat[TEX_NORMAL])
            tx = (
                w0 * vertex_tangents[a, 0] + w1 * vertex_tangents[b, 0] + w2 * vertex_tangents[c, 0]
            )
            ty = (
                w0 * vertex_tangents[a, 1] + w1 * vertex_tangents[b, 1] + w2 * vertex_tangents[c, 1]
            )
            tz = (
                w0 * vertex_tangents[a, 2] + w1 * vertex_tangents[b, 2] + w2 * vertex_tangents[c, 2]
            )
            frame = (sx, sy, sz, tx, ty, tz, tangents[f, 3] * 1.0, flip, mat[NORMAL_SCALE])
            texels = texel_span(tex_meta, tex_levels, tmap, spread)
            nx, ny, nz, rough = _mapped_normal(
                tex_data, tex_meta, tex_levels, tmap, u, v, texels, frame, base_rough, buf
            )
        n_sub = subnormals.shape[1]
        for k in range(n_sub):  # the map within the pixel, finer: what a camera averages
            sub = subnormals[i, k]
            if mapped and n_sub > 1:
                du, dv = _stratum(k, n_sub)
                sub[0], sub[1], sub[2], sub[3] = _mapped_normal(
                    tex_data,
                    tex_meta,
                    tex_levels,
                    tmap,
                    u + du * spread,
                    v + dv * spread,
                    texels / math.sqrt(n_sub),
                    frame,
                    base_rough,
                    buf,
                )
            else:
                sub[0], sub[1], sub[2], sub[3] = nx, ny, nz, rough
        o[S_NORMAL], o[S_NORMAL + 1], o[S_NORMAL + 2] = nx, ny, nz
        o[S_METAL], o[S_ROUGH] = metal, rough
        br, bg, bb = mat[BASE], mat[BASE + 1], mat[BASE + 2]
        if mat[TEX_BASE] >= 0:
            read_texture(tex_data, tex_meta, tex_levels, int(mat[TEX_BASE]), u, v, spread, buf)
            br, bg, bb = br * buf[0], bg * buf[1], bb * buf[2]
        o[S_BASE], o[S_BASE + 1], o[S_BASE + 2] = br, bg, bb
        o[S_F0], o[S_F0 + 1], o[S_F0 + 2] = mat[F0], mat[F0 + 1], mat[F0 + 2]
        er, eg, eb = mat[EMISSIVE], mat[EMISSIVE + 1], mat[EMISSIVE + 2]
        if mat[TEX_EMISSIVE] >= 0:
            read_texture(tex_data, tex_meta, tex_levels, int(mat[TEX_EMISSIVE]), u, v, spread, buf)
            er, eg, eb = er * buf[0], eg * buf[1], eb * buf[2]
        o[S_EMIT], o[S_EMIT + 1], o[S_EMIT + 2] = er, eg, eb
        occ = 1.0
        if mat[TEX_OCCLUSION] >= 0:
            read_texture(tex_data, tex_meta, tex_levels, int(mat[TEX_OCCLUSION]), u, v, spread, buf)
            occ = 1.0 + mat[OCCLUSION_STRENGTH] * (buf[0] - 1.0)
        o[S_OCC] = occ
