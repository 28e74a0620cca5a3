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

from spacead.scene import Lighting

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


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
