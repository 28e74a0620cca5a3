"""Textures as one flat array of mip chains, and their trilinear lookup (compiled with numba).

Every texture of a model is stored with its successive 2 × 2 box-filtered
halvings (:func:`mip_levels`) in one float32 array; ``meta`` rows give each
level's offset, height, width and channels, ``levels`` rows each texture's
first level and count. A lookup reads the level that matches the pixel's
footprint on the surface, blended between the two nearest levels (a GPU's
trilinear filter), with glTF's REPEAT wrapping. Written with numba because it
runs per ray hit inside :func:`~spacead.render._surface.fetch_surfaces`.
"""

from __future__ import annotations

import math

import cv2
import numba
import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]


def mip_levels(texture: F32) -> list[F32]:
    """The texture and its successive 2 × 2 box-filtered halvings, down to one texel.

    Examples
    --------
    >>> [t.shape for t in mip_levels(np.ones((8, 5, 3), np.float32))]
    [(8, 5, 3), (4, 3, 3), (2, 2, 3), (1, 1, 3)]
    """
    chain = [np.ascontiguousarray(texture, np.float32)]
    while max(chain[-1].shape[:2]) > 1:
        h, w, c = chain[-1].shape
        size = (max(1, (w + 1) // 2), max(1, (h + 1) // 2))
        smaller = cv2.resize(chain[-1], size, interpolation=cv2.INTER_AREA)
        chain.append(np.ascontiguousarray(smaller.reshape(size[1], size[0], c), np.float32))
    return chain


@numba.njit(cache=True, nogil=True, fastmath=True)
def _bilinear(
    data: F32, meta: I32, level: int, u: float, v: float, weight: float, out: F32
) -> None:  # pragma: no cover - compiled
    """Add ``weight`` × the bilinear, wrapped (glTF's REPEAT) value of one mip level at (u, v)."""
    off, h, w, c = meta[level, 0], meta[level, 1], meta[level, 2], meta[level, 3]
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
        out[k] += weight * acc


@numba.njit(cache=True, nogil=True, fastmath=True)
def texel(
    data: F32, meta: I32, levels: I32, tex: int, u: float, v: float, footprint: float, out: F32
) -> None:  # pragma: no cover - compiled
    r"""Trilinear lookup of texture ``tex`` at (u, v) over ``footprint`` texels of level 0.

    The mip level is :math:`\log_2` of the footprint (the pixel's extent on
    the surface in texels), blended between the two nearest levels, as a
    GPU's trilinear filter; a footprint under one texel reads level 0 bilinearly.
    """
    first, count = levels[tex, 0], levels[tex, 1]
    for k in range(meta[first, 3]):
        out[k] = 0.0
    lod = math.log2(footprint) if footprint > 1.0 else 0.0
    if lod >= count - 1:
        _bilinear(data, meta, first + count - 1, u, v, 1.0, out)
        return
    low = int(lod)
    frac = lod - low
    _bilinear(data, meta, first + low, u, v, 1.0 - frac, out)
    if frac > 0.0:
        _bilinear(data, meta, first + low + 1, u, v, frac, out)


@numba.njit(cache=True, nogil=True, fastmath=True)
def texel_span(meta: I32, levels: I32, tex: int, footprint: float) -> float:  # pragma: no cover
    """Level-0 texels (linear) covered by ``footprint`` texture-coordinate units."""
    first = levels[tex, 0]
    return footprint * math.sqrt(float(meta[first, 1]) * float(meta[first, 2]))


@numba.njit(cache=True, nogil=True, fastmath=True)
def read_texture(
    data: F32, meta: I32, levels: I32, tex: int, u: float, v: float, spread: float, buf: F32
) -> None:  # pragma: no cover - compiled
    """Texture ``tex`` at (u, v) over ``spread`` texture-coordinate units, into ``buf``."""
    texel(data, meta, levels, tex, u, v, texel_span(meta, levels, tex, spread), buf)
