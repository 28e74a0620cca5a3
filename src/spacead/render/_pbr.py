r"""glTF 2.0 metallic-roughness shading, and the sampling of its lobes (compiled with numba).

The BRDF is the one the glTF 2.0 specification gives (Appendix B): for unit
normal :math:`n`, view :math:`v`, light :math:`l`, half vector :math:`h`,
roughness :math:`r` (:math:`\alpha = r^2`), base colour :math:`b`, metalness
:math:`m` and dielectric reflectance :math:`F_{0,d}` (0.04 unless the
material gives it),

.. math::

    c_{diff} &= (1 - m)\, b, \qquad F_0 = (1 - m) F_{0,d} + m\, b, \qquad
    F = F_0 + (1 - F_0)(1 - |v \cdot h|)^5 \\
    D &= \frac{\alpha^2}{\pi \left((n \cdot h)^2 (\alpha^2 - 1) + 1\right)^2}, \qquad
    V = \frac{1}{\left(|n \cdot l| + \sqrt{\alpha^2 + (1 - \alpha^2)(n \cdot l)^2}\right)
                 \left(|n \cdot v| + \sqrt{\alpha^2 + (1 - \alpha^2)(n \cdot v)^2}\right)} \\
    f &= (1 - F)\, \frac{c_{diff}}{\pi} + F\, D\, V

(GGX distribution, height-correlated Smith visibility, Schlick's Fresnel).
A single-scattering microfacet lobe loses the light that bounces between
microfacets (a quarter of it for rough metal at grazing angles), which a real
surface and Cycles' default multiscatter GGX return; every specular term here is
multiplied by Turquin's compensation [4]_
:math:`1 + F_0 (1 - E(\mu_v, r)) / E(\mu_v, r)` (where the surface row's
multiple-scattering flag is set: :attr:`~spacead.render.LightPaths.multiscatter`),
with :math:`E` the lobe's directional albedo for :math:`F = 1` (a table,
:data:`E_SS`, made by :func:`directional_albedo`).
Radiance is on spacead's scale, :math:`L = \pi f E (n \cdot l)`, so a white
Lambertian surface facing a unit Sun has radiance 1. Per hit:

- :func:`shade_direct` gives the direct components seen by the camera: the
  **sun** (times its visibility), the camera **spot**light (light direction =
  view direction), the **ambient** term (a uniform environment of unit
  radiance, unoccluded but for the occlusion map: :math:`c_{diff}` plus the
  specular directional albedo of Karis's split-sum fit [1]_) and **emission**;
- :func:`shade_lit` gives the total radiance a surface sends towards any
  viewer, for the surfaces that bounce rays reach;
- :func:`sample_glossy` draws reflection directions from the visible normals
  of the GGX lobe [3]_ (weight :math:`F\, G_2 / G_1 = F\, G_1(l)` with the
  separable masking of :math:`V` above), :func:`sample_diffuse`
  cosine-weighted directions (weight :math:`(1 - F) c_{diff}`): the Monte
  Carlo estimators of light arriving by one glossy or one diffuse bounce.

Written with numba because each kernel fuses, per hit, a dozen vector
operations and branches: NumPy would need ~60 full-array passes (measured
~120 ms for 1.3 M hits), and no library shades arbitrary ray hits. The kernels
release the GIL, so the renderer runs them on its tile threads.

References
----------
.. [1] B. Karis, "Physically Based Shading on Mobile", Unreal Engine blog, 2014.
.. [2] The Khronos Group, "glTF 2.0 Specification", Appendix B: BRDF Implementation.
.. [3] E. Heitz, "Sampling the GGX Distribution of Visible Normals", JCGT 7(4), 2018.
.. [4] E. Turquin, "Practical multiple scattering compensation for microfacet models",
   Industrial Light & Magic technical report, 2019.
"""

from __future__ import annotations

import math
from pathlib import Path

import numba
import numpy as np
import numpy.typing as npt

from ._noise import lowbias32
from ._surface import (
    S_BASE,
    S_EMIT,
    S_F0,
    S_METAL,
    S_MS,
    S_NORMAL,
    S_OCC,
    S_ROUGH,
    SURFACE_COLUMNS,
)

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

