"""Blender side of ``bench_independent.py``: an independent station, its hazards, Cycles passes.

Nothing here comes from spacead's procedural station, hazards or renderers:
the geometry is built from numpy primitives written for this benchmark
(cylinders, frusta, spheres, tori, boxes, tubes, paraboloid dishes, thin
beams), the textures are baked in numpy (a crinkled-foil tangent-space normal
map, a solar-cell grid, a cubesat panel) and the materials are Principled
BSDFs that Blender's glTF exporter can write (Image Texture and Normal Map
nodes only). The conventions shared with spacead (the Sun and spotlight units,
the camera axes, the EXR read-back through the compositor) follow
``spacead.render._cycles_scene`` and ``_cycles_bpy`` but are written out here,
so that rendering does not import spacead (whose sources may be mid-edit).

All geometry is in Blender's world frame (Z up, metres) with identity object
transforms; the glTF export (+Y up) maps Blender (x, y, z) to glTF (x, z, -y).
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

F64 = np.ndarray

# --------------------------------------------------------------------------------------------
# Materials: name -> (material pass index, description). The pass index is the material id of
# the linear/material/<name>.npy maps (0 = space).
# --------------------------------------------------------------------------------------------
MATERIAL_IDS: dict[str, int] = {
    "gold_mli": 1,
    "silver_mli": 2,
    "white_paint": 3,
    "solar_array": 4,
    "truss_metal": 5,
    "array_back": 6,
    "handrail_yellow": 7,
    "dark_metal": 8,
    "radiator_white": 9,
    "moon": 10,
    "earth": 11,
    "hz_cubesat_panel": 20,
    "hz_grey_metal": 21,
    "hz_gold_foil": 22,
    "hz_silver_foil": 23,
    "hz_white_fabric": 24,
    "hz_black": 25,
    "hz_orange": 26,
    "hz_white_plastic": 27,
    "hz_solar": 28,
}

STATION_LABEL = 1
HAZARD_LABEL = 2

# --------------------------------------------------------------------------------------------
# Geometry: primitives return per-corner triangles (M, 3, 3) and UVs (M, 3, 2), outward-wound
# (counter-clockwise seen from outside).
# --------------------------------------------------------------------------------------------


def _grid(P: F64, UV: F64) -> tuple[F64, F64]:
    """Triangles of a parametric grid P (nu+1, nv+1, 3); the normal is along dP/du x dP/dv."""
    a, b, c, d = P[:-1, :-1], P[1:, :-1], P[1:, 1:], P[:-1, 1:]
    ua, ub, uc, ud = UV[:-1, :-1], UV[1:, :-1], UV[1:, 1:], UV[:-1, 1:]
    tris = np.concatenate(
        [np.stack([a, b, c], -2).reshape(-1, 3, 3), np.stack([a, c, d], -2).reshape(-1, 3, 3)]
    )
    uvs = np.concatenate(
        [np.stack([ua, ub, uc], -2).reshape(-1, 3, 2), np.stack([ua, uc, ud], -2).reshape(-1, 3, 2)]
    )
    return tris, uvs


def frustum_side(r0: float, r1: float, z0: float, z1: float, nseg: int, nring: int, tile: float):
    """Side of a frustum along local z from radius r0 at z0 to r1 at z1 (outward)."""
    th = np.linspace(0.0, 2 * np.pi, nseg + 1)
    z = np.linspace(z0, z1, nring + 1)
    r = np.linspace(r0, r1, nring + 1)
    T, Zg = np.meshgrid(th, z, indexing="ij")
    R = np.meshgrid(th, r, indexing="ij")[1]
    P = np.stack([R * np.cos(T), R * np.sin(T), Zg], -1)
    UV = np.stack([T * 0.5 * (r0 + r1) / tile, Zg / tile], -1)
    return _grid(P, UV)


def disk(r: float, z: float, nseg: int, up: bool, tile: float, r_in: float = 0.0):
    """A flat disk (or annulus from r_in) at height z facing +z (up) or -z."""
    th = np.linspace(0.0, 2 * np.pi, nseg + 1)
    T, Rg = np.meshgrid(th, np.array([r_in, r]), indexing="ij")
    P = np.stack([Rg * np.cos(T), Rg * np.sin(T), np.full_like(T, z)], -1)
    UV = P[..., :2] / tile
    if up:  # d/dr x d/dtheta = +z
        return _grid(P.transpose(1, 0, 2), UV.transpose(1, 0, 2))
    return _grid(P, UV)  # d/dtheta x d/dr = -z


def sphere(r: float, nlon: int, nlat: int, tile: float, lat0: float = -90.0, lat1: float = 90.0):
    th = np.linspace(0.0, 2 * np.pi, nlon + 1)
    ph = np.radians(np.linspace(lat0, lat1, nlat + 1))
    T, Ph = np.meshgrid(th, ph, indexing="ij")
    P = r * np.stack([np.cos(Ph) * np.cos(T), np.cos(Ph) * np.sin(T), np.sin(Ph)], -1)
    UV = np.stack([T * r / tile, Ph * r / tile], -1)
    return _grid(P, UV)


def torus(R: float, r: float, nu: int, nv: int, tile: float):
    u = np.linspace(0.0, 2 * np.pi, nu + 1)
    v = np.linspace(0.0, 2 * np.pi, nv + 1)
    U, V = np.meshgrid(u, v, indexing="ij")
    A = R + r * np.cos(V)
    P = np.stack([A * np.cos(U), A * np.sin(U), r * np.sin(V)], -1)
    UV = np.stack([U * R / tile, V * r / tile], -1)
    return _grid(P, UV)


_BOX_FACES = {  # name: (origin corner in units of half-extent, e1, e2), e1 x e2 outward
    "+x": ((1, -1, -1), (0, 2, 0), (0, 0, 2)),
    "-x": ((-1, -1, -1), (0, 0, 2), (0, 2, 0)),
    "+y": ((-1, 1, -1), (0, 0, 2), (2, 0, 0)),
    "-y": ((-1, -1, -1), (2, 0, 0), (0, 0, 2)),
    "+z": ((-1, -1, 1), (2, 0, 0), (0, 2, 0)),
    "-z": ((-1, -1, -1), (0, 2, 0), (2, 0, 0)),
}


def box_faces(size: tuple[float, float, float], tile: float | None, faces=tuple(_BOX_FACES)):
    """Faces of a centred box: {name: (tris, uvs)}; tile None maps each face to UV 0..1."""
    h = 0.5 * np.asarray(size, np.float64)
    out = {}
    for name in faces:
        o, e1, e2 = (np.asarray(v, np.float64) * h for v in _BOX_FACES[name])
        s, t = np.meshgrid([0.0, 1.0], [0.0, 1.0], indexing="ij")
        P = o + s[..., None] * e1 + t[..., None] * e2
        if tile is None:
            UV = np.stack([s, t], -1)
        else:
            UV = np.stack([s * np.linalg.norm(e1), t * np.linalg.norm(e2)], -1) / tile
        out[name] = _grid(P, UV)
    return out


def box(size, tile: float | None = 1.0):
    parts = box_faces(size, tile).values()
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _frames(points: F64) -> tuple[F64, F64, F64]:
    """Tangents and parallel-transported normals/binormals along a polyline."""
    d = np.gradient(points, axis=0)
    T = d / np.linalg.norm(d, axis=1, keepdims=True)
    helper = np.array([0.0, 0.0, 1.0]) if abs(T[0, 2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    N = np.empty_like(T)
    n = np.cross(helper, T[0])
    N[0] = n / np.linalg.norm(n)
    for i in range(1, len(T)):
        n = N[i - 1] - np.dot(N[i - 1], T[i]) * T[i]
        N[i] = n / np.linalg.norm(n)
    B = np.cross(T, N)
    return T, N, B


def tube(points: F64, radius: float, nsides: int, tile: float, caps: bool = True):
    """A tube along a polyline (outward); optional flat end caps."""
    points = np.asarray(points, np.float64)
    T, N, B = _frames(points)
    th = np.linspace(0.0, 2 * np.pi, nsides + 1)
    ct, st = np.cos(th)[:, None, None], np.sin(th)[:, None, None]
    P = points[None] + radius * (ct * N[None] + st * B[None])  # (nsides+1, n, 3)
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
    TH, S = np.meshgrid(th, s, indexing="ij")
    UV = np.stack([TH * radius / tile, S / tile], -1)
    side = _grid(P, UV)  # d/dtheta x d/ds: outward for a right-handed (T, N, B)
    if not caps:
        return side, None
    cap_t, cap_uv = [], []
    for end, sign in ((0, -1.0), (-1, 1.0)):
        ring = P[:, end]
        c = points[end]
        tris = np.stack([np.repeat(c[None], nsides, 0), ring[:-1], ring[1:]], 1)
        n = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
        if np.dot(n.sum(0), sign * T[end]) < 0:
            tris = tris[:, ::-1]
        cap_t.append(tris)
        cap_uv.append(np.zeros((nsides, 3, 2)))
    return side, (np.concatenate(cap_t), np.concatenate(cap_uv))


def rounded_polyline(points: F64, radius: float, steps: int = 4) -> F64:
    """Replace each interior corner by a quadratic Bezier arc of about ``radius``."""
    points = np.asarray(points, np.float64)
    out = [points[0]]
    for i in range(1, len(points) - 1):
        p0, p1, p2 = points[i - 1], points[i], points[i + 1]
        a = p1 + (p0 - p1) * min(radius / np.linalg.norm(p0 - p1), 0.5)
        b = p1 + (p2 - p1) * min(radius / np.linalg.norm(p2 - p1), 0.5)
        for t in np.linspace(0.0, 1.0, steps + 1):
            out.append((1 - t) ** 2 * a + 2 * (1 - t) * t * p1 + t**2 * b)
    out.append(points[-1])
    return np.asarray(out)


def paraboloid(radius: float, depth: float, nseg: int, nring: int, up: bool, offset: float = 0.0):
    """Dish surface z = depth (rho / radius)^2 + offset, facing +z (concave side) or -z."""
    th = np.linspace(0.0, 2 * np.pi, nseg + 1)
    rho = np.linspace(0.0, radius, nring + 1)
    Rg, T = np.meshgrid(rho, th, indexing="ij")
    P = np.stack([Rg * np.cos(T), Rg * np.sin(T), depth * (Rg / radius) ** 2 + offset], -1)
    UV = P[..., :2] / max(radius, 1e-6)
    if up:  # d/drho x d/dtheta points +z
        return _grid(P, UV)
    return _grid(P.transpose(1, 0, 2), UV.transpose(1, 0, 2))


# --------------------------------------------------------------------------------------------
# Transforms
# --------------------------------------------------------------------------------------------


def rot_z_to(direction: F64, spin: float = 0.0) -> F64:
    """Rotation (3, 3) taking local +z to ``direction``, spun by ``spin`` radians about it."""
    z = np.asarray(direction, np.float64)
    z = z / np.linalg.norm(z)
    helper = np.array([0.0, 0.0, 1.0]) if abs(z[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    c, s = math.cos(spin), math.sin(spin)
    return np.column_stack([c * x + s * y, -s * x + c * y, z])


def affine(rotation: F64 | None = None, translation=(0.0, 0.0, 0.0), scale=1.0) -> F64:
    m = np.eye(4)
    m[:3, :3] = (np.eye(3) if rotation is None else np.asarray(rotation)) * np.asarray(scale)
    m[:3, 3] = translation
    return m


def rot_axis(axis, angle: float) -> F64:
    a = np.asarray(axis, np.float64)
    a = a / np.linalg.norm(a)
    K = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + math.sin(angle) * K + (1 - math.cos(angle)) * K @ K


def random_rotation(rng: np.random.Generator) -> F64:
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


# --------------------------------------------------------------------------------------------
# A mesh under construction: pieces with a material slot and a smooth flag, welded per piece.
# --------------------------------------------------------------------------------------------


@dataclass
class Geo:
    slots: list[str] = field(default_factory=list)
    verts: list[F64] = field(default_factory=list)
    tris: list[np.ndarray] = field(default_factory=list)
    uvs: list[F64] = field(default_factory=list)
    smooth: list[np.ndarray] = field(default_factory=list)
    slot_of: list[np.ndarray] = field(default_factory=list)
    n_verts: int = 0

    def add(self, piece, material: str, smooth: bool, matrix: F64 | None = None) -> Geo:
        tris, uvs = piece
        pos = tris.reshape(-1, 3)
        if matrix is not None:
            pos = pos @ matrix[:3, :3].T + matrix[:3, 3]
        key = np.round(pos * 1e5).astype(np.int64)  # weld corners closer than 10 um
        uniq, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
        del uniq
        faces = inverse.reshape(-1, 3)
        keep = (
            (faces[:, 0] != faces[:, 1])
            & (faces[:, 1] != faces[:, 2])
            & (faces[:, 0] != faces[:, 2])
        )
        if material not in self.slots:
            self.slots.append(material)
        self.verts.append(pos[first])
        self.tris.append(faces[keep] + self.n_verts)
        self.uvs.append(uvs[keep])
        self.smooth.append(np.full(int(keep.sum()), smooth))
        self.slot_of.append(np.full(int(keep.sum()), self.slots.index(material)))
        self.n_verts += len(first)
        return self

    @property
    def n_tris(self) -> int:
        return int(sum(len(t) for t in self.tris))


def link_geo(bpy: Any, collection: Any, name: str, geo: Geo, materials: dict[str, Any], index: int):
    """Create a mesh object from ``geo`` (world coordinates, identity transform)."""
    verts = np.concatenate(geo.verts).astype(np.float32)
    faces = np.concatenate(geo.tris).astype(np.int32)
    uvs = np.concatenate(geo.uvs).astype(np.float32)
    mesh = bpy.data.meshes.new(name)
    mesh.vertices.add(len(verts))
    mesh.vertices.foreach_set("co", verts.ravel())
    mesh.loops.add(faces.size)
    mesh.loops.foreach_set("vertex_index", faces.ravel())
    mesh.polygons.add(len(faces))
    mesh.polygons.foreach_set("loop_start", np.arange(0, faces.size, 3, dtype=np.int32))
    mesh.polygons.foreach_set("use_smooth", np.concatenate(geo.smooth))
    mesh.polygons.foreach_set("material_index", np.concatenate(geo.slot_of).astype(np.int32))
    layer = mesh.uv_layers.new(name="UVMap")
    layer.data.foreach_set("uv", uvs.ravel())
    for slot in geo.slots:
        mesh.materials.append(materials[slot])
    mesh.update()
    mesh.validate()
    obj = bpy.data.objects.new(name, mesh)
    collection.objects.link(obj)
    obj.pass_index = index
    return obj


# --------------------------------------------------------------------------------------------
# Textures (numpy) -> packed Blender images
# --------------------------------------------------------------------------------------------


def _periodic_blur(noise: F64, sigma: float) -> F64:
    n = noise.shape[0]
    f = np.fft.fftfreq(n)
    g = np.exp(-2 * (np.pi * sigma) ** 2 * (f[:, None] ** 2 + f[None, :] ** 2))
    return np.real(np.fft.ifft2(np.fft.fft2(noise) * g))


def _srgb_encode(linear: F64) -> F64:
    x = np.clip(linear, 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)


def foil_normal_map(size: int = 1024, seed: int = 7) -> np.ndarray:
    """Tangent-space normal map (uint8 RGB, top row first) of crinkled, quilted MLI foil.

    One tile is 1 m x 1 m: crinkles of 1-10 cm (smoothed random height, folded
    with abs() into creases) and a quilting seam along the tile border.
    """
    rng = np.random.default_rng(seed)
    h = np.zeros((size, size))
    for sigma, weight in ((6.0, 0.25), (16.0, 1.0), (40.0, 2.5), (110.0, 5.0)):
        layer = _periodic_blur(rng.normal(size=(size, size)), sigma)
        h += weight * layer / layer.std()
    crease = _periodic_blur(rng.normal(size=(size, size)), 22.0)
    h += 2.0 * np.abs(crease / crease.std())
    h *= 1.2 / size  # height in tile units: slopes of ~10-20 degrees
    d = np.minimum(np.arange(size), size - np.arange(size)) / size  # distance to the seam
    seam = 0.012 * np.exp(-((d / 0.006) ** 2))
    h -= seam[None, :] + seam[:, None]
    # gradients per unit of u (columns) and v (rows go down: v decreases)
    dh_du = (np.roll(h, -1, 1) - np.roll(h, 1, 1)) * size / 2
    dh_dv = -(np.roll(h, -1, 0) - np.roll(h, 1, 0)) * size / 2
    n = np.stack([-dh_du, -dh_dv, np.ones_like(h)], -1)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    return np.clip(np.rint((n * 0.5 + 0.5) * 255), 0, 255).astype(np.uint8)


def solar_texture(size: int = 1024, cells: int = 8, seed: int = 3) -> np.ndarray:
    """Base colour (sRGB uint8 RGB): a 1 m tile of cells x cells solar cells with bus lines."""
    rng = np.random.default_rng(seed)
    cell = size // cells
    lin = np.zeros((size, size, 3))
    tint = rng.uniform(0.85, 1.15, size=(cells, cells))
    base = np.array([0.018, 0.028, 0.085])
    yy, xx = np.mgrid[0:size, 0:size]
    lin[:] = base * tint[yy // cell, xx // cell][..., None]
    cy, cx = yy % cell, xx % cell
    fingers = (cx % (cell // 16)) == 0
    lin[fingers] = lin[fingers] * 0.5 + 0.5 * np.array([0.25, 0.25, 0.27])
    bus = (np.abs(cy - cell // 4) <= 1) | (np.abs(cy - 3 * cell // 4) <= 1)
    lin[bus] = (0.62, 0.62, 0.64)
    gap = (cx < 3) | (cy < 3)
    lin[gap] = (0.55, 0.55, 0.57)
    return np.rint(_srgb_encode(lin) * 255).astype(np.uint8)


def cubesat_texture(size: int = 256) -> np.ndarray:
    """Base colour of a cubesat side (sRGB uint8): two dark cells in a black-anodised frame."""
    lin = np.full((size, size, 3), 0.03)
    m = size // 10
    for top, bottom in ((m, size // 2 - m // 2), (size // 2 + m // 2, size - m)):
        lin[top:bottom, m : size - m] = (0.02, 0.03, 0.11)
        lin[top + 4 : top + 7, m : size - m] = (0.7, 0.6, 0.35)  # gold-ish interconnect
    lin[: m // 3] = lin[-m // 3 :] = (0.5, 0.5, 0.52)  # bare aluminium rails
    return np.rint(_srgb_encode(lin) * 255).astype(np.uint8)


def packed_image(bpy: Any, name: str, rgb: np.ndarray, *, non_color: bool) -> Any:
    """A Blender image from an RGB uint8 array (top row first), packed into the file as PNG."""
    h, w = rgb.shape[:2]
    image = bpy.data.images.new(name, w, h, alpha=False, float_buffer=False)
    if non_color:
        image.colorspace_settings.name = "Non-Color"
    rgba = np.ones((h, w, 4), np.float32)
    rgba[..., :3] = rgb[::-1].astype(np.float32) / 255.0  # Blender stores the bottom row first
    image.pixels.foreach_set(rgba.ravel())
    image.file_format = "PNG"
    image.pack()
    return image


# --------------------------------------------------------------------------------------------
# Materials
# --------------------------------------------------------------------------------------------


def principled(
    bpy: Any,
    name: str,
    base: tuple[float, float, float],
    metallic: float,
    roughness: float,
    *,
    base_image: Any = None,
    normal_image: Any = None,
    normal_strength: float = 1.0,
    specular_level: float = 0.5,
) -> Any:
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    mat.pass_index = MATERIAL_IDS[name]
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    bsdf = nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (*base, 1.0)
    bsdf.inputs["Metallic"].default_value = metallic
    bsdf.inputs["Roughness"].default_value = roughness
    bsdf.inputs["Specular IOR Level"].default_value = specular_level
    if base_image is not None:
        tex = nodes.new("ShaderNodeTexImage")
        tex.image = base_image
        tex.location = (-500, 300)
        links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    if normal_image is not None:
        tex = nodes.new("ShaderNodeTexImage")
        tex.image = normal_image
        tex.location = (-700, -300)
        nmap = nodes.new("ShaderNodeNormalMap")
        nmap.location = (-350, -300)
        nmap.uv_map = "UVMap"
        nmap.inputs["Strength"].default_value = normal_strength
        links.new(tex.outputs["Color"], nmap.inputs["Color"])
        links.new(nmap.outputs["Normal"], bsdf.inputs["Normal"])
    return mat


GOLD = (1.0, 0.71, 0.29)


def station_materials(bpy: Any) -> dict[str, Any]:
    foil = packed_image(bpy, "foil_normal", foil_normal_map(), non_color=True)
    solar = packed_image(bpy, "solar_cells", solar_texture(), non_color=False)
    return {
        "gold_mli": principled(bpy, "gold_mli", GOLD, 1.0, 0.3, normal_image=foil),
        "silver_mli": principled(
            bpy,
            "silver_mli",
            (0.91, 0.92, 0.92),
            1.0,
            0.25,
            normal_image=foil,
            normal_strength=0.7,
        ),
        "white_paint": principled(bpy, "white_paint", (0.8, 0.8, 0.8), 0.0, 0.5),
        "solar_array": principled(bpy, "solar_array", (1.0, 1.0, 1.0), 0.0, 0.2, base_image=solar),
        "truss_metal": principled(bpy, "truss_metal", (0.6, 0.6, 0.6), 1.0, 0.45),
        "array_back": principled(bpy, "array_back", (0.55, 0.55, 0.52), 0.0, 0.7),
        "handrail_yellow": principled(bpy, "handrail_yellow", (0.8, 0.55, 0.05), 0.0, 0.4),
        "dark_metal": principled(bpy, "dark_metal", (0.12, 0.12, 0.13), 1.0, 0.4),
        "radiator_white": principled(bpy, "radiator_white", (0.85, 0.85, 0.85), 0.0, 0.5),
    }


# --------------------------------------------------------------------------------------------
# The station (a Gateway-like stack along Blender's x axis)
# --------------------------------------------------------------------------------------------

X = np.array([1.0, 0.0, 0.0])
Y = np.array([0.0, 1.0, 0.0])
Z = np.array([0.0, 0.0, 1.0])


def _module(
    geo: Geo,
    material: str,
    origin: F64,
    axis: F64,
    radius: float,
    length: float,
    *,
    cone: tuple[float, float] | None = None,
    ribs: int = 0,
    nseg: int = 96,
):
    """A cylindrical module along ``axis`` centred at ``origin``; white end cones, white ribs."""
    R = rot_z_to(axis)
    M = affine(R, origin)
    nring = max(4, int(length / 0.25))
    geo.add(
        frustum_side(radius, radius, -length / 2, length / 2, nseg, nring, 1.0), material, True, M
    )
    ends = []
    for sign in (-1.0, 1.0):
        z0 = sign * length / 2
        if cone is None:
            geo.add(disk(radius, z0, nseg, sign > 0, 1.0), "white_paint", False, M)
            ends.append(origin + sign * axis * length / 2)
            continue
        cl, r_end = cone
        z1 = z0 + sign * cl
        side = frustum_side(radius, r_end, z0, z1, nseg, 6, 1.0)
        if sign < 0:  # parameters run from z0 down to z1: flip the winding
            side = (side[0][:, ::-1], side[1][:, ::-1])
        geo.add(side, "white_paint", True, M)
        geo.add(disk(r_end, z1, nseg, sign > 0, 1.0), "white_paint", False, M)
        ends.append(origin + sign * axis * (length / 2 + cl))
    for k in range(ribs):
        z = -length / 2 + length * (k + 1) / (ribs + 1)
        rib = frustum_side(radius + 0.04, radius + 0.04, z - 0.08, z + 0.08, nseg, 1, 1.0)
        geo.add(rib, "white_paint", True, M)
    return ends


def _handrail(geo: Geo, base: F64, normal: F64, along: F64, length: float, h: float = 0.12):
    n = normal / np.linalg.norm(normal)
    a = along / np.linalg.norm(along)
    pts = [base, base + h * n, base + h * n + length * a, base + length * a]
    path = rounded_polyline(np.asarray(pts), 0.04, 3)
    side, caps = tube(path, 0.018, 8, 0.1)
    geo.add(side, "handrail_yellow", True)
    geo.add(caps, "handrail_yellow", False)


def _rails_on_cylinder(geo: Geo, origin, axis, radius, length, angles, count):
    R = rot_z_to(axis)
    for ang in angles:
        radial = R @ np.array([math.cos(ang), math.sin(ang), 0.0])
        for k in range(count):
            z = -length / 2 + 0.4 + k * (length - 0.8) / count
            base = origin + R @ np.array([0.0, 0.0, z]) + radial * radius
            _handrail(geo, base, radial, axis, 0.8 * (length - 0.8) / count)


def _beam(geo: Geo, p0, p1, radius, material, nsides=6):
    side, caps = tube(np.stack([p0, p1]), radius, nsides, 0.5)
    geo.add(side, material, True)
    geo.add(caps, material, False)


def _truss(geo: Geo, start: F64, direction: F64, length: float, width: float, bays: int):
    """A square lattice truss: 4 longerons, battens at every bay, alternating diagonals."""
    d = direction / np.linalg.norm(direction)
    R = rot_z_to(d)
    u, v = R[:, 0], R[:, 1]
    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
    pts = [
        [start + d * (length * b / bays) + 0.5 * width * (cu * u + cv * v) for cu, cv in corners]
        for b in range(bays + 1)
    ]
    for c in range(4):
        for b in range(bays):
            _beam(geo, pts[b][c], pts[b + 1][c], 0.045, "truss_metal", 8)
    for b in range(bays + 1):
        for c in range(4):
            _beam(geo, pts[b][c], pts[b][(c + 1) % 4], 0.03, "truss_metal")
        _beam(geo, pts[b][0], pts[b][2], 0.02, "truss_metal")
    for b in range(bays):
        for c in range(4):
            a, e = (c, (c + 1) % 4) if b % 2 == 0 else ((c + 1) % 4, c)
            _beam(geo, pts[b][a], pts[b + 1][e], 0.022, "truss_metal")
    return pts


def _wing(geo: Geo, root: F64, span_dir: F64, normal: F64, width: float, span: float):
    """A solar array wing: boom, textured blanket panels (front) with a frame."""
    s = span_dir / np.linalg.norm(span_dir)
    n = normal - np.dot(normal, s) * s
    n /= np.linalg.norm(n)
    w = np.cross(s, n)
    boom_len = 3.0
    _beam(geo, root, root + s * (boom_len + span), 0.09, "truss_metal", 12)
    panels = 4
    gap = 0.25
    plen = (span - gap * (panels - 1)) / panels
    for k in range(panels):
        c = root + s * (boom_len + k * (plen + gap) + plen / 2)
        rot = np.column_stack([w, s, n])  # local x = across, y = along span, z = normal
        M = affine(rot, c)
        faces = box_faces((width, plen, 0.04), 1.0)
        for name, piece in faces.items():
            mat = "solar_array" if name == "+z" else "array_back"
            geo.add(piece, mat, False, M)
        for sgn in (-1.0, 1.0):  # frame rails along the span
            edge = c + sgn * w * (width / 2 + 0.04)
            _beam(geo, edge - s * plen / 2, edge + s * plen / 2, 0.035, "truss_metal")
        for t in (-0.5, 0.5):
            e0 = c + s * plen * t
            _beam(geo, e0 - w * width / 2, e0 + w * width / 2, 0.03, "truss_metal")


def _dish(geo: Geo, base: F64, direction: F64, radius: float, mast: float):
    d = direction / np.linalg.norm(direction)
    top = base + d * mast
    _beam(geo, base, top, 0.05, "truss_metal", 8)
    M = affine(rot_z_to(d), top)
    depth = 0.35 * radius
    geo.add(paraboloid(radius, depth, 48, 10, True), "white_paint", True, M)
    geo.add(paraboloid(radius, depth, 48, 10, False, offset=-0.03), "silver_mli", True, M)
    rim = frustum_side(radius, radius, depth - 0.03, depth, 48, 1, 1.0)
    geo.add(rim, "white_paint", True, M)
    feed = affine(rot_z_to(d), top + d * depth * 1.4)
    geo.add(box((0.12, 0.12, 0.2), 0.2), "dark_metal", False, feed)
    for ang in (0.0, 2.1, 4.2):
        r = M[:3, :3] @ np.array([math.cos(ang), math.sin(ang), 0.0])
        _beam(geo, top + r * radius * 0.95 + d * depth, top + d * depth * 1.4, 0.012, "truss_metal")


@dataclass
class StationInfo:
    objects: list[str]
    triangles: int
    interest: list[list[float]]  # look-at targets, Blender frame
    bounds: list[list[float]]  # Blender frame (2, 3)


def build_station(bpy: Any, collection: Any) -> StationInfo:
    """Build the station into ``collection`` (Blender frame); deterministic."""
    mats = station_materials(bpy)
    parts: dict[str, Geo] = {}

    def geo(name: str) -> Geo:
        return parts.setdefault(name, Geo())

    interest: list[F64] = []
    # Habitation module: gold MLI, 4.4 m diameter, 7 m long, along +x, white end cones.
    halo = np.array([0.0, 0.0, 0.0])
    _module(geo("habitation"), "gold_mli", halo, X, 2.2, 7.0, cone=(1.0, 1.0), ribs=3)
    _rails_on_cylinder(geo("handrails"), halo, X, 2.26, 7.0, (0.3, 1.4, 2.6, 3.6, 4.9), 3)
    interest += [halo, halo + 2.5 * X, halo - 2.5 * X]
    # tunnels on both ends
    for sign in (-1.0, 1.0):
        c = halo + sign * X * 4.8
        _module(geo("tunnels"), "truss_metal", c, X, 0.85, 0.6, nseg=48)
    # Spherical node (silver foil), ports on +x, +y (tilted logistics), -z.
    node = np.array([6.9, 0.0, 0.0])
    g = geo("node")
    g.add(sphere(1.8, 96, 48, 1.0), "silver_mli", True, affine(None, node))
    interest.append(node)
    for d in (X, Z, -Y):
        _module(geo("node_ports"), "white_paint", node + d * 1.95, d, 0.75, 0.6, nseg=48)
    # docking ring on the node's +x port: torus + annulus plate + guide petals
    ring_c = node + X * 2.35
    M = affine(rot_z_to(X), ring_c)
    geo("docking_ring").add(torus(0.8, 0.09, 64, 16, 0.5), "truss_metal", True, M)
    geo("docking_ring").add(disk(0.8, 0.0, 64, True, 1.0, r_in=0.55), "white_paint", False, M)
    for k in range(3):
        ang = k * 2 * np.pi / 3
        r = rot_z_to(X) @ np.array([math.cos(ang), math.sin(ang), 0.0])
        petal = affine(rot_z_to(r, 0.0), ring_c + r * 0.62 + X * 0.18)
        geo("docking_ring").add(box((0.3, 0.04, 0.05), 0.5), "truss_metal", False, petal)
    interest.append(ring_c)
    # Logistics module on the node's +y side, tilted 35 degrees up (white paint, gold cap).
    log_axis = np.array([0.0, math.cos(math.radians(35)), math.sin(math.radians(35))])
    log_c = node + log_axis * (1.7 + 3.0)
    ends = _module(
        geo("logistics"), "white_paint", log_c, log_axis, 1.5, 5.5, cone=(0.7, 0.8), ribs=2
    )
    geo("logistics_cap").add(
        sphere(0.8, 48, 12, 1.0, 0.0, 90.0), "gold_mli", True, affine(rot_z_to(log_axis), ends[1])
    )
    _rails_on_cylinder(geo("handrails"), log_c, log_axis, 1.56, 5.5, (0.0, 2.0, 4.2), 2)
    interest += [log_c, ends[1]]
    # Refuelling module (gold MLI) aft of the habitation, then the propulsion bus.
    esp = np.array([-7.0, 0.0, 0.0])
    _module(geo("refuelling"), "gold_mli", esp, X, 1.9, 3.0, ribs=1)
    _rails_on_cylinder(geo("handrails"), esp, X, 1.96, 3.0, (0.8, 2.4, 4.0), 1)
    interest.append(esp)
    # Propulsion bus: octagonal prism (silver foil, flat facets) with thrusters.
    bus = np.array([-10.8, 0.0, 0.0])
    Mb = affine(rot_z_to(X, math.pi / 8), bus)
    g = geo("propulsion_bus")
    g.add(frustum_side(2.0, 2.0, -2.3, 2.3, 8, 8, 1.0), "silver_mli", False, Mb)
    g.add(disk(2.0, 2.3, 8, True, 1.0), "white_paint", False, Mb)
    g.add(disk(2.0, -2.3, 8, False, 1.0), "white_paint", False, Mb)
    interest.append(bus)
    for k in range(4):  # thruster nozzles on the aft face
        ang = k * np.pi / 2 + np.pi / 4
        c = bus - X * 2.3 + 1.1 * (Y * math.cos(ang) + Z * math.sin(ang))
        Mn = affine(rot_z_to(-X), c)
        geo("thrusters").add(frustum_side(0.12, 0.35, 0.0, 0.6, 32, 3, 0.5), "dark_metal", True, Mn)
        inner = frustum_side(0.11, 0.33, 0.0, 0.6, 32, 3, 0.5)
        geo("thrusters").add((inner[0][:, ::-1], inner[1][:, ::-1]), "dark_metal", True, Mn)
    # Two large solar wings on booms along +-y from the bus, tilted towards +z.
    for sgn in (-1.0, 1.0):
        root = bus + sgn * Y * 2.0 + Z * 0.3
        normal = rot_axis(Y, math.radians(20)) @ Z
        _wing(geo("solar_wings"), root, sgn * Y, normal, 4.6, 15.0)
        interest.append(root + sgn * Y * 10.0)
    # Lattice truss from the habitation module's -y side, with radiators and a dish at its end.
    t0 = halo - Y * 2.2 - Y * 0.2
    _beam(geo("truss"), halo - Y * 2.0, t0, 0.15, "truss_metal", 16)
    pts = _truss(geo("truss"), t0, -Y, 18.0, 1.1, 12)
    interest += [t0 - Y * 6.0, t0 - Y * 14.0]
    for sgn in (-1.0, 1.0):
        for y0 in (6.0, 13.0):
            c = t0 - Y * (y0 + 0.5) + sgn * X * 2.1
            rot = rot_axis(Y, sgn * math.radians(15))
            geo("radiators").add(
                box((2.8, 4.2, 0.06), 1.0), "radiator_white", False, affine(rot, c)
            )
            for dy in (-1.5, 1.5):
                inner = c + rot @ np.array([-sgn * 1.3, dy, -0.03])
                start = t0 - Y * (y0 + 0.5 - dy) + sgn * X * 0.55
                _beam(geo("radiators"), start, inner, 0.04, "truss_metal")
    end = pts[-1]
    tip = np.mean(end, axis=0)
    _dish(geo("dish"), tip, -Y + 0.6 * Z, 1.3, 1.2)
    interest.append(tip)
    # Antennas on the habitation module: a small dish and two whips.
    _dish(geo("antennas"), halo + Z * 2.2 + X * 1.5, Z + 0.3 * Y, 0.5, 0.6)
    for dx in (-2.0, 0.5):
        base = halo + Z * 2.2 + X * dx
        _beam(geo("antennas"), base, base + Z * 2.2 + Y * 0.3, 0.02, "truss_metal", 6)
    # Handrails along the node.
    for ang in np.linspace(0.4, 5.9, 6):
        r = np.array([0.0, math.cos(ang), math.sin(ang)])
        base = node + r * 1.8 * 0.98 - X * 0.6
        _handrail(geo("handrails"), base, r, X, 1.0)
    objects = []
    for name, gg in parts.items():
        objects.append(link_geo(bpy, collection, name, gg, mats, STATION_LABEL).name)
    verts = np.concatenate([np.concatenate(gg.verts) for gg in parts.values()])
    return StationInfo(
        objects=objects,
        triangles=int(sum(gg.n_tris for gg in parts.values())),
        interest=[list(map(float, p)) for p in interest],
        bounds=[verts.min(0).tolist(), verts.max(0).tolist()],
    )


# --------------------------------------------------------------------------------------------
# Hazards (label 2), built at the origin, sized to ``size`` metres (largest extent)
# --------------------------------------------------------------------------------------------

HAZARD_KINDS = ("cubesat", "blanket", "cable", "tool", "glove", "smallsat")


def hazard_materials(bpy: Any) -> dict[str, Any]:
    foil = bpy.data.images.get("foil_normal")
    solar = bpy.data.images.get("solar_cells")
    panel = bpy.data.images.get("cubesat_panel") or packed_image(
        bpy, "cubesat_panel", cubesat_texture(), non_color=False
    )
    specs: dict[str, Callable[[], Any]] = {
        "hz_cubesat_panel": lambda: principled(
            bpy, "hz_cubesat_panel", (1, 1, 1), 0.0, 0.3, base_image=panel
        ),
        "hz_grey_metal": lambda: principled(bpy, "hz_grey_metal", (0.5, 0.5, 0.52), 1.0, 0.35),
        "hz_gold_foil": lambda: principled(
            bpy,
            "hz_gold_foil",
            (1.0, 0.68, 0.25),
            1.0,
            0.25,
            normal_image=foil,
            normal_strength=1.5,
        ),
        "hz_silver_foil": lambda: principled(
            bpy,
            "hz_silver_foil",
            (0.9, 0.9, 0.92),
            1.0,
            0.2,
            normal_image=foil,
            normal_strength=1.5,
        ),
        "hz_white_fabric": lambda: principled(
            bpy, "hz_white_fabric", (0.85, 0.85, 0.82), 0.0, 0.9, specular_level=0.2
        ),
        "hz_black": lambda: principled(bpy, "hz_black", (0.03, 0.03, 0.03), 0.0, 0.5),
        "hz_orange": lambda: principled(bpy, "hz_orange", (0.9, 0.3, 0.03), 0.0, 0.45),
        "hz_white_plastic": lambda: principled(
            bpy, "hz_white_plastic", (0.75, 0.75, 0.72), 0.0, 0.35
        ),
        "hz_solar": lambda: principled(bpy, "hz_solar", (1, 1, 1), 0.0, 0.15, base_image=solar),
    }
    return {k: bpy.data.materials.get(k) or make() for k, make in specs.items()}


def _cubesat(rng: np.random.Generator) -> Geo:
    units = int(rng.choice([1, 2, 3, 6]))
    size = (0.1, 0.1, 0.1 * units) if units < 6 else (0.1, 0.2, 0.3)
    g = Geo()
    faces = box_faces(size, None)
    for name, piece in faces.items():
        g.add(piece, "hz_cubesat_panel" if name[1] != "z" else "hz_grey_metal", False)
    hx, hy, hz = (0.5 * s for s in size)
    for sx in (-1, 1):
        for sy in (-1, 1):
            c = np.array([sx * hx, sy * hy, 0.0])
            g.add(box((0.012, 0.012, 2 * hz + 0.016), 0.1), "hz_grey_metal", False, affine(None, c))
    _beam(g, np.array([0, 0, hz]), np.array([0.02, 0.0, hz + 0.25]), 0.003, "hz_grey_metal", 6)
    return g


def _blanket(rng: np.random.Generator) -> Geo:
    n = 40
    s, t = np.meshgrid(np.linspace(-0.5, 0.5, n + 1), np.linspace(-0.4, 0.4, n + 1), indexing="ij")
    hgt = np.zeros_like(s)
    for sigma, amp in ((2.0, 0.015), (5.0, 0.05), (12.0, 0.12)):
        noise = _periodic_blur(rng.normal(size=(64, 64)), sigma)[: n + 1, : n + 1]
        hgt += amp * noise / noise.std()
    fold = rng.uniform(-0.5, 0.5)
    hgt += 0.25 * np.maximum(0.0, s * math.cos(fold) + t * math.sin(fold) - 0.1)  # a curled edge
    P = np.stack([s, t, hgt], -1)
    UV = np.stack([s, t], -1) * 2.0
    mat = str(rng.choice(["hz_gold_foil", "hz_silver_foil", "hz_white_fabric"]))
    return Geo().add(_grid(P, UV), mat, True)


def hazard_curve_object(bpy, collection, rng: np.random.Generator, size: float, materials):
    """A cable: a thick Bezier curve converted to a mesh."""
    n = 7
    steps = rng.normal(size=(n, 3))
    steps[0] = (1.0, 0.0, 0.0)
    for i in range(1, n):
        steps[i] = 0.6 * steps[i - 1] + 0.8 * steps[i] / np.linalg.norm(steps[i])
    pts = np.cumsum(steps / np.linalg.norm(steps, axis=1, keepdims=True), axis=0)
    pts -= pts.mean(0)
    pts *= size / np.max(np.ptp(pts, axis=0))
    curve = bpy.data.curves.new("cable_curve", "CURVE")
    curve.dimensions = "3D"
    curve.bevel_depth = float(rng.uniform(0.012, 0.025)) * max(1.0, size / 1.5)
    curve.bevel_resolution = 3
    curve.resolution_u = 8
    curve.use_fill_caps = True
    spline = curve.splines.new("BEZIER")
    spline.bezier_points.add(n - 1)
    for bp, p in zip(spline.bezier_points, pts, strict=True):
        bp.co = p.tolist()
        bp.handle_left_type = bp.handle_right_type = "AUTO"
    tmp = bpy.data.objects.new("cable_tmp", curve)
    collection.objects.link(tmp)
    depsgraph = bpy.context.evaluated_depsgraph_get()
    mesh = bpy.data.meshes.new_from_object(tmp.evaluated_get(depsgraph))
    bpy.data.objects.remove(tmp)
    bpy.data.curves.remove(curve)
    mesh.name = "hazard_cable"
    mesh.materials.clear()
    mesh.materials.append(materials[str(rng.choice(["hz_black", "hz_orange", "hz_white_plastic"]))])
    for poly in mesh.polygons:
        poly.use_smooth = True
    obj = bpy.data.objects.new("hazard", mesh)
    collection.objects.link(obj)
    return obj


def _tool(rng: np.random.Generator) -> Geo:
    g = Geo()
    grip = str(rng.choice(["hz_orange", "hz_black"]))
    side, caps = tube(np.array([[0, 0, -0.12], [0, 0, 0.06]]), 0.022, 16, 0.1)
    g.add(side, grip, True).add(caps, grip, False)
    g.add(
        box((0.07, 0.08, 0.16), 0.1),
        "hz_grey_metal",
        False,
        affine(rot_axis(X, math.pi / 2), (0.0, 0.05, 0.1)),
    )
    side, caps = tube(np.array([[0, 0.13, 0.1], [0, 0.22, 0.1]]), 0.012, 12, 0.1)
    g.add(side, "hz_grey_metal", True).add(caps, "hz_grey_metal", False)
    g.add(box((0.02, 0.03, 0.05), 0.1), grip, False, affine(None, (0.0, 0.03, 0.03)))
    return g


def _glove(rng: np.random.Generator) -> Geo:
    g = Geo()
    mat = str(rng.choice(["hz_white_fabric", "hz_white_fabric", "hz_black"]))
    g.add(sphere(1.0, 32, 16, 0.2), mat, True, affine(np.diag([0.05, 0.035, 0.075]), (0, 0, 0)))
    for k, dx in enumerate((-0.036, -0.012, 0.012, 0.036)):
        bend = rng.uniform(0.0, 0.7)
        length = (0.065, 0.075, 0.072, 0.06)[k]
        pts = [
            (dx, 0.0, 0.06),
            (dx, 0.0, 0.06 + 0.5 * length),
            (dx, -0.5 * length * math.sin(bend), 0.06 + 0.5 * length * (1 + math.cos(bend))),
        ]
        side, _ = tube(np.array(pts), 0.011, 12, 0.1, caps=False)
        g.add(side, mat, True)
        for p in (pts[0], pts[-1]):
            g.add(sphere(0.011, 12, 6, 0.1), mat, True, affine(None, p))
    pts = [(0.045, 0.0, 0.0), (0.075, -0.01, 0.03), (0.085, -0.02, 0.06)]
    side, _ = tube(np.array(pts), 0.013, 12, 0.1, caps=False)
    g.add(side, mat, True)
    g.add(sphere(0.013, 12, 6, 0.1), mat, True, affine(None, pts[-1]))
    cuff = frustum_side(0.055, 0.06, -0.16, -0.06, 32, 2, 0.2)
    g.add(cuff, str(rng.choice(["hz_white_fabric", "hz_grey_metal"])), True)
    g.add(disk(0.055, -0.16, 32, False, 0.2), "hz_grey_metal", False)
    return g


def _smallsat(rng: np.random.Generator) -> Geo:
    g = Geo()
    body = str(rng.choice(["hz_gold_foil", "hz_silver_foil", "hz_white_plastic"]))
    g.add(box((0.6, 0.6, 0.7), 0.5), body, False)
    for sgn in (-1.0, 1.0):
        M = affine(None, (sgn * 0.85, 0.0, 0.0))
        faces = box_faces((1.0, 0.5, 0.02), 0.5)
        for name, piece in faces.items():
            g.add(piece, "hz_solar" if name == "+z" else "hz_grey_metal", False, M)
        _beam(g, np.array([sgn * 0.3, 0, 0]), np.array([sgn * 0.36, 0, 0]), 0.02, "hz_grey_metal")
    M = affine(None, (0.0, 0.0, 0.38))
    g.add(paraboloid(0.22, 0.07, 24, 5, True), "hz_white_plastic", True, M)
    g.add(paraboloid(0.22, 0.07, 24, 5, False, offset=-0.01), "hz_grey_metal", True, M)
    return g


_BUILDERS = {
    "cubesat": _cubesat,
    "blanket": _blanket,
    "tool": _tool,
    "glove": _glove,
    "smallsat": _smallsat,
}
HAZARD_SIZES = {  # largest extent (m) range
    "cubesat": (0.25, 0.7),
    "blanket": (0.6, 1.8),
    "cable": (0.8, 2.0),
    "tool": (0.25, 0.5),
    "glove": (0.25, 0.4),
    "smallsat": (1.2, 2.0),
}


def build_hazard(bpy: Any, collection: Any, kind: str, rng: np.random.Generator, size: float):
    """A hazard object at the origin (largest extent ``size``), label 2; returns (obj, radius)."""
    materials = hazard_materials(bpy)
    if kind == "cable":
        obj = hazard_curve_object(bpy, collection, rng, size, materials)
    else:
        g = _BUILDERS[kind](rng)
        verts = np.concatenate(g.verts)
        centre = 0.5 * (verts.min(0) + verts.max(0))
        scale = size / float(np.max(np.ptp(verts, axis=0)))
        g.verts = [(v - centre) * scale for v in g.verts]
        obj = link_geo(bpy, collection, "hazard", g, materials, HAZARD_LABEL)
    obj.pass_index = HAZARD_LABEL
    co = np.empty(len(obj.data.vertices) * 3, np.float32)
    obj.data.vertices.foreach_get("co", co)
    radius = float(np.max(np.linalg.norm(co.reshape(-1, 3), axis=1)))
    return obj, radius


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------

SUN_STRENGTH = math.pi
"""Blender Sun strength per unit of spacead Sun irradiance (a white Lambertian surface facing
it has radiance 1, spacead's unit); a spot lamp of power P gives rho P / (4 pi^2 r^2)."""


@contextlib.contextmanager
def quiet_stdout():
    """Silence what Blender's C code writes to file descriptors 1 and 2 inside the block."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def import_bpy() -> Any:
    """Import bpy quietly (NumPy-ABI and audio noise on start-up)."""
    if "bpy" in sys.modules:
        return sys.modules["bpy"]
    with quiet_stdout():
        bpy = importlib.import_module("bpy")
    return bpy


def read_exr(bpy: Any, path: Path) -> np.ndarray:
    """Pixels of an OpenEXR file written by Blender, float32 (H, W, C), top row first."""
    image = bpy.data.images.load(str(path), check_existing=False)
    try:
        width, height = image.size
        pixels = np.empty(width * height * image.channels, np.float32)
        image.pixels.foreach_get(pixels)
    finally:
        bpy.data.images.remove(image)
    return np.ascontiguousarray(pixels.reshape(height, width, -1)[::-1])


def as_matrix(m: F64):
    import mathutils

    return mathutils.Matrix(np.asarray(m, np.float64).tolist())


def configure_cycles(scene: Any, width: int, height: int) -> None:
    render = scene.render
    render.engine = "CYCLES"
    render.resolution_x, render.resolution_y = width, height
    render.resolution_percentage = 100
    render.pixel_aspect_x = render.pixel_aspect_y = 1.0
    render.use_border = False
    render.film_transparent = False
    render.use_persistent_data = True
    render.threads_mode = "AUTO"
    c = scene.cycles
    c.device = "CPU"
    c.use_animated_seed = False
    c.light_sampling_threshold = 0.01
    c.caustics_reflective = True
    c.caustics_refractive = True
    c.sample_clamp_direct = 0.0
    c.sample_clamp_indirect = 10.0  # Blender's default
    c.blur_glossy = 1.0  # Blender's default (filter glossy)
    c.transmission_bounces = 0
    c.volume_bounces = 0
    c.transparent_max_bounces = 0
    layer = scene.view_layers[0]
    layer.use_pass_object_index = True
    layer.use_pass_material_index = True
    layer.use_pass_z = False
    scene.view_settings.view_transform = "Standard"


def set_bounces(scene: Any, total: int, diffuse: int, glossy: int) -> None:
    c = scene.cycles
    c.max_bounces, c.diffuse_bounces, c.glossy_bounces = total, diffuse, glossy


def _file_outputs(scene: Any, folder: Path, sockets: tuple[str, ...]) -> None:
    scene.use_nodes = True
    tree = scene.node_tree
    tree.nodes.clear()
    layers = tree.nodes.new("CompositorNodeRLayers")
    layers.layer = scene.view_layers[0].name
    out = tree.nodes.new("CompositorNodeOutputFile")
    out.base_path = str(folder)
    out.format.file_format = "OPEN_EXR"
    out.format.color_depth = "32"
    out.format.color_mode = "RGB"
    out.file_slots.clear()
    for name in sockets:
        out.file_slots.new(name)
        tree.links.new(layers.outputs[name], out.inputs[name])


def _render(bpy: Any, scene: Any, folder: Path, sockets: tuple[str, ...]) -> dict[str, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.exr"):
        old.unlink()
    _file_outputs(scene, folder, sockets)
    with quiet_stdout():
        bpy.ops.render.render(write_still=False)
    out = {}
    for name in sockets:
        found = sorted(folder.glob(f"{name}*.exr"))
        if len(found) != 1:
            raise RuntimeError(f"Cycles wrote {len(found)} files for pass {name!r} in {folder}")
        out[name] = read_exr(bpy, found[0])
        found[0].unlink()
    return out


def render_beauty(bpy: Any, scene: Any, folder: Path, *, samples: int, seed: int) -> np.ndarray:
    """Linear radiance (H, W, 3) float32, Cycles units, with the scene's bounce settings."""
    c = scene.cycles
    c.samples = samples
    c.use_adaptive_sampling = True
    c.adaptive_threshold = 0.01
    c.use_denoising = True
    c.denoiser = "OPENIMAGEDENOISE"
    c.denoising_prefilter = "FAST"
    c.denoising_input_passes = "RGB_ALBEDO_NORMAL"
    c.pixel_filter_type = "BLACKMAN_HARRIS"
    c.filter_width = 1.5
    c.seed = seed
    img = _render(bpy, scene, folder, ("Image",))["Image"]
    return np.ascontiguousarray(np.maximum(img[..., :3], 0.0), dtype=np.float32)


def render_labels(bpy: Any, scene: Any, folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Object and material pass indices (uint8, H x W) through pixel centres (one sample)."""
    c = scene.cycles
    saved = (c.max_bounces, c.diffuse_bounces, c.glossy_bounces)
    c.samples = 1
    c.use_adaptive_sampling = False
    c.use_denoising = False
    c.pixel_filter_type = "BOX"
    c.filter_width = 0.01
    c.max_bounces = 0
    out = _render(bpy, scene, folder, ("IndexOB", "IndexMA"))
    c.max_bounces, c.diffuse_bounces, c.glossy_bounces = saved
    ob = np.clip(np.rint(out["IndexOB"][..., 0]), 0, 255).astype(np.uint8)
    ma = np.clip(np.rint(out["IndexMA"][..., 0]), 0, 255).astype(np.uint8)
    return ob, ma
