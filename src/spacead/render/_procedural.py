"""spacead's procedural textures: a layer its simulator puts over the shared tracing core.

A real station's foil is crumpled and a real Moon has maria; a CAD model has
neither. The simulator adds them as a layer on top of the same light
transport the reference renderer uses (:mod:`spacead.render._core`), so a
generated frame differs from its reference by these details, as a camera
frame would, and not by the renderer:

- **facets**: foil and solar cells get a per-facet brightness and normal tilt
  on a fixed, rotated lattice in world coordinates (:func:`texture_facets`);
- **bodies**: a multi-octave value noise modulates the Moon's and the Earth's
  albedo, with white cloud banks on the Earth (:func:`body_albedo`).

Both are pure functions of the world point (:mod:`spacead.render._noise`), so
a surface looks the same from every pose.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ._noise import apply_facets, fbm

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


def _rotation(axis: tuple[float, float, float], angle: float) -> F64:
    """Rotation matrix about ``axis`` by ``angle`` radians (Rodrigues)."""
    k = np.asarray(axis, np.float64) / np.linalg.norm(axis)
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    rot: F64 = np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * cross @ cross
    return rot


# Fixed, arbitrary lattice rotation: facet walls never line up with axis-aligned faces.
FACET_ROTATION = _rotation((0.31, 0.77, 0.56), 0.83)
_BODY_FREQUENCY = 2.5  # noise cells across a body's unit sphere (first octave)


def texture_facets(
    points: F64, normal: F32, albedo: F32, amplitude: F32, cell: float
) -> tuple[F32, F32]:
    """Crumpled-facet texture: per-facet brightness and normal tilt scaled by ``amplitude``.

    Facets are the cells (side ``cell`` metres) of a fixed, rotated lattice in
    world coordinates, so a part looks the same from every pose. ``normal`` and
    ``albedo`` are modified in place (rows with zero amplitude are untouched)
    and returned.

    Examples
    --------
    >>> pts = np.array([[0.3, 0.1, 2.0], [0.3, 0.1, 2.0]])
    >>> n = np.array([[0, 0, 1], [0, 0, 1]], np.float32)
    >>> alb = np.full((2, 3), 0.5, np.float32)
    >>> n, alb = texture_facets(pts, n, alb, np.array([0.35, 0.0], np.float32), 0.08)
    >>> bool(alb[0, 0] != 0.5), alb[1].tolist(), n[1].tolist()
    (True, [0.5, 0.5, 0.5], [0.0, 0.0, 1.0])
    """
    apply_facets(points, normal, albedo, amplitude, FACET_ROTATION, cell, 0)
    return normal, albedo


def body_albedo(unit: F64, color: npt.ArrayLike, texture: float, cloudy: bool) -> F32:
    """Albedo (N, 3) of points on a body, from their unit position on its sphere.

    A multi-octave value noise modulates ``color`` by up to ``± texture``; a
    ``cloudy`` body (the Earth) also gets bright, white cloud banks blended in
    where a second noise field is high.
    """
    pts = np.ascontiguousarray(unit, np.float64)
    amp = np.float32(texture)
    base = np.asarray(color, np.float32).reshape(1, 3)
    if amp == 0:
        flat: F32 = np.repeat(base, pts.shape[0], axis=0)
        return flat
    relief = fbm(pts, _BODY_FREQUENCY, 5, 11)
    albedo = base * np.maximum(1.0 + 2.0 * amp * (relief - 0.5), 0.0)[:, None]
    if cloudy:
        c = np.clip((fbm(pts, _BODY_FREQUENCY, 4, 23) - 0.48) / 0.14, 0.0, 1.0)
        cover = (c * c * (3.0 - 2.0 * c) * min(1.0, 1.5 * float(amp)))[:, None]
        albedo = albedo * (1.0 - cover) + np.float32(0.95) * cover
    out: F32 = albedo.astype(np.float32, copy=False)
    return out
