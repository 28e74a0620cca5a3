r"""glTF 2.0 metallic-roughness shading of ray hits, one light component at a time.

The BRDF is the one the glTF 2.0 specification gives (Appendix B): for unit
normal :math:`n`, view :math:`v`, light :math:`l`, half vector :math:`h`,
roughness :math:`r` (:math:`\alpha = r^2`), base colour :math:`b` and
metalness :math:`m`,

.. math::

    c_{diff} &= (1 - m)\, b, \qquad F_0 = 0.04 (1 - m) + m\, b, \qquad
    F = F_0 + (1 - F_0)(1 - |v \cdot h|)^5 \\
    D &= \frac{\alpha^2}{\pi \left((n \cdot h)^2 (\alpha^2 - 1) + 1\right)^2}, \qquad
    V = \frac{1}{\left(|n \cdot l| + \sqrt{\alpha^2 + (1 - \alpha^2)(n \cdot l)^2}\right)
                 \left(|n \cdot v| + \sqrt{\alpha^2 + (1 - \alpha^2)(n \cdot v)^2}\right)} \\
    f &= (1 - F)\, \frac{c_{diff}}{\pi} + F\, D\, V

(GGX distribution, height-correlated Smith visibility, Schlick's Fresnel).
Materials that give their own :math:`F_0` (OBJ/MTL ``Ks``) replace the metallic
workflow's. Radiance is on spacead's scale, :math:`L = \pi f E (n \cdot l)`, so
a white Lambertian surface facing a unit Sun has radiance 1 (as in
:mod:`spacead.render._shading`). Three components are returned per hit:

- **sun**: :math:`\pi f(l = s)\,(n \cdot s)` times the Sun's visibility;
- **spot**: the camera spotlight, whose light direction is the view direction
  (:math:`h = v`, :math:`F = F_0`), times its cone factor over :math:`r^2`;
- **ambient**: a uniform environment of unit radiance, without occlusion:
  :math:`c_{diff}` plus the specular directional albedo, from Karis's analytic
  fit of the split-sum environment BRDF [1]_.

The kernel is compiled with numba because it fuses, per hit, the vertex-normal
and texture-coordinate interpolation, the texture lookups and three BRDF
evaluations: NumPy would need ~60 full-array passes (measured ~120 ms for 1.3 M
hits), OpenCV has no such operation, and ``cv2.remap`` would need one call per
textured material and tile. It releases the GIL, so the renderer runs it on its
tile threads (no numba thread pool, no oversubscription).

References
----------
.. [1] B. Karis, "Physically Based Shading on Mobile", Unreal Engine blog, 2014.
.. [2] The Khronos Group, "glTF 2.0 Specification", Appendix B: BRDF Implementation.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]

# Columns of the per-material table (one row per material).
BASE, METALLIC, ROUGHNESS, EMISSIVE, F0, HAS_F0, TEX_BASE, TEX_MR, TEX_EMISSIVE = (
    0, 3, 4, 5, 8, 11, 12, 13, 14,
)  # fmt: skip
MATERIAL_COLUMNS = 15
_MIN_ALPHA2 = 1e-6  # alpha^2 floor: roughness 0 would make D a Dirac peak


@numba.njit(cache=True, nogil=True, fastmath=True)
def _texel(
    data: F32, meta: I32, tex: int, u: float, v: float, out: F32
) -> None:  # pragma: no cover
    """Bilinear, wrapped (glTF's default REPEAT) lookup of texture ``tex`` at (u, v)."""
    off, h, w, c = meta[tex, 0], meta[tex, 1], meta[tex, 2], meta[tex, 3]
    x = (u - math.floor(u)) * w - 0.5
    y = (1.0 - v - math.floor(1.0 - v)) * h - 0.5  # trimesh's v is up; rows run down
    x0 = math.floor(x)
    y0 = math.floor(y)
    fx = x - x0
    fy = y - y0
    for k in range(c):
        acc = 0.0
        for dy in range(2):
            yy = (y0 + dy) % h
            wy = fy if dy else 1.0 - fy
            for dx in range(2):
                xx = (x0 + dx) % w
                wx = fx if dx else 1.0 - fx
                acc += wy * wx * data[off + (yy * w + xx) * c + k]
        out[k] = acc


@numba.njit(cache=True, nogil=True, fastmath=True)
def _ggx(ndl: float, ndv: float, ndh: float, alpha2: float) -> float:  # pragma: no cover
    """D · V of the specification's microfacet lobe."""
    t = ndh * ndh * (alpha2 - 1.0) + 1.0
    d = alpha2 / (math.pi * t * t)
    vl = ndl + math.sqrt(alpha2 + (1.0 - alpha2) * ndl * ndl)
    vv = ndv + math.sqrt(alpha2 + (1.0 - alpha2) * ndv * ndv)
    return d / (vl * vv)


@numba.njit(cache=True, nogil=True, fastmath=True)
def shade_hits(  # one fused pass over every hit
    rows: npt.NDArray[np.intp],
    face: I32,
    bary: F32,
    geo_normal: F32,
    view: F32,
    sun_visible: F32,
    spot: F32,
    faces: I32,
    vertex_normals: F32,
    smooth: npt.NDArray[np.bool_],
    uvs: F32,
    face_material: I32,
    materials: F32,
    tex_data: F32,
    tex_meta: I32,
    sun: F32,
    out: F32,
) -> None:  # pragma: no cover - compiled; tested through the renderer
    """Shade mesh hits: ``out[rows[i]] = (sun, spot, ambient, emission)`` RGB of hit ``i``.

    ``out`` has shape (M, 4, 3), M above every row. Per hit: ``face``, its global
    triangle; ``bary``, Embree's (u, v); ``geo_normal``, the unnormalised
    geometric normal; ``view``, the unit direction to the camera;
    ``sun_visible``, the Sun's visibility (0/1) times its strength; ``spot``,
    the spotlight's cone factor over r². Per triangle: ``faces`` (global vertex
    ids), ``smooth`` (the file gave vertex normals), ``face_material``.
    ``sun``: unit vector towards the Sun.
    """
    texel = np.empty(3, np.float32)
    for i in range(face.shape[0]):
        f = face[i]
        o = out[rows[i]]
        vx, vy, vz = view[i, 0], view[i, 1], view[i, 2]
        gx, gy, gz = geo_normal[i, 0], geo_normal[i, 1], geo_normal[i, 2]
        flip = 1.0 if gx * vx + gy * vy + gz * vz >= 0.0 else -1.0  # two-sided: face the camera
        w1, w2 = bary[i, 0], bary[i, 1]
        w0 = 1.0 - w1 - w2
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        if smooth[f]:
            nx = w0 * vertex_normals[a, 0] + w1 * vertex_normals[b, 0] + w2 * vertex_normals[c, 0]
            ny = w0 * vertex_normals[a, 1] + w1 * vertex_normals[b, 1] + w2 * vertex_normals[c, 1]
            nz = w0 * vertex_normals[a, 2] + w1 * vertex_normals[b, 2] + w2 * vertex_normals[c, 2]
        else:
            nx, ny, nz = gx, gy, gz
        inv = flip / max(math.sqrt(nx * nx + ny * ny + nz * nz), 1e-20)
        nx, ny, nz = nx * inv, ny * inv, nz * inv
        mat = materials[face_material[f]]
        u = w0 * uvs[a, 0] + w1 * uvs[b, 0] + w2 * uvs[c, 0]
        v = w0 * uvs[a, 1] + w1 * uvs[b, 1] + w2 * uvs[c, 1]
        br, bg, bb = mat[BASE], mat[BASE + 1], mat[BASE + 2]
        if mat[TEX_BASE] >= 0:
            _texel(tex_data, tex_meta, int(mat[TEX_BASE]), u, v, texel)
            br, bg, bb = br * texel[0], bg * texel[1], bb * texel[2]
        metal, rough = mat[METALLIC], mat[ROUGHNESS]
        if mat[TEX_MR] >= 0:
            _texel(tex_data, tex_meta, int(mat[TEX_MR]), u, v, texel)
            rough, metal = rough * texel[0], metal * texel[1]
        er, eg, eb = mat[EMISSIVE], mat[EMISSIVE + 1], mat[EMISSIVE + 2]
        if mat[TEX_EMISSIVE] >= 0:
            _texel(tex_data, tex_meta, int(mat[TEX_EMISSIVE]), u, v, texel)
            er, eg, eb = er * texel[0], eg * texel[1], eb * texel[2]
        if mat[HAS_F0] > 0.5:
            f0r, f0g, f0b = mat[F0], mat[F0 + 1], mat[F0 + 2]
            dr, dg, db = br, bg, bb
        else:
            f0r = 0.04 * (1.0 - metal) + metal * br
            f0g = 0.04 * (1.0 - metal) + metal * bg
            f0b = 0.04 * (1.0 - metal) + metal * bb
            dr, dg, db = (1.0 - metal) * br, (1.0 - metal) * bg, (1.0 - metal) * bb
        alpha2 = max(rough * rough * rough * rough, _MIN_ALPHA2)
        ndv = max(nx * vx + ny * vy + nz * vz, 1e-4)
        # Sun
        ndl = nx * sun[0] + ny * sun[1] + nz * sun[2]
        if ndl > 0.0 and sun_visible[i] > 0.0:
            hx, hy, hz = sun[0] + vx, sun[1] + vy, sun[2] + vz
            hn = 1.0 / max(math.sqrt(hx * hx + hy * hy + hz * hz), 1e-20)
            ndh = max((nx * hx + ny * hy + nz * hz) * hn, 0.0)
            vdh = max((vx * hx + vy * hy + vz * hz) * hn, 0.0)
            fw = (1.0 - vdh) ** 5
            spec = _ggx(ndl, ndv, ndh, alpha2) * math.pi
            k = ndl * sun_visible[i]
            fr, fg, fb = f0r + (1 - f0r) * fw, f0g + (1 - f0g) * fw, f0b + (1 - f0b) * fw
            o[0, 0] = k * ((1.0 - fr) * dr + fr * spec)
            o[0, 1] = k * ((1.0 - fg) * dg + fg * spec)
            o[0, 2] = k * ((1.0 - fb) * db + fb * spec)
        else:
            o[0, 0] = o[0, 1] = o[0, 2] = 0.0
        # spotlight at the camera: l = h = v
        spec = _ggx(ndv, ndv, ndv, alpha2) * math.pi
        k = ndv * spot[i]
        o[1, 0] = k * ((1.0 - f0r) * dr + f0r * spec)
        o[1, 1] = k * ((1.0 - f0g) * dg + f0g * spec)
        o[1, 2] = k * ((1.0 - f0b) * db + f0b * spec)
        # ambient: uniform unit environment (Karis's fit of the environment BRDF)
        r0 = rough * -1.0 + 1.0
        r1 = rough * -0.0275 + 0.0425
        r2 = rough * -0.572 + 1.04
        r3 = rough * 0.022 - 0.04
        a004 = min(r0 * r0, 2.0 ** (-9.28 * ndv)) * r0 + r1
        scale = -1.04 * a004 + r2
        bias = 1.04 * a004 + r3
        o[2, 0] = dr * (1.0 - f0r) + f0r * scale + bias
        o[2, 1] = dg * (1.0 - f0g) + f0g * scale + bias
        o[2, 2] = db * (1.0 - f0b) + f0b * scale + bias
        o[3, 0], o[3, 1], o[3, 2] = er, eg, eb
