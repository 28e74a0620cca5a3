"""A synthetic HiRISE-like frame: shaded fractal terrain with planted hardware.

Terrain is a spectral fractional-Brownian-motion height field (power spectrum exponents
3.2 and 2.8, i.e. Hurst exponents 0.6 and 0.4, in the range measured for Martian
surfaces at metre scales; exponent 2 would shade into white noise) with craters
(power-law sizes, raised rims) and dune fields, hill-shaded by a sun at a given azimuth and
elevation, multiplied by a low-frequency albedo, with sensor noise and black no-data
margins around a slightly rotated footprint, as in map-projected HiRISE products.
Planted objects imitate the hardware of the MSL landing site: bright parachute-like
discs, dark heat-shield-like blobs, small lander/rover boxes with cast shadows and
small bright new impact spots with dark blast halos, at their sizes in a 25 cm/pixel
HiRISE frame (an MSL-class parachute is 21.5 m across: up to 86 px).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import fft

F32 = npt.NDArray[np.float32]
OBJECT_KINDS = ("parachute", "heat_shield", "lander", "impact_spot")


@dataclass(frozen=True)
class PlantedObject:
    """A planted object and its bounding box ``[y0, y1) × [x0, x1)`` in frame pixels."""

    kind: str
    y0: int
    x0: int
    y1: int
    x1: int

    def to_dict(self) -> dict[str, Any]:
        """The object as a JSON-ready dict."""
        return asdict(self)

    def overlaps(self, y: int, x: int, size: int) -> bool:
        """Whether the tile with top-left ``(y, x)`` and side `size` overlaps the box."""
        return y < self.y1 and y + size > self.y0 and x < self.x1 and x + size > self.x0


def _fbm(shape: tuple[int, int], beta: float, rng: np.random.Generator) -> F32:
    h, w = shape
    fy = fft.fftfreq(h).astype(np.float32)[:, None]
    fx = fft.rfftfreq(w).astype(np.float32)[None, :]
    f = np.sqrt(fy * fy + fx * fx)
    f[0, 0] = 1.0
    amp = f ** np.float32(-beta / 2)
    amp[0, 0] = 0.0
    noise = rng.standard_normal((h, w), dtype=np.float32)
    field = fft.irfft2(fft.rfft2(noise, workers=-1) * amp, s=shape, workers=-1)
    field = field.astype(np.float32)
    out: F32 = (field - field.mean()) / np.float32(field.std() + 1e-12)
    return out


def _add_craters(height: F32, rng: np.random.Generator, density: float) -> None:
    h, w = height.shape
    n = int(density * h * w / 1e6)
    radii = np.minimum(4.0 * (1.0 - rng.random(n)) ** (-1.0 / 1.8), min(h, w) / 8)
    for r, cy, cx in zip(radii, rng.random(n) * h, rng.random(n) * w, strict=True):
        ext = int(2.5 * r) + 1
        y0, y1 = max(int(cy) - ext, 0), min(int(cy) + ext, h)
        x0, x1 = max(int(cx) - ext, 0), min(int(cx) + ext, w)
        yy, xx = np.ogrid[y0:y1, x0:x1]
        rn = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2, dtype=np.float32) / np.float32(r)
        bowl = np.where(rn < 1, rn * rn - 1, 0) * (0.25 * r)
        rim = 0.06 * r * np.exp(-(((rn - 1) / 0.25) ** 2))
        height[y0:y1, x0:x1] += (bowl + rim).astype(np.float32)


def _add_dunes(height: F32, rng: np.random.Generator) -> None:
    h, w = height.shape
    yy, xx = np.ogrid[0:h, 0:w]
    theta = rng.uniform(0, np.pi)
    wavelength = rng.uniform(40, 80)
    phase = (xx * np.cos(theta) + yy * np.sin(theta)).astype(np.float32) / np.float32(wavelength)
    wobble = _fbm((h, w), 3.0, rng) * np.float32(0.4)
    p = (phase + wobble) % 1.0
    saw = np.where(p < 0.7, p / 0.7, (1 - p) / 0.3)  # asymmetric: gentle stoss, steep lee
    mask = np.clip(_fbm((h, w), 4.0, rng) * np.float32(1.5), 0, 1)
    height += (saw * mask * np.float32(0.12 * wavelength)).astype(np.float32)


def _hillshade(height: F32, azimuth: float, elevation: float) -> F32:
    gy, gx = np.gradient(height)
    az, el = np.deg2rad(azimuth), np.deg2rad(elevation)
    sx, sy, sz = np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)
    shade = (-gx * sx - gy * sy + sz) / np.sqrt(1 + gx * gx + gy * gy)
    out: F32 = np.clip(shade, 0, 1).astype(np.float32)
    return out


def _margin_mask(h: int, w: int, rng: np.random.Generator) -> npt.NDArray[np.bool_]:
    angle = np.deg2rad(rng.uniform(3, 8))
    yy, xx = np.ogrid[0:h, 0:w]
    u = (xx - w / 2) * np.cos(angle) + (yy - h / 2) * np.sin(angle)
    v = -(xx - w / 2) * np.sin(angle) + (yy - h / 2) * np.cos(angle)
    return np.asarray((np.abs(u) < 0.44 * w) & (np.abs(v) < 0.46 * h))


def _blend(img: F32, cy: float, cx: float, r: float, soft: float) -> tuple[F32, F32]:
    ext = int(r + 3 * soft) + 1
    y0, x0 = int(cy) - ext, int(cx) - ext
    yy, xx = np.ogrid[y0 : int(cy) + ext + 1, x0 : int(cx) + ext + 1]
    d = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
    a = np.clip((r - d) / soft + 0.5, 0, 1).astype(np.float32)
    return img[y0 : y0 + a.shape[0], x0 : x0 + a.shape[1]], a


def _disc(img: F32, cy: float, cx: float, r: float, value: float, soft: float = 1.0) -> None:
    """Paint a soft-edged disc of constant `value`."""
    win, a = _blend(img, cy, cx, r, soft)
    win *= 1 - a
    win += a * np.float32(value)


def _shade(img: F32, cy: float, cx: float, r: float, factor: float, soft: float = 1.0) -> None:
    """Multiply a soft-edged disc by `factor` (darkening keeps the terrain texture)."""
    win, a = _blend(img, cy, cx, r, soft)
    win *= 1 - a * np.float32(1 - factor)


def _plant(
    img: F32, kind: str, cy: float, cx: float, sun_azimuth: float, rng: np.random.Generator
) -> PlantedObject:
    dy, dx = -np.sin(np.deg2rad(sun_azimuth)), -np.cos(np.deg2rad(sun_azimuth))  # shadow
    if kind == "parachute":
        r = rng.uniform(20, 40)
        _shade(img, cy + 0.4 * r * dy, cx + 0.4 * r * dx, r, 0.4, 1.5)
        _disc(img, cy, cx, r, 235.0, 1.5)
        _disc(img, cy, cx, 0.35 * r, 205.0)
        ext = 1.4 * r + 3
    elif kind == "heat_shield":
        r = rng.uniform(8, 11)
        _shade(img, cy, cx, 2.5 * r, 0.6, 4.0)  # darkened impact scar
        _disc(img, cy, cx, r, 35.0)
        _disc(img, cy - 0.3 * r, cx + 0.2 * r, 0.3 * r, 240.0)
        ext = 2.5 * r + 6
    elif kind == "lander":
        half = rng.uniform(6, 12)
        sl = 1.6 * half
        ys = slice(int(cy - half + sl * dy), int(cy + half + sl * dy))
        xs = slice(int(cx - half + sl * dx), int(cx + half + sl * dx))
        img[ys, xs] *= 0.3
        img[int(cy - half) : int(cy + half), int(cx - half) : int(cx + half)] = 225.0
        ext = half + sl + 2
    else:  # impact_spot
        r = rng.uniform(6, 12)
        _shade(img, cy, cx, 2.5 * r, 0.45, 2.0)  # dark blast zone
        _disc(img, cy, cx, 0.5 * r, 245.0)
        ext = 2.5 * r + 4
    return PlantedObject(
        kind, int(cy - ext), int(cx - ext), int(np.ceil(cy + ext)), int(np.ceil(cx + ext))
    )


def _check_kinds(kinds: tuple[str, ...]) -> None:
    if not kinds or any(k not in OBJECT_KINDS for k in kinds):
        raise ValueError(f"kinds must be among {OBJECT_KINDS}, got {kinds!r}")


def _sites(
    valid: npt.NDArray[np.bool_], n: int, rng: np.random.Generator, spacing: int
) -> list[tuple[int, int]]:
    h, w = valid.shape
    sites: list[tuple[int, int]] = []
    for _ in range(200 * max(n, 1)):
        if len(sites) == n:
            break
        cy, cx = int(rng.integers(64, h - 64)), int(rng.integers(64, w - 64))
        if not valid[cy - 48 : cy + 48 : 8, cx - 48 : cx + 48 : 8].all():
            continue
        if all(max(abs(cy - y), abs(cx - x)) >= spacing for y, x in sites):
            sites.append((cy, cx))
    if len(sites) < n:
        raise ValueError(f"n_objects={n} objects do not fit in a {h}×{w} frame")
    return sites


def make_planetary_frame(
    height: int,
    width: int,
    *,
    rng: int | np.random.Generator | None = None,
    n_objects: int = 8,
    kinds: tuple[str, ...] = OBJECT_KINDS,
    sun_azimuth: float = 200.0,
    sun_elevation: float = 35.0,
    crater_density: float = 25.0,
    dunes: bool = True,
    margins: bool = True,
    noise: float = 2.0,
) -> tuple[npt.NDArray[np.uint8], list[PlantedObject]]:
    """Synthesise a HiRISE-like orbital frame with hardware-like objects at known places.

    Parameters
    ----------
    height, width : int
        Frame size in pixels (at least 256 each).
    rng : int, numpy.random.Generator or None
        Seed or generator; the same seed gives the same frame.
    n_objects : int
        Number of planted objects, cycling through `kinds` and kept at least 256 px
        apart (so one tile shows at most one object).
    kinds : tuple of str
        Object kinds among ``"parachute"`` (bright disc, 40–80 px), ``"heat_shield"``
        (dark 16–22 px disc in a darker 40–55 px scar), ``"lander"`` (bright 12–24 px
        box with a shadow) and ``"impact_spot"`` (small bright spot in a dark
        30–60 px blast zone).
    sun_azimuth, sun_elevation : float
        Sun direction in degrees (azimuth counter-clockwise from +x, image y down).
    crater_density : float
        Craters per million pixels (radii follow a power law from 4 px).
    dunes : bool
        Add fields of asymmetric dunes.
    margins : bool
        Black (0) no-data margins around a rotated footprint.
    noise : float
        Standard deviation of Gaussian sensor noise in grey levels.

    Returns
    -------
    image : ndarray of uint8, shape (height, width)
        The frame; valid pixels are in [1, 255], no-data pixels are 0.
    objects : list of PlantedObject
        The planted objects with their boxes, in planting order.

    Examples
    --------
    >>> image, objects = make_planetary_frame(512, 512, rng=0, n_objects=1)
    >>> image.shape, image.dtype, objects[0].kind
    ((512, 512), dtype('uint8'), 'parachute')
    """
    if height < 256 or width < 256:
        raise ValueError(f"height and width must be at least 256, got {height}×{width}")
    _check_kinds(kinds)
    gen = np.random.default_rng(rng)
    shape = (height, width)
    relief = _fbm(shape, 3.2, gen) * np.float32(0.03 * min(height, width) ** 0.6)
    relief += _fbm(shape, 2.8, gen) * np.float32(0.6)
    _add_craters(relief, gen, crater_density)
    if dunes:
        _add_dunes(relief, gen)
    albedo = 1 + np.float32(0.12) * _fbm(shape, 3.5, gen)
    img = _hillshade(relief, sun_azimuth, sun_elevation) * albedo * np.float32(190)
    img += gen.standard_normal(shape, dtype=np.float32) * np.float32(noise)
    valid = _margin_mask(height, width, gen) if margins else np.ones(shape, dtype=bool)
    objects = _plant_all(img, valid, n_objects, kinds, sun_azimuth, gen)
    out = np.clip(img, 1, 255).astype(np.uint8)
    out[~valid] = 0
    return out, objects


def _plant_all(
    img: F32,
    valid: npt.NDArray[np.bool_],
    n_objects: int,
    kinds: tuple[str, ...],
    sun_azimuth: float,
    gen: np.random.Generator,
) -> list[PlantedObject]:
    spacing = 256 if n_objects * 256 * 256 * 2 < valid.sum() else 96
    sites = _sites(valid, n_objects, gen, spacing)
    return [
        _plant(img, kinds[i % len(kinds)], cy, cx, sun_azimuth, gen)
        for i, (cy, cx) in enumerate(sites)
    ]


def plant_objects(
    image: npt.ArrayLike,
    n_objects: int,
    *,
    rng: int | np.random.Generator | None = None,
    kinds: tuple[str, ...] = OBJECT_KINDS,
    sun_azimuth: float = 200.0,
) -> tuple[npt.NDArray[np.uint8], list[PlantedObject]]:
    """Plant hardware-like objects on a grey 8-bit frame of real terrain.

    The objects are those of :func:`make_planetary_frame`, at the same places rules
    (no-data pixels, 0, are avoided; objects at least 256 px apart where they fit):
    the way to check the completion detector on images it was not built on.

    Parameters
    ----------
    image : array_like of uint8, shape (H, W)
        The frame, at least 256 px on each side; 0 is no-data.
    n_objects : int
        Number of objects.
    rng, kinds, sun_azimuth
        As in :func:`make_planetary_frame`; `sun_azimuth` sets the shadows' side.

    Returns
    -------
    image : ndarray of uint8, shape (H, W)
        A copy of the frame with the objects.
    objects : list of PlantedObject

    Examples
    --------
    >>> from skimage import data, transform
    >>> moon = (transform.rescale(data.moon(), 2, order=3) * 255).astype(np.uint8)
    >>> image, objects = plant_objects(moon, 2, rng=0)
    >>> image.shape, len(objects)
    ((1024, 1024), 2)
    """
    frame = np.asarray(image)
    if frame.ndim != 2 or frame.dtype != np.uint8:
        raise ValueError(
            f"image must be a grey uint8 array (H, W), got {frame.dtype} of shape {frame.shape}"
        )
    if min(frame.shape) < 256:
        raise ValueError(f"image must be at least 256 px on each side, got {frame.shape}")
    _check_kinds(kinds)
    gen = np.random.default_rng(rng)
    img = frame.astype(np.float32)
    valid = frame > 0
    objects = _plant_all(img, valid, n_objects, kinds, sun_azimuth, gen)
    out = np.clip(img, 1, 255).astype(np.uint8)
    out[~valid] = 0
    return out, objects