_MIN_ALPHA2 = 1e-6  # alpha^2 floor: roughness 0 would make D a Dirac peak
_R2 = (0.7548776662466927, 0.5698402909980532)  # the R2 sequence's steps (Roberts 2018)
_E_N = 32  # E_SS's grid: roughness and cos(view angle), each 0..1 in 31 steps


E_SS: npt.NDArray[np.float32] = np.load(Path(__file__).with_name("ggx_albedo.npy"))
"""The GGX lobe's directional albedo for F = 1: rows roughness 0..1, columns cos(view) 0..1
(32 x 32), from :func:`directional_albedo` (shipped: it takes seconds to compute)."""
# What multiple scattering adds, per unit F0. numba freezes this global into the compiled (and
# cached) kernels: after regenerating ggx_albedo.npy, touch this file so that the cache is rebuilt.
_GAIN = (1.0 / E_SS - 1.0).astype(np.float32)


@numba.njit(cache=True, nogil=True, fastmath=True)
def _ms_gain(rough: float, ndv: float) -> float:  # pragma: no cover - compiled
    """(1 - E) / E at (roughness, cos view), bilinear in :data:`E_SS`'s grid."""
    x = min(max(rough, 0.0), 1.0) * (_E_N - 1)
    y = min(max(ndv, 0.0), 1.0) * (_E_N - 1)
    i = min(int(x), _E_N - 2)
    j = min(int(y), _E_N - 2)
    fx, fy = x - i, y - j
    top = float(_GAIN[i, j]) * (1.0 - fy) + float(_GAIN[i, j + 1]) * fy
    bottom = float(_GAIN[i + 1, j]) * (1.0 - fy) + float(_GAIN[i + 1, j + 1]) * fy
    return top * (1.0 - fx) + bottom * fx


@numba.njit(cache=True, nogil=True, fastmath=True)
def _ggx(ndl: float, ndv: float, ndh: float, alpha2: float) -> float:  # pragma: no cover
    """D · V of the specification's microfacet lobe."""
    t = ndh * ndh * (alpha2 - 1.0) + 1.0
    d = alpha2 / (math.pi * t * t)
    vl = ndl + math.sqrt(alpha2 + (1.0 - alpha2) * ndl * ndl)
    vv = ndv + math.sqrt(alpha2 + (1.0 - alpha2) * ndv * ndv)
    return d / (vl * vv)


@numba.njit(cache=True, nogil=True, fastmath=True)
def _lobe(
    s: F32, vx: float, vy: float, vz: float, lx: float, ly: float, lz: float
) -> tuple[float, float, float]:  # pragma: no cover - compiled
    r"""Per channel :math:`\pi f(l, v) (n \cdot l)` of surface row ``s`` (0 below the horizon)."""
    nx, ny, nz = s[S_NORMAL], s[S_NORMAL + 1], s[S_NORMAL + 2]
    ndl = nx * lx + ny * ly + nz * lz
    if ndl <= 0.0:
        return 0.0, 0.0, 0.0
    ndv = max(nx * vx + ny * vy + nz * vz, 1e-4)
    rough = s[S_ROUGH]
    alpha2 = max(rough * rough * rough * rough, _MIN_ALPHA2)
    hx, hy, hz = lx + vx, ly + vy, lz + vz
    hn = 1.0 / max(math.sqrt(hx * hx + hy * hy + hz * hz), 1e-20)
    ndh = max((nx * hx + ny * hy + nz * hz) * hn, 0.0)
    vdh = max((vx * hx + vy * hy + vz * hz) * hn, 0.0)
    fw = (1.0 - vdh) ** 5
    spec = _ggx(ndl, ndv, ndh, alpha2) * math.pi
    m = s[S_METAL]
    f0r = (1.0 - m) * s[S_F0] + m * s[S_BASE]
    f0g = (1.0 - m) * s[S_F0 + 1] + m * s[S_BASE + 1]
    f0b = (1.0 - m) * s[S_F0 + 2] + m * s[S_BASE + 2]
    fr, fg, fb = f0r + (1.0 - f0r) * fw, f0g + (1.0 - f0g) * fw, f0b + (1.0 - f0b) * fw
    d = 1.0 - m
    gain = _ms_gain(rough, ndv) * s[S_MS]
    return (
        ndl * ((1.0 - fr) * d * s[S_BASE] + fr * spec * (1.0 + f0r * gain)),
        ndl * ((1.0 - fg) * d * s[S_BASE + 1] + fg * spec * (1.0 + f0g * gain)),
        ndl * ((1.0 - fb) * d * s[S_BASE + 2] + fb * spec * (1.0 + f0b * gain)),
    )


