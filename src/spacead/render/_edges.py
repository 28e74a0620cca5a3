"""Where one ray per pixel is not enough, and the sub-pixel samples taken there.

A camera (and Cycles, with its Blackman-Harris pixel filter) integrates
light over a small area around each pixel centre; one ray through the centre
gets the same answer only where nothing changes within that area. Two kinds of
pixel get more samples: **edges** (a neighbour sees another material or
body, a depth step, or a surface turned by more than ~25°) and **penumbrae**
(the Sun's hard visibility changes nearby: with the Sun's disc, shadow
edges are soft over a few pixels). Their samples are spread over the pixel by
the filter's own distribution, and each takes a direction towards a point of
the Sun's disc: the same samples anti-alias the edge and soften the shadow.
"""

from __future__ import annotations

import math

import cv2
import numba
import numpy as np
import numpy.typing as npt

from ._pbr import sequence

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]

# Pixels: the Blackman-Harris window spans ±0.75 px. Cycles' default filter (width 1.5) spans
# ±1.5 px (scene/film.cpp doubles the width for this window); that support was measured too, and
# on the independent station's development sets it cost MRAD 4-7 points of image AUROC for at most
# 0.7 of pixel AP with any camera blur (docs/reference-pipeline.md): the narrower window is kept.
FILTER_WIDTH = 1.5
DEPTH_STEP = 0.02  # relative depth change between neighbours that makes an edge
CREASE_COS = 0.9  # neighbours' geometric normals closer than this: an edge (~25 degrees)
SHADOW_REACH = 0.25  # assumed occluder-to-receiver over camera-to-receiver distance
_SALT_OFFSET, _SALT_DISC = 3, 4


def _blackman_harris_icdf(n: int = 1025) -> F64:
    """Offsets ``x`` at ``n`` evenly spaced values of the Blackman-Harris window's CDF."""
    x = np.linspace(-FILTER_WIDTH / 2, FILTER_WIDTH / 2, 4097)
    t = 2.0 * np.pi * (x / FILTER_WIDTH + 0.5)
    w = 0.35875 - 0.48829 * np.cos(t) + 0.14128 * np.cos(2 * t) - 0.01168 * np.cos(3 * t)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (w[1:] + w[:-1]))])
    out: F64 = np.interp(np.linspace(0.0, 1.0, n), cdf / cdf[-1], x)
    return out


ICDF = _blackman_harris_icdf()


@numba.njit(cache=True, nogil=True, fastmath=True)
def _lookup(table: F64, u: float) -> float:  # pragma: no cover - compiled
    x = u * (table.shape[0] - 1)
    k = min(int(x), table.shape[0] - 2)
    f = x - k
    return float(table[k] * (1.0 - f) + table[k + 1] * f)


@numba.njit(cache=True, nogil=True, fastmath=True)
def edge_samples(
    pixels: npt.NDArray[np.intp],
    samples: int,
    xy: F32,
    icdf: F64,
    antialias: bool,
    sun: F64,
    disc: F64,
    out_ray: F32,
    out_offset: F32,
    out_sun: F32,
) -> None:  # pragma: no cover - compiled; tested through the renderer
    """Camera-frame rays, offsets and Sun directions of ``samples`` samples per edge pixel.

    Offsets (x, y) from the pixel centre follow the filter (``icdf``: its
    inverse CDF) when ``antialias``, else 0; the ray interpolates the pixel
    grid's undistorted image coordinates ``xy`` (H, W, 2) bilinearly (exact
    for a pinhole). Sun directions spread uniformly over the disc of
    tangent-plane radius ``disc[0]`` around ``sun``, in the basis ``disc[1:4]``,
    ``disc[4:7]`` (radius 0: the centre only).
    """
    h, w = xy.shape[0], xy.shape[1]
    for i in range(pixels.shape[0]):
        p = pixels[i]
        row = p // w
        col = p - row * w
        for k in range(samples):
            j = i * samples + k
            ox = oy = 0.0
            if antialias:
                u, v = sequence(p, k, _SALT_OFFSET)
                ox, oy = _lookup(icdf, u), _lookup(icdf, v)
            out_offset[j, 0], out_offset[j, 1] = ox, oy
            x = min(max(col + ox, 0.0), w - 1.0)
            y = min(max(row + oy, 0.0), h - 1.0)
            x0 = min(int(x), max(w - 2, 0))
            y0 = min(int(y), max(h - 2, 0))
            x1, y1 = min(x0 + 1, w - 1), min(y0 + 1, h - 1)
            fx, fy = x - x0, y - y0
            for c in range(2):
                top = xy[y0, x0, c] * (1.0 - fx) + xy[y0, x1, c] * fx
                bottom = xy[y1, x0, c] * (1.0 - fx) + xy[y1, x1, c] * fx
                out_ray[j, c] = top * (1.0 - fy) + bottom * fy
            out_ray[j, 2] = 1.0
            norm = math.sqrt(out_ray[j, 0] ** 2 + out_ray[j, 1] ** 2 + 1.0)
            for c in range(3):
                out_ray[j, c] /= norm
            a = b = 0.0
            if disc[0] > 0.0:
                u, v = sequence(p, k, _SALT_DISC)
                r = math.sqrt(u) * disc[0]
                a, b = r * math.cos(2.0 * math.pi * v), r * math.sin(2.0 * math.pi * v)
            sx = sun[0] + a * disc[1] + b * disc[4]
            sy = sun[1] + a * disc[2] + b * disc[5]
            sz = sun[2] + a * disc[3] + b * disc[6]
            norm = math.sqrt(sx * sx + sy * sy + sz * sz)
            out_sun[j, 0], out_sun[j, 1], out_sun[j, 2] = sx / norm, sy / norm, sz / norm


