"""Tiny hand-made scenes with known geometry, shared by the renderer tests."""

from __future__ import annotations

import numpy as np
import trimesh

from spacead.render import LightPaths, RaycastRenderer, SensorModel
from spacead.scene import FOREGROUND, Camera, Lighting, Part, Scene

THIN = 0.01  # thickness of a plate (m); its front face is THIN / 2 before its centre


def camera(width=320, height=240, fov=60.0, position=(0.0, 0.0, 0.0), rotation=None):
    """Camera at ``position`` looking along +z (identity rotation) unless told otherwise."""
    rot = np.eye(3) if rotation is None else np.asarray(rotation, float)
    return Camera(np.asarray(position, float), rot, width, height, fov)


def plate(size, center, material="white_paint", label=FOREGROUND, name="plate"):
    """A thin square plate facing the camera (normal along z), as a Part."""
    sx, sy = (size, size) if np.isscalar(size) else size
    mesh = trimesh.creation.box(extents=(sx, sy, THIN))
    mesh.apply_translation(center)
    return Part(name, mesh, material, label)


def box(extents, center, material="grey_metal", label=FOREGROUND, name="box"):
    mesh = trimesh.creation.box(extents=extents)
    mesh.apply_translation(center)
    return Part(name, mesh, material, label)


def lighting(sun=(0.0, 0.0, -1.0), irradiance=1.0, spot=0.0, ambient=0.0):
    s = np.asarray(sun, float)
    return Lighting(s / np.linalg.norm(s), irradiance, spotlight_intensity=spot, ambient=ambient)


def scene(*parts, light=None, bodies=()):
    return Scene(tuple(parts), light if light is not None else lighting(), tuple(bodies))


def quiet(**options):
    """A renderer without noise or glare, so pixel values are exact."""
    return RaycastRenderer(sensor=SensorModel(read_noise=0.0, glare=0.0), **options)


def direct(**options):
    """:func:`quiet` with direct light only (one ray per pixel, hard shadows): exact values."""
    return quiet(paths=LightPaths.preset("direct"), **options)


def pixels_inside(cam, corners):
    """Boolean (H, W) map of pixel centres inside the axis-aligned box spanned by projected corners."""
    uvz = cam.project(np.asarray(corners, float))
    u0, u1 = uvz[:, 0].min(), uvz[:, 0].max()
    v0, v1 = uvz[:, 1].min(), uvz[:, 1].max()
    cols = np.arange(cam.width) + 0.5
    rows = np.arange(cam.height) + 0.5
    return ((rows >= v0) & (rows <= v1))[:, None] & ((cols >= u0) & (cols <= u1))[None, :]


def face_corners(size, center, z):
    """The four corners of a square of side ``size`` at depth ``z`` around ``center`` (x, y)."""
    h = size / 2
    cx, cy = center
    return [(cx + a, cy + b, z) for a in (-h, h) for b in (-h, h)]


def ggx_albedo(ndv, roughness, steps=400):
    """The GGX lobe's directional albedo for F = 1 (glTF's D and V), by quadrature over the
    hemisphere of light directions: independent of the visible-normal sampling spacead uses."""
    a2 = max(roughness**4, 1e-6)
    theta = (np.arange(steps) + 0.5) / steps * np.pi / 2
    phi = (np.arange(2 * steps) + 0.5) / (2 * steps) * 2 * np.pi
    t, p = np.meshgrid(theta, phi, indexing="ij")
    light = np.stack([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)], -1)
    view = np.array([np.sqrt(1 - ndv * ndv), 0.0, ndv])
    h = light + view
    h /= np.linalg.norm(h, axis=-1, keepdims=True)
    ndl, ndh = light[..., 2], h[..., 2]
    d = a2 / (np.pi * (ndh**2 * (a2 - 1) + 1) ** 2)
    vis = 1 / ((ndl + np.sqrt(a2 + (1 - a2) * ndl**2)) * (ndv + np.sqrt(a2 + (1 - a2) * ndv**2)))
    solid_angle = np.sin(t) * (np.pi / 2 / steps) * (np.pi / steps)
    return float(np.sum(d * vis * ndl * solid_angle))


def gltf_by_hand(n, v, light, base, metallic, roughness, multiscatter=False):
    """The glTF 2.0 Appendix B BRDF, written out for one direction pair (spacead's pi scale).

    ``multiscatter``: the specular lobe times Turquin's 1 + F0 (1 - E) / E."""
    h = (v + light) / np.linalg.norm(v + light)
    a2 = roughness**4
    ndl, ndv, ndh, vdh = n @ light, n @ v, n @ h, v @ h
    f0 = 0.04 * (1 - metallic) + metallic * np.asarray(base)
    fresnel = f0 + (1 - f0) * (1 - vdh) ** 5
    d = a2 / (np.pi * (ndh**2 * (a2 - 1) + 1) ** 2)
    vis = 1 / ((ndl + np.sqrt(a2 + (1 - a2) * ndl**2)) * (ndv + np.sqrt(a2 + (1 - a2) * ndv**2)))
    diffuse = (1 - fresnel) * (1 - metallic) * np.asarray(base) / np.pi
    gain = 1.0
    if multiscatter:
        albedo = ggx_albedo(ndv, roughness)
        gain = 1 + f0 * (1 - albedo) / albedo
    return np.pi * (diffuse + fresnel * d * vis * gain) * ndl