@numba.njit(cache=True, nogil=True, fastmath=True)
def _env_brdf(rough: float, ndv: float) -> tuple[float, float]:  # pragma: no cover
    """Karis's analytic fit of the split-sum environment BRDF: (scale, bias) of F0."""
    r0 = rough * -1.0 + 1.0
    r1 = rough * -0.0275 + 0.0425
    r2 = rough * -0.572 + 1.04
    r3 = rough * 0.022 - 0.04
    a004 = min(r0 * r0, 2.0 ** (-9.28 * ndv)) * r0 + r1
    return -1.04 * a004 + r2, 1.04 * a004 + r3


@numba.njit(inline="always")
def _specular_albedo(f0: float, scale: float, bias: float, gain: float) -> float:
    """The specular lobe's directional albedo for reflectance ``f0``.

    Karis's fit, times the multiple-scattering compensation ``1 + f0 gain``
    (``gain`` from :func:`_ms_gain`, or 0).
    """
    return (f0 * scale + bias) * (1.0 + f0 * gain)


@numba.njit(cache=True, nogil=True, fastmath=True)
def albedos(surf: F32, view: F32, out: F32) -> None:  # pragma: no cover - compiled
    """Directional albedos (N, 6): specular (Karis's fit) then diffuse :math:`(1 - F_0) c_{diff}`.

    What the bounce light of a pixel is divided by before it is smoothed, and
    multiplied by after: texture detail survives the smoothing.
    """
    for i in range(surf.shape[0]):
        s = surf[i]
        ndv = max(
            s[S_NORMAL] * view[i, 0] + s[S_NORMAL + 1] * view[i, 1] + s[S_NORMAL + 2] * view[i, 2],
            1e-4,
        )
        scale, bias = _env_brdf(s[S_ROUGH], ndv)
        gain = _ms_gain(s[S_ROUGH], ndv) * s[S_MS]
        m = s[S_METAL]
        for c in range(3):
            f0 = (1.0 - m) * s[S_F0 + c] + m * s[S_BASE + c]
            out[i, c] = _specular_albedo(f0, scale, bias, gain)
            out[i, 3 + c] = (1.0 - f0) * (1.0 - m) * s[S_BASE + c]


@numba.njit(cache=True, nogil=True)
def _distinct(sub: F32, i: int) -> int:  # pragma: no cover - compiled
    """S, or 1 when hit ``i``'s S normals are all the first (no normal map): one shading then."""
    for k in range(1, sub.shape[1]):
        for c in range(4):
            if sub[i, k, c] != sub[i, 0, c]:
                return int(sub.shape[1])
    return 1