def disc_frame(sun: F64, angle_deg: float) -> F64:
    """``[tan(angle / 2), t, b]`` (7,): the Sun disc's radius and a basis of its plane."""
    helper = np.array([1.0, 0.0, 0.0]) if abs(sun[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    t = np.cross(sun, helper)
    t /= np.linalg.norm(t)
    b = np.cross(sun, t)
    return np.concatenate([[math.tan(math.radians(angle_deg) / 2)], t, b])


@numba.njit(cache=True, nogil=True)
def _geometry_edges(
    material: I32, depth: F32, geo_normal: F32, out: npt.NDArray[np.bool_]
) -> None:  # pragma: no cover - compiled; tested through the renderer
    """``out``: pixels whose 8 neighbours see another material, a depth step or a crease.

    Written with numba: eight shifted copies of three images in NumPy took
    7 ms at 480 × 270, a quarter of the edge pass. Outside the image counts as
    the pixel itself. Creases need a mesh surface on both sides (a geometric
    normal); the Moon and the Earth have none, so their discs are no edges.
    """
    h, w = material.shape
    for y in range(h):
        for x in range(w):
            m = material[y, x]
            d = depth[y, x] if math.isfinite(depth[y, x]) else 0.0
            nx, ny, nz = geo_normal[y, x, 0], geo_normal[y, x, 1], geo_normal[y, x, 2]
            mesh = nx != 0.0 or ny != 0.0 or nz != 0.0
            edge = False
            for dy in range(-1, 2):
                yy = min(max(y + dy, 0), h - 1)
                for dx in range(-1, 2):
                    xx = min(max(x + dx, 0), w - 1)
                    other = material[yy, xx]
                    if other != m:
                        edge = True
                        break
                    if m < 0:
                        continue
                    e = depth[yy, xx] if math.isfinite(depth[yy, xx]) else 0.0
                    if abs(e - d) > DEPTH_STEP * d:
                        edge = True
                        break
                    dot = (
                        nx * geo_normal[yy, xx, 0]
                        + ny * geo_normal[yy, xx, 1]
                        + nz * geo_normal[yy, xx, 2]
                    )
                    if mesh and dot < CREASE_COS:
                        edge = True
                        break
                if edge:
                    break
            out[y, x] = edge


def edge_pixels(
    material: I32, depth: F32, geo_normal: F32, sun_state: npt.NDArray[np.uint8], radius: int
) -> npt.NDArray[np.intp]:
    """Flat indices of the pixels that get sub-pixel samples (see the module notes).

    ``material`` is -1 for space; ``sun_state`` is 0 where no surface faces the
    Sun, 1 in hard shadow, 2 lit; ``radius`` widens shadow boundaries to the
    penumbra's width (pixels).
    """
    edges = np.empty(material.shape, np.bool_)
    _geometry_edges(material, depth, geo_normal, edges)
    facing = (sun_state > 0).view(np.uint8)
    lit = (sun_state == 2).view(np.uint8)
    size = 2 * radius + 1
    kernel = np.ones((size, size), np.uint8)
    boundary = (cv2.dilate(lit, kernel) != cv2.erode(lit | (1 - facing), kernel)) & (facing > 0)
    out: npt.NDArray[np.intp] = np.flatnonzero(edges | boundary)
    return out


def penumbra_radius(pixel_angle: float, sun_angle_deg: float) -> int:
    """Pixels either side of a hard shadow edge that its penumbra may cover (1 to 8).

    ``pixel_angle`` is the angle (radians) one pixel spans at the image centre.

    Examples
    --------
    >>> pixel = math.radians(60) / 1920  # a 60-degree camera at 1080p
    >>> penumbra_radius(pixel, 0.53), penumbra_radius(4 * pixel, 0.53)
    (3, 1)
    """
    half = 0.5 * SHADOW_REACH * math.radians(sun_angle_deg) / pixel_angle
    return int(min(max(math.ceil(half), 1), 8))
