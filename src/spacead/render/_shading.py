r"""Local shading: Sun, camera spotlight and ambient light on Lambert + Blinn-Phong surfaces.

All quantities are linear radiance on the scene's scale (a white Lambertian
surface facing a Sun of irradiance 1 has radiance 1); exposure, tone curve and
noise are the sensor's business (:mod:`spacead.render._sensor`).

For a surface point with unit normal :math:`n`, unit direction to the camera
:math:`v`, unit direction to the Sun :math:`s`, distance :math:`r` to the
camera and half vector :math:`h = (s + v) / \lVert s + v \rVert`:

.. math::

    E_\odot &= E_{sun}\, V\, \max(n \cdot s, 0), \qquad
    E_{spot} = \frac{I\, c(\theta)}{r^2} \max(n \cdot v, 0) \\
    L &= \rho\,(A + E_\odot + E_{spot})
       + k_s \left(E_\odot (n \cdot h)^{\alpha} + E_{spot} (n \cdot v)^{\alpha}\right)

with :math:`V \in \{0, 1\}` the Sun's visibility (hard shadows), :math:`c(\theta)`
the spotlight's cone falloff at angle :math:`\theta` off the optical axis, :math:`A`
the ambient term, :math:`\rho` the albedo and :math:`k_s, \alpha` the material's
specular reflectance and Blinn-Phong exponent. The spotlight sits at the camera
centre, so its light direction is :math:`v` and it casts no visible shadow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from spacead.scene import Lighting, Material

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
_FACET_ROTATION = _rotation((0.31, 0.77, 0.56), 0.83)
_BODY_FREQUENCY = 2.5  # noise cells across a body's unit sphere (first octave)


@dataclass(frozen=True)
class Surface:
    """Per-hit inputs of the shading, one row per visible surface point.

    Attributes
    ----------
    normal : ndarray of float32, shape (N, 3)
        Unit normal, oriented towards the camera.
    view : ndarray of float32, shape (N, 3)
        Unit direction from the point to the camera.
    distance : ndarray of float32, shape (N,)
        Distance to the camera (metres, > 0).
    spot : ndarray of float32, shape (N,)
        Spotlight cone factor in [0, 1] of the pixel.
    sun_visible : ndarray of float32, shape (N,)
        1 where the Sun is visible from the point, 0 in shadow.
    albedo : ndarray of float32, shape (N, 3)
        Diffuse reflectance (after texturing).
    specular, shininess : ndarray of float32, shape (N,)
        Blinn-Phong reflectance and exponent.
    """

    normal: F32
    view: F32
    distance: F32
    spot: F32
    sun_visible: F32
    albedo: F32
    specular: F32
    shininess: F32


def _rowdot(a: F32, b: F32) -> F32:
    out: F32 = np.einsum("ij,ij->i", a, b)
    return out


def shade(surface: Surface, lighting: Lighting) -> F32:
    """Linear radiance (N, 3) of each surface point (see the module docstring).

    Examples
    --------
    >>> one = np.ones(1, np.float32)
    >>> up = np.array([[0, 0, 1]], np.float32)
    >>> s = Surface(up, up, 2 * one, one, one, np.full((1, 3), 0.5, np.float32), 0 * one, one)
    >>> shade(s, Lighting(np.array([0.0, 0, 1]), 1.0, spotlight_intensity=4.0)).tolist()
    [[1.0, 1.0, 1.0]]
    """
    n, v = surface.normal, surface.view
    sun64 = np.asarray(lighting.sun_direction, np.float64)
    sun_dir = (sun64 / np.linalg.norm(sun64)).astype(np.float32)
    ndv = np.clip(_rowdot(n, v), 0.0, 1.0)
    e_spot = surface.spot * ndv
    e_spot *= np.float32(lighting.spotlight_intensity) / np.maximum(surface.distance**2, 1e-12)
    e_sun = np.maximum(n @ sun_dir, np.float32(0.0))
    e_sun *= np.float32(lighting.sun_irradiance) * surface.sun_visible
    half = v + sun_dir
    half *= (1.0 / np.sqrt(np.maximum(_rowdot(half, half), np.float32(1e-12))))[:, None]
    ndh = np.clip(_rowdot(n, half), 0.0, 1.0)
    lobe = e_sun * ndh**surface.shininess
    lobe += e_spot * ndv**surface.shininess
    lobe *= surface.specular
    radiance = surface.albedo * (np.float32(lighting.ambient) + e_sun + e_spot)[:, None]
    radiance += lobe[:, None]
    out: F32 = radiance.astype(np.float32, copy=False)
    return out


def spot_cone(cos_axis: F32, size_deg: float, blend: float) -> F32:
    """Spotlight falloff in [0, 1] from the cosine of the angle to the optical axis.

    Full intensity inside the inner cone of half-angle ``(1 - blend) · size / 2``,
    smoothstep down to 0 at the outer half-angle ``size / 2`` (Blender's spot
    size and blend).

    Examples
    --------
    >>> c = np.cos(np.radians([0.0, 30.0, 40.0])).astype(np.float32)
    >>> [round(float(v), 3) for v in spot_cone(c, 70.0, 0.3)]
    [1.0, 0.524, 0.0]
    """
    cos_outer = float(np.cos(np.radians(size_deg / 2)))
    if blend <= 0:
        hard: F32 = (cos_axis >= cos_outer).astype(np.float32)
        return hard
    cos_inner = float(np.cos(np.radians((1.0 - blend) * size_deg / 2)))
    x = np.clip((cos_axis - np.float32(cos_outer)) / np.float32(cos_inner - cos_outer), 0.0, 1.0)
    smooth: F32 = (x * x * (3.0 - 2.0 * x)).astype(np.float32, copy=False)
    return smooth


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
    apply_facets(points, normal, albedo, amplitude, _FACET_ROTATION, cell, 0)
    return normal, albedo


def body_albedo(unit: F64, material: Material, cloudy: bool) -> F32:
    """Albedo (N, 3) of points on a body, from their unit position on its sphere.

    A multi-octave value noise modulates the material's albedo by up to
    ``± texture``; a ``cloudy`` body (the Earth) also gets bright, white cloud
    banks blended in where a second noise field is high.
    """
    pts = np.ascontiguousarray(unit, np.float64)
    amp = np.float32(material.texture)
    base = np.asarray(material.albedo, np.float32)[None, :]
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