@numba.njit(cache=True, nogil=True, fastmath=True)
def shade_direct(
    surf: F32,
    subnormals: F32,
    view: F32,
    sun: F32,
    sun_light: F32,
    spot_light: F32,
    rows: npt.NDArray[np.intp],
    out: F32,
) -> None:  # pragma: no cover - compiled; tested through the renderer
    """Direct components of camera hits: ``out[rows[i], 0:4]`` = sun, spot, ambient, emission.

    ``sun`` (N, 3) is the direction towards the Sun (one point of its disc) per
    hit, ``sun_light`` its visibility times its strength, ``spot_light`` the
    spotlight's cone factor over r² (the spot shines along the view ray). Sun
    and spot are averaged over the S normals and roughnesses of
    ``subnormals`` (N, S, 4) (see :func:`~spacead.render._surface.fetch_surfaces`).
    """
    row = np.empty(surf.shape[1], np.float32)
    for i in range(surf.shape[0]):
        s = surf[i]
        o = out[rows[i]]
        vx, vy, vz = view[i, 0], view[i, 1], view[i, 2]
        row[:] = s
        sr = sg = sb = pr = pg = pb = 0.0
        n_sub = _distinct(subnormals, i)
        inv = 1.0 / n_sub
        for k in range(n_sub):
            sub = subnormals[i, k]
            row[S_NORMAL], row[S_NORMAL + 1], row[S_NORMAL + 2] = sub[0], sub[1], sub[2]
            row[S_ROUGH] = sub[3]
            if sun_light[i] > 0.0:
                r, g, b = _lobe(row, vx, vy, vz, sun[i, 0], sun[i, 1], sun[i, 2])
                sr, sg, sb = sr + r, sg + g, sb + b
            r, g, b = _lobe(row, vx, vy, vz, vx, vy, vz)
            pr, pg, pb = pr + r, pg + g, pb + b
        k = sun_light[i] * inv
        o[0, 0], o[0, 1], o[0, 2] = k * sr, k * sg, k * sb
        k = spot_light[i] * inv
        o[1, 0], o[1, 1], o[1, 2] = k * pr, k * pg, k * pb
        ndv = max(s[S_NORMAL] * vx + s[S_NORMAL + 1] * vy + s[S_NORMAL + 2] * vz, 1e-4)
        scale, bias = _env_brdf(s[S_ROUGH], ndv)
        gain = _ms_gain(s[S_ROUGH], ndv) * s[S_MS]
        m = s[S_METAL]
        for c in range(3):
            f0 = (1.0 - m) * s[S_F0 + c] + m * s[S_BASE + c]
            spec = _specular_albedo(f0, scale, bias, gain)
            o[2, c] = s[S_OCC] * ((1.0 - m) * s[S_BASE + c] * (1.0 - f0) + spec)
            o[3, c] = s[S_EMIT + c]


@numba.njit(cache=True, nogil=True, fastmath=True)
def shade_lit(
    surf: F32, view: F32, sun: F32, sun_light: F32, spot_dir: F32, spot_light: F32, out: F32
) -> None:  # pragma: no cover - compiled; tested through the renderer
    """Radiance ``out[i]`` (RGB) that surface ``i`` sends along ``view[i]``: Sun, spot, emission.

    ``spot_dir`` is the unit direction from the surface to the spotlight.
    """
    for i in range(surf.shape[0]):
        s = surf[i]
        vx, vy, vz = view[i, 0], view[i, 1], view[i, 2]
        r = s[S_EMIT]
        g = s[S_EMIT + 1]
        b = s[S_EMIT + 2]
        if sun_light[i] > 0.0:
            sr, sg, sb = _lobe(s, vx, vy, vz, sun[0], sun[1], sun[2])
            k = sun_light[i]
            r, g, b = r + k * sr, g + k * sg, b + k * sb
        if spot_light[i] > 0.0:
            sr, sg, sb = _lobe(s, vx, vy, vz, spot_dir[i, 0], spot_dir[i, 1], spot_dir[i, 2])
            k = spot_light[i]
            r, g, b = r + k * sr, g + k * sg, b + k * sb
        out[i, 0], out[i, 1], out[i, 2] = r, g, b


@numba.njit(cache=True, nogil=True, fastmath=True)
def sequence(key: int, s: int, salt: int) -> tuple[float, float]:  # pragma: no cover
    """Sample ``s`` of a pixel's 2-D sequence: R2, shifted by a hash of (key, salt).

    The same pixel, sample and salt give the same numbers in every render and
    thread (no random state); different pixels get decorrelated shifts.
    """
    h = lowbias32(key * 0x9E3779B9 + salt * 0x85EBCA6B)
    u = (h >> 8) * (1.0 / 16777216.0) + s * _R2[0]
    v = (lowbias32(h) >> 8) * (1.0 / 16777216.0) + s * _R2[1]
    return u - math.floor(u), v - math.floor(v)


