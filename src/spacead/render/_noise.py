"""Deterministic procedural noise in world coordinates (compiled with numba).

Two patterns, both pure functions of the 3-D point (no random state), so a
surface looks the same from every camera pose and in every render:

- :func:`facets` -- piecewise-constant random values on a (rotated) cubic
  lattice: each cell is one "facet" of crumpled foil or one solar cell, with
  its own brightness and normal tilt;
- :func:`fbm` -- fractional Brownian motion of trilinear value noise, smooth
  and multi-scale (maria on the Moon, continents and clouds on the Earth).

The kernels release the GIL (``nogil=True``) and run single-threaded: the
renderer calls them once per image tile from its own thread pool
(:func:`spacead._threads.map_tiles`), which also keeps them clear of
numba's threading layer when several renders run in threads.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import numpy.typing as npt

_MASK32 = 0xFFFFFFFF
_TO_UNIT = 1.0 / 16777216.0  # 2**-24: the top 24 bits of a hash to [0, 1)


@numba.njit(cache=True, nogil=True)
def lowbias32(x: int) -> int:  # pragma: no cover - compiled
    """The lowbias32 integer mixer of the low 32 bits of ``x`` (Chris Wellons' hash-prospector)."""
    h = x & _MASK32
    h ^= h >> 16
    h = (h * 0x7FEB352D) & _MASK32
    h ^= h >> 15
    h = (h * 0x846CA68B) & _MASK32
    h ^= h >> 16
    return h


@numba.njit(cache=True, nogil=True)
def _hash(ix: int, iy: int, iz: int, seed: int) -> int:
    """32-bit integer hash of a lattice point (spatial-hash primes + lowbias32 mixer)."""
    return lowbias32((ix * 73856093) ^ (iy * 19349663) ^ (iz * 83492791) ^ (seed * 2654435761))


@numba.njit(cache=True, nogil=True)
def _lattice(ix: int, iy: int, iz: int, seed: int) -> float:
    """Uniform value in [0, 1) attached to a lattice point."""
    return (_hash(ix, iy, iz, seed) >> 8) * _TO_UNIT


@numba.njit(cache=True, nogil=True)
def _value_noise(x: float, y: float, z: float, seed: int) -> float:
    """Trilinear value noise in [0, 1) with a smoothstep fade between lattice points."""
    fx, fy, fz = math.floor(x), math.floor(y), math.floor(z)
    ix, iy, iz = math.floor(x), math.floor(y), math.floor(z)
    tx, ty, tz = x - fx, y - fy, z - fz
    tx = tx * tx * (3.0 - 2.0 * tx)
    ty = ty * ty * (3.0 - 2.0 * ty)
    tz = tz * tz * (3.0 - 2.0 * tz)
    c00 = _lattice(ix, iy, iz, seed) * (1 - tx) + _lattice(ix + 1, iy, iz, seed) * tx
    c10 = _lattice(ix, iy + 1, iz, seed) * (1 - tx) + _lattice(ix + 1, iy + 1, iz, seed) * tx
    c01 = _lattice(ix, iy, iz + 1, seed) * (1 - tx) + _lattice(ix + 1, iy, iz + 1, seed) * tx
    c11 = (
        _lattice(ix, iy + 1, iz + 1, seed) * (1 - tx) + _lattice(ix + 1, iy + 1, iz + 1, seed) * tx
    )
    c0 = c00 * (1 - ty) + c10 * ty
    c1 = c01 * (1 - ty) + c11 * ty
    return c0 * (1 - tz) + c1 * tz


@numba.njit(cache=True, nogil=True)
def fbm(
    points: npt.NDArray[np.float64], frequency: float, octaves: int, seed: int
) -> npt.NDArray[np.float32]:
    """Fractional Brownian motion of value noise at each point, in [0, 1).

    Octave ``k`` samples value noise at ``frequency · 2**k`` with weight
    ``2**-k``; the sum is normalised by the total weight.

    Parameters
    ----------
    points : ndarray of float64, shape (N, 3)
        Where to evaluate the noise.
    frequency : float
        Lattice cells per unit length of the first octave.
    octaves : int
        Number of octaves (>= 1).
    seed : int
        Selects an independent pattern.

    Returns
    -------
    ndarray of float32, shape (N,)

    Examples
    --------
    >>> pts = np.array([[0.1, 0.2, 0.3], [5.5, -2.0, 1.0]])
    >>> a = fbm(pts, 2.0, 4, 0)
    >>> bool(np.all((a >= 0) & (a < 1))) and bool(np.array_equal(a, fbm(pts, 2.0, 4, 0)))
    True
    """
    out = np.empty(points.shape[0], np.float32)
    for i in range(points.shape[0]):
        total = 0.0
        weight = 1.0
        norm = 0.0
        f = frequency
        for k in range(octaves):
            x, y, z = points[i, 0] * f, points[i, 1] * f, points[i, 2] * f
            total += weight * _value_noise(x, y, z, seed + 7919 * k)
            norm += weight
            weight *= 0.5
            f *= 2.0
        out[i] = total / norm
    return out


@numba.njit(cache=True, nogil=True)
def _facet_values(
    px: float, py: float, pz: float, rotation: npt.NDArray[np.float64], inv_cell: float, seed: int
) -> tuple[float, float, float, float]:
    """Four values in [-1, 1) of the lattice cell holding a point (rotated lattice)."""
    u = (rotation[0, 0] * px + rotation[0, 1] * py + rotation[0, 2] * pz) * inv_cell
    v = (rotation[1, 0] * px + rotation[1, 1] * py + rotation[1, 2] * pz) * inv_cell
    w = (rotation[2, 0] * px + rotation[2, 1] * py + rotation[2, 2] * pz) * inv_cell
    ix, iy, iz = math.floor(u), math.floor(v), math.floor(w)
    return (
        2.0 * _lattice(ix, iy, iz, seed) - 1.0,
        2.0 * _lattice(ix, iy, iz, seed + 1) - 1.0,
        2.0 * _lattice(ix, iy, iz, seed + 2) - 1.0,
        2.0 * _lattice(ix, iy, iz, seed + 3) - 1.0,
    )


@numba.njit(cache=True, nogil=True)
def facets(
    points: npt.NDArray[np.float64],
    rotation: npt.NDArray[np.float64],
    cell: float,
    seed: int,
) -> npt.NDArray[np.float32]:
    """Four random values in [-1, 1) per lattice cell, looked up at each point.

    The points are rotated by ``rotation`` before the lattice lookup so that the
    cell walls are not aligned with the (often axis-aligned) station surfaces.

    Parameters
    ----------
    points : ndarray of float64, shape (N, 3)
        World points.
    rotation : ndarray of float64, shape (3, 3)
        Fixed rotation of the lattice.
    cell : float
        Side of a lattice cell (metres).
    seed : int
        Selects an independent pattern.

    Returns
    -------
    ndarray of float32, shape (N, 4)
        Column 0 drives the facet's brightness, columns 1-3 its normal tilt.

    Examples
    --------
    >>> pts = np.array([[0.01, 0.02, 0.03], [0.015, 0.02, 0.03], [3.0, 1.0, 2.0]])
    >>> v = facets(pts, np.eye(3), 0.1, 0)
    >>> v.shape, bool(np.array_equal(v[0], v[1])), bool(np.array_equal(v[0], v[2]))
    ((3, 4), True, False)
    """
    out = np.empty((points.shape[0], 4), np.float32)
    for i in range(points.shape[0]):
        vals = _facet_values(points[i, 0], points[i, 1], points[i, 2], rotation, 1.0 / cell, seed)
        for k in range(4):
            out[i, k] = vals[k]
    return out


@numba.njit(cache=True, nogil=True)
def apply_facets(
    points: npt.NDArray[np.float64],
    normal: npt.NDArray[np.float32],
    albedo: npt.NDArray[np.float32],
    amplitude: npt.NDArray[np.float32],
    rotation: npt.NDArray[np.float64],
    cell: float,
    seed: int,
) -> None:
    """Crumpled-facet texture, in place: per-facet brightness and normal tilt.

    Where ``amplitude`` ``a`` > 0, with the facet values ``f`` of :func:`facets`:
    ``albedo *= max(1 + 0.6 a f0, 0)`` and ``normal = unit(normal + 0.5 a f1:4)``.
    """
    inv_cell = 1.0 / cell
    for i in range(points.shape[0]):
        a = amplitude[i]
        if a <= 0:
            continue
        f0, f1, f2, f3 = _facet_values(
            points[i, 0], points[i, 1], points[i, 2], rotation, inv_cell, seed
        )
        gain = max(1.0 + 0.6 * a * f0, 0.0)
        for c in range(3):
            albedo[i, c] *= gain
        nx = normal[i, 0] + 0.5 * a * f1
        ny = normal[i, 1] + 0.5 * a * f2
        nz = normal[i, 2] + 0.5 * a * f3
        inv = 1.0 / math.sqrt(nx * nx + ny * ny + nz * nz)
        normal[i, 0] = nx * inv
        normal[i, 1] = ny * inv
        normal[i, 2] = nz * inv
