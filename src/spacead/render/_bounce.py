"""Bounce light traced at a grid of pixels, then smoothed and upsampled along surfaces.

Glossy and diffuse bounces are Monte Carlo estimates: a few rays per pixel
are noisy. They are traced at every ``stride``-th pixel (the grid), divided
by the surface's directional albedo there (so texture detail is not smoothed
away), and each full-resolution pixel takes a weighted mean of the grid
samples around it that lie on its own surface: same material, normals within
a few degrees, and near its tangent plane (a joint bilateral filter guided by
the full-resolution geometry [1]_). The mean is multiplied back by the
pixel's own albedo.

Written by hand (numba) because no library filter takes several guide images
(material, normal, plane distance) and a separate, sparser sample grid:
OpenCV's joint bilateral filter (in the contrib build only) guides by one
image at one resolution.

References
----------
.. [1] J. Kopf, M. F. Cohen, D. Lischinski, M. Uyttendaele, "Joint Bilateral
   Upsampling", ACM Transactions on Graphics 26(3), 2007.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]

RADIUS = 2  # grid cells either side of a pixel's own cell
SPATIAL_SIGMA = 1.0  # grid cells (glossy light; diffuse light: twice as wide)
# normal weight (n . n')^8: 0.93 at 7.5 degrees apart, 0.45 at 25
PLANE_SIGMA = 0.02  # distance to the pixel's tangent plane, as a fraction of its depth
MIN_ALBEDO = 1e-3  # demodulation floor


@numba.njit(cache=True, nogil=True, fastmath=True)
def reconstruct(
    rows: npt.NDArray[np.intp],
    width: int,
    stride: int,
    material: I32,
    point: F32,
    normal: F32,
    depth: F32,
    albedo: F32,
    grid_value: F32,
    grid_valid: npt.NDArray[np.bool_],
    grid_material: I32,
    grid_point: F32,
    grid_normal: F32,
    out: F32,
) -> None:  # pragma: no cover - compiled; tested through the renderer
    """``out[i, k]`` = albedo × filtered grid value of kind ``k`` for pixel ``rows[i]``.

    Two kinds at once, glossy (k = 0) and diffuse (k = 1), sharing the guide
    weights; the diffuse spatial kernel is twice as wide (that light varies
    slowly). Per pixel ``i`` (flat index ``rows[i]``): its ``material``, world
    ``point``, unit ``normal``, ``depth`` and the (2, 3) ``albedo`` the grid
    values were divided by. Grid arrays are (Hs, Ws, ...): demodulated values
    (Hs, Ws, 2, 3), whether each was traced (Hs, Ws, 2), and the same guides.
    A pixel with no usable grid sample around it gets 0.
    """
    hs, ws = grid_material.shape
    off = stride // 2
    inv_diffuse = 1.0 / (8.0 * SPATIAL_SIGMA * SPATIAL_SIGMA)  # sigma twice the glossy one
    wx = np.empty(2 * RADIUS + 1)  # the separable spatial kernel along x, per pixel
    for i in range(rows.shape[0]):
        r = rows[i] // width
        c = rows[i] - r * width
        gy = (r - off) / stride
        gx = (c - off) / stride
        cy = math.floor(gy + 0.5)
        cx = math.floor(gx + 0.5)
        x0, x1 = max(cx - RADIUS, 0), min(cx + RADIUS + 1, ws)
        for xx in range(x0, x1):
            wx[xx - x0] = math.exp(-((xx - gx) ** 2) * inv_diffuse)
        px, py, pz = point[i, 0], point[i, 1], point[i, 2]
        nx, ny, nz = normal[i, 0], normal[i, 1], normal[i, 2]
        inv_tol = 1.0 / (PLANE_SIGMA * max(depth[i], 1e-3))
        g0 = g1 = g2 = d0 = d1 = d2 = 0.0  # glossy and diffuse sums (scalars: no allocation)
        wg = wd = 0.0
        for yy in range(max(cy - RADIUS, 0), min(cy + RADIUS + 1, hs)):
            sy = math.exp(-((yy - gy) ** 2) * inv_diffuse)
            for xx in range(x0, x1):
                if grid_material[yy, xx] != material[i]:
                    continue
                dot = (
                    nx * grid_normal[yy, xx, 0]
                    + ny * grid_normal[yy, xx, 1]
                    + nz * grid_normal[yy, xx, 2]
                )
                if dot <= 0.0:
                    continue
                plane = (
                    (grid_point[yy, xx, 0] - px) * nx
                    + (grid_point[yy, xx, 1] - py) * ny
                    + (grid_point[yy, xx, 2] - pz) * nz
                ) * inv_tol
                dot2 = dot * dot
                dot4 = dot2 * dot2
                spatial = sy * wx[xx - x0]
                # exp(-h) for the plane term by its cubic Taylor series' reciprocal (a little
                # wider tails): half the kernel's time went to this exp, and the dev and dev2
                # figures of the independent station did not move
                h = 0.5 * plane * plane
                common = dot4 * dot4 / (1.0 + h * (1.0 + h * (0.5 + h / 6.0)))  # (n . n')^8
                if grid_valid[yy, xx, 0]:  # the glossy kernel: the diffuse one to the 4th
                    s2 = spatial * spatial
                    w = common * s2 * s2
                    wg += w
                    g0 += w * grid_value[yy, xx, 0, 0]
                    g1 += w * grid_value[yy, xx, 0, 1]
                    g2 += w * grid_value[yy, xx, 0, 2]
                if grid_valid[yy, xx, 1]:
                    w = common * spatial
                    wd += w
                    d0 += w * grid_value[yy, xx, 1, 0]
                    d1 += w * grid_value[yy, xx, 1, 1]
                    d2 += w * grid_value[yy, xx, 1, 2]
        inv = 1.0 / wg if wg > 1e-12 else 0.0
        out[i, 0, 0] = g0 * inv * albedo[i, 0, 0]
        out[i, 0, 1] = g1 * inv * albedo[i, 0, 1]
        out[i, 0, 2] = g2 * inv * albedo[i, 0, 2]
        inv = 1.0 / wd if wd > 1e-12 else 0.0
        out[i, 1, 0] = d0 * inv * albedo[i, 1, 0]
        out[i, 1, 1] = d1 * inv * albedo[i, 1, 1]
        out[i, 1, 2] = d2 * inv * albedo[i, 1, 2]


@numba.njit(cache=True, nogil=True)
def mean_over_samples(
    weights: F32, radiance: F32, samples: int, clamp: float, out: F32
) -> None:  # pragma: no cover - compiled
    """``out[i] = mean_k min(weights[i*samples + k] * radiance[i*samples + k], clamp)``.

    Per channel. The clamp (as Cycles' "clamp indirect") keeps a rare ray that
    meets a sun glint from lighting a whole patch of the upsampled image.
    """
    inv = 1.0 / samples
    for i in range(out.shape[0]):
        for c in range(3):
            acc = 0.0
            for k in range(samples):
                j = i * samples + k
                acc += min(weights[j, c] * radiance[j, c], clamp)
            out[i, c] = acc * inv


class BounceGrid:
    """The grid samples of one render and their guides, filled tile by tile.

    Attributes are (Hs, Ws, ...) arrays over the grid pixels
    ``(off + stride j, off + stride i)`` with ``off = stride // 2``; ``value``
    (Hs, Ws, 2, 3) holds glossy and diffuse bounce light divided by the albedo.
    """

    def __init__(self, height: int, width: int, stride: int) -> None:
        self.stride = stride
        self.offset = stride // 2
        hs, ws = len(range(self.offset, height, stride)), len(range(self.offset, width, stride))
        self.material = np.full((hs, ws), -1, np.int32)
        self.point = np.zeros((hs, ws, 3), np.float32)
        self.normal = np.zeros((hs, ws, 3), np.float32)
        self.value = np.zeros((hs, ws, 2, 3), np.float32)  # glossy, diffuse
        self.valid = np.zeros((hs, ws, 2), np.bool_)

    def cells(
        self, pixels: npt.NDArray[np.intp], width: int
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """Which of ``pixels`` (flat indices) lie on the grid, and their grid rows and columns."""
        r, c = np.divmod(pixels, width)
        r, c = r - self.offset, c - self.offset
        on: npt.NDArray[np.intp] = np.flatnonzero((r % self.stride == 0) & (c % self.stride == 0))
        return on, r[on] // self.stride, c[on] // self.stride