@numba.njit(cache=True, nogil=True, fastmath=True)
def _basis(nx: float, ny: float, nz: float) -> tuple[float, float, float, float, float, float]:
    """Two unit vectors completing unit (nx, ny, nz) to an orthonormal basis (Duff et al. 2017)."""
    sign = 1.0 if nz >= 0.0 else -1.0
    a = -1.0 / (sign + nz)
    b = nx * ny * a
    return 1.0 + sign * nx * nx * a, sign * b, -sign * nx, b, sign + ny * ny * a, -ny


@numba.njit(cache=True, nogil=True, fastmath=True)
def sample_glossy(
    surf: F32,
    view: F32,
    keys: I64,
    samples: int,
    salt: int,
    dirs: F32,
    weights: F32,
) -> None:  # pragma: no cover - compiled; tested through the renderer
    """GGX visible-normal samples: ``dirs[i*samples + k]``, ``weights[...]`` = :math:`F G_2/G_1`.

    A sample below the surface gets weight 0 (its direction is then meaningless).
    """
    for i in range(surf.shape[0]):
        s = surf[i]
        nx, ny, nz = s[S_NORMAL], s[S_NORMAL + 1], s[S_NORMAL + 2]
        vx, vy, vz = view[i, 0], view[i, 1], view[i, 2]
        tx, ty, tz, bx, by, bz = _basis(nx, ny, nz)
        lvx = vx * tx + vy * ty + vz * tz  # view in the local frame (z = normal)
        lvy = vx * bx + vy * by + vz * bz
        lvz = vx * nx + vy * ny + vz * nz
        rough = s[S_ROUGH]
        alpha = math.sqrt(max(rough * rough * rough * rough, _MIN_ALPHA2))
        alpha2 = alpha * alpha
        m = s[S_METAL]
        gain = _ms_gain(rough, lvz) * s[S_MS]
        for k in range(samples):
            j = i * samples + k
            if lvz <= 1e-4:
                weights[j, 0] = weights[j, 1] = weights[j, 2] = 0.0
                continue
            u1, u2 = sequence(keys[i], k, salt)
            # Heitz 2018: stretch the view, sample the projected hemisphere, unstretch
            hx, hy, hz = alpha * lvx, alpha * lvy, lvz
            inv = 1.0 / math.sqrt(hx * hx + hy * hy + hz * hz)
            hx, hy, hz = hx * inv, hy * inv, hz * inv
            lensq = hx * hx + hy * hy
            if lensq > 0.0:
                il = 1.0 / math.sqrt(lensq)
                t1x, t1y, t1z = -hy * il, hx * il, 0.0
            else:
                t1x, t1y, t1z = 1.0, 0.0, 0.0
            t2x, t2y, t2z = hy * t1z - hz * t1y, hz * t1x - hx * t1z, hx * t1y - hy * t1x
            r = math.sqrt(u1)
            phi = 2.0 * math.pi * u2
            p1, p2 = r * math.cos(phi), r * math.sin(phi)
            w = 0.5 * (1.0 + hz)
            p2 = (1.0 - w) * math.sqrt(max(1.0 - p1 * p1, 0.0)) + w * p2
            p3 = math.sqrt(max(1.0 - p1 * p1 - p2 * p2, 0.0))
            mx = alpha * (p1 * t1x + p2 * t2x + p3 * hx)
            my = alpha * (p1 * t1y + p2 * t2y + p3 * hy)
            mz = max(p1 * t1z + p2 * t2z + p3 * hz, 1e-6)
            inv = 1.0 / math.sqrt(mx * mx + my * my + mz * mz)
            mx, my, mz = mx * inv, my * inv, mz * inv
            vdh = lvx * mx + lvy * my + lvz * mz
            llx, lly, llz = 2.0 * vdh * mx - lvx, 2.0 * vdh * my - lvy, 2.0 * vdh * mz - lvz
            if llz <= 0.0:
                weights[j, 0] = weights[j, 1] = weights[j, 2] = 0.0
                continue
            dirs[j, 0] = llx * tx + lly * bx + llz * nx
            dirs[j, 1] = llx * ty + lly * by + llz * ny
            dirs[j, 2] = llx * tz + lly * bz + llz * nz
            # separable Smith masking, as the BRDF's V above: G2 / G1(v) = G1(l)
            g2_over_g1 = 2.0 * llz / (llz + math.sqrt(alpha2 + (1.0 - alpha2) * llz * llz))
            fw = (1.0 - max(vdh, 0.0)) ** 5
            for c in range(3):
                f0 = (1.0 - m) * s[S_F0 + c] + m * s[S_BASE + c]
                weights[j, c] = (f0 + (1.0 - f0) * fw) * g2_over_g1 * (1.0 + f0 * gain)


