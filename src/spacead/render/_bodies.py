"""Analytic ray tests against the celestial spheres (Moon, Earth).

The bodies are a handful of exact spheres far from the station, so a
closed-form ray-sphere test in NumPy is cheaper and more precise than meshing
them: only the rays inside each sphere's angular cone are tested.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]


def intersect_spheres(origin: F64, directions: F32, centers: F64, radii: F64) -> tuple[F64, I32]:
    """Nearest sphere hit of rays from one ``origin`` along unit ``directions``.

    Parameters
    ----------
    origin : ndarray, shape (3,)
        Common ray origin (the camera centre).
    directions : ndarray, shape (N, 3)
        Unit ray directions.
    centers : ndarray, shape (B, 3)
        Sphere centres.
    radii : ndarray, shape (B,)
        Sphere radii (> 0).

    Returns
    -------
    distance : ndarray of float64, shape (N,)
        Distance to the nearest sphere surface in front of the origin; ``inf`` for none.
    index : ndarray of int32, shape (N,)
        Index of that sphere; -1 for none.

    Examples
    --------
    >>> d = np.array([[0, 0, 1], [1, 0, 0]], np.float32)
    >>> t, i = intersect_spheres(np.zeros(3), d, np.array([[0.0, 0, 10]]), np.array([2.0]))
    >>> t.tolist(), i.tolist()
    ([8.0, inf], [0, -1])
    """
    n = directions.shape[0]
    best = np.full(n, np.inf)
    index = np.full(n, -1, np.int32)
    for b, (center, radius) in enumerate(zip(centers, radii, strict=True)):
        oc = np.asarray(center, np.float64) - origin
        dist = float(np.linalg.norm(oc))
        inside = dist <= radius
        if inside:
            rows = np.arange(n)
        else:
            cos_cone = np.sqrt(max(0.0, 1.0 - (radius / dist) ** 2))
            axis = (oc / dist).astype(np.float32)
            # float32 slack: a ray grazing the limb may be tested needlessly, never missed
            rows = np.flatnonzero(directions @ axis >= cos_cone - 1e-5)
        if rows.size == 0:
            continue
        d = directions[rows].astype(np.float64)
        proj = d @ oc
        perp = oc[None, :] - proj[:, None] * d
        h2 = radius**2 - np.einsum("ij,ij->i", perp, perp)
        ok = h2 >= 0
        root = np.sqrt(np.where(ok, h2, 0.0))
        t = proj + root if inside else proj - root
        ok &= t > 0
        rows, t = rows[ok], t[ok]
        closer = t < best[rows]
        best[rows[closer]] = t[closer]
        index[rows[closer]] = b
    return best, index


def sphere_shadow(points: F64, direction: F64, centers: F64, radii: F64) -> npt.NDArray[np.bool_]:
    """Whether a sphere blocks the ray from each point towards ``direction`` (an eclipse).

    Parameters
    ----------
    points : ndarray, shape (N, 3)
        Surface points (outside the spheres).
    direction : ndarray, shape (3,)
        Unit direction towards the light.
    centers, radii : ndarray, shapes (B, 3) and (B,)
        The spheres.

    Returns
    -------
    ndarray of bool, shape (N,)

    Examples
    --------
    >>> pts = np.array([[0.0, 0, 0], [5.0, 0, 0]])
    >>> sun = np.array([0.0, 0, 1])
    >>> sphere_shadow(pts, sun, np.array([[0.0, 0, 10]]), np.array([1.0])).tolist()
    [True, False]
    """
    blocked = np.zeros(points.shape[0], np.bool_)
    for center, radius in zip(centers, radii, strict=True):
        oc = np.asarray(center, np.float64)[None, :] - points
        proj = oc @ direction
        perp2 = np.einsum("ij,ij->i", oc, oc) - proj**2
        blocked |= (proj > 0) & (perp2 < radius**2)
    return blocked


def intersect_spheres_from(
    origins: F64, directions: F32, centers: F64, radii: F64
) -> tuple[F64, I32]:
    """Nearest sphere hit of rays from their own ``origins`` (N, 3) along unit ``directions``.

    As :func:`intersect_spheres`, for rays that leave the station's surfaces
    (bounces): every ray is tested against every sphere (there are few).

    Examples
    --------
    >>> o = np.array([[0.0, 0, 0], [5.0, 0, 0]])
    >>> d = np.array([[0, 0, 1], [0, 0, 1]], np.float32)
    >>> t, i = intersect_spheres_from(o, d, np.array([[0.0, 0, 10]]), np.array([2.0]))
    >>> t.tolist(), i.tolist()
    ([8.0, inf], [0, -1])
    """
    n = directions.shape[0]
    best = np.full(n, np.inf)
    index = np.full(n, -1, np.int32)
    d = directions.astype(np.float64)
    for b, (center, radius) in enumerate(zip(centers, radii, strict=True)):
        oc = np.asarray(center, np.float64)[None, :] - origins
        proj = np.einsum("ij,ij->i", d, oc)
        h2 = radius**2 - (np.einsum("ij,ij->i", oc, oc) - proj**2)
        root = np.sqrt(np.maximum(h2, 0.0))
        inside = np.einsum("ij,ij->i", oc, oc) <= radius**2
        t = np.where(inside, proj + root, proj - root)
        ok = (h2 >= 0) & (t > 0) & (t < best)
        best[ok] = t[ok]
        index[ok] = b
    return best, index