@numba.njit(cache=True, nogil=True, fastmath=True)
def sample_diffuse(
    surf: F32,
    view: F32,
    keys: I64,
    samples: int,
    salt: int,
    dirs: F32,
    weights: F32,
) -> None:  # pragma: no cover - compiled; tested through the renderer
    """Cosine-weighted samples ``dirs[i*samples + k]``, weights :math:`(1-F) c_{diff}`."""
    for i in range(surf.shape[0]):
        s = surf[i]
        nx, ny, nz = s[S_NORMAL], s[S_NORMAL + 1], s[S_NORMAL + 2]
        vx, vy, vz = view[i, 0], view[i, 1], view[i, 2]
        tx, ty, tz, bx, by, bz = _basis(nx, ny, nz)
        m = s[S_METAL]
        for k in range(samples):
            j = i * samples + k
            u1, u2 = sequence(keys[i], k, salt)
            r = math.sqrt(u1)
            phi = 2.0 * math.pi * u2
            lx, ly, lz = r * math.cos(phi), r * math.sin(phi), math.sqrt(max(1.0 - u1, 0.0))
            dx = lx * tx + ly * bx + lz * nx
            dy = lx * ty + ly * by + lz * ny
            dz = lx * tz + ly * bz + lz * nz
            dirs[j, 0], dirs[j, 1], dirs[j, 2] = dx, dy, dz
            hx, hy, hz = dx + vx, dy + vy, dz + vz
            hn = 1.0 / max(math.sqrt(hx * hx + hy * hy + hz * hz), 1e-20)
            vdh = max((vx * hx + vy * hy + vz * hz) * hn, 0.0)
            fw = (1.0 - vdh) ** 5
            for c in range(3):
                f0 = (1.0 - m) * s[S_F0 + c] + m * s[S_BASE + c]
                weights[j, c] = (1.0 - (f0 + (1.0 - f0) * fw)) * (1.0 - m) * s[S_BASE + c]


def directional_albedo(n: int = _E_N, samples: int = 1 << 16) -> npt.NDArray[np.float32]:
    """E(r, mu), shape (n, n): the GGX lobe's directional albedo for F = 1 (rows roughness).

    The mean weight of :func:`sample_glossy`'s samples on a white metal
    (F0 = 1, so F = 1) without the compensation: with visible normals that is
    the masking of the reflected direction, G1(l). ``samples`` quasi-random
    directions per cell resolve the lobe's tail that reflects below the horizon
    (1.5 % of it at roughness 0.35). Makes ``ggx_albedo.npy``::

        python -c "import numpy as np; from spacead.render._pbr import directional_albedo as d; np.save('src/spacead/render/ggx_albedo.npy', d())"
    """  # noqa: E501
    mu = np.maximum(np.linspace(0.0, 1.0, n), 1e-3)
    out = np.empty((n, n), np.float32)
    for i, rough in enumerate(np.linspace(0.0, 1.0, n)):
        surf = np.zeros((n, SURFACE_COLUMNS), np.float32)
        surf[:, S_NORMAL + 2] = 1.0
        surf[:, S_BASE : S_BASE + 3] = 1.0
        surf[:, S_METAL], surf[:, S_ROUGH] = 1.0, rough
        view = np.stack([np.sqrt(1.0 - mu * mu), np.zeros(n), mu], 1).astype(np.float32)
        dirs = np.empty((n * samples, 3), np.float32)
        weights = np.empty((n * samples, 3), np.float32)
        sample_glossy(surf, view, np.arange(n, dtype=np.int64), samples, 0, dirs, weights)
        out[i] = weights[:, 0].reshape(n, samples).mean(axis=1)
    return out
