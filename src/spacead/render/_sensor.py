r"""Camera sensor effects: exposure, glare, shot and read noise, tone curve, 8-bit output.

Renderer-independent: any renderer that produces linear radiance (the ray
caster here, or Blender Cycles writing linear EXR) can share one sensor model,
so the noise and glare statistics of a dataset do not depend on the renderer.

Pipeline, for linear radiance :math:`L` (1 = a white surface facing the Sun):

1. exposure: :math:`x = k L`;
2. glare (bloom): :math:`x \mathrel{+}= g\, G_\sigma * \max(x - \tau, 0)`, the
   excess over the saturation threshold :math:`\tau` blurred by a wide Gaussian
   (computed at reduced resolution, as the blur is wide);
3. shot noise: :math:`x \mathrel{+}= \sqrt{q\, x / 255}\; \mathcal{N}(0, 1)`
   (photon noise; :math:`q` in grey levels);
4. clipping to [0, 1] and the tone curve :math:`y = 255\, x^{1/\gamma}`;
5. read noise: :math:`y \mathrel{+}= \sigma\, \mathcal{N}(0, 1)` in output grey levels;
6. rounding and clipping to ``uint8``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import cv2
import numpy as np
import numpy.typing as npt

from spacead._validate import check_known_fields, check_positive

from .._threads import map_tiles, tile_bounds, tile_threads

F32 = npt.NDArray[np.float32]
RNG = int | np.random.Generator | None

_TILE_ROWS = 16  # image rows per noise band (fixed: the noise must not depend on threads)


@dataclass(frozen=True)
class SensorModel:
    r"""A camera sensor: exposure, glare, noise and tone curve.

    Attributes
    ----------
    exposure : float
        Gain applied to linear radiance before everything else (> 0).
    gamma : float
        Exponent of the tone curve :math:`y = x^{1/\gamma}` (1 = linear output).
    read_noise : float
        Standard deviation of the Gaussian read noise, in output grey levels (≥ 0).
    shot_noise : float
        Photon-noise variance per grey level of signal (≥ 0; 0 disables it). A
        full-well capacity of :math:`w` electrons mapped to 255 levels gives
        :math:`255 / w`.
    glare : float
        Strength of the bloom around saturated highlights (≥ 0; 0 disables it).
    glare_threshold : float
        Exposed linear value above which a pixel feeds the bloom (> 0).
    glare_radius : float
        Standard deviation of the bloom's Gaussian, as a fraction of the image
        width (> 0), so the same model looks alike at every resolution.

    Examples
    --------
    >>> sensor = SensorModel(read_noise=0.0, glare=0.0)
    >>> sensor.apply(np.full((2, 2, 3), 0.5, np.float32), rng=0)[0, 0].tolist()
    [186, 186, 186]
    """

    exposure: float = 1.0
    gamma: float = 2.2
    read_noise: float = 2.0
    shot_noise: float = 0.0
    glare: float = 0.3
    glare_threshold: float = 1.0
    glare_radius: float = 0.01

    def __post_init__(self) -> None:
        check_positive(self.exposure, "exposure")
        check_positive(self.gamma, "gamma")
        check_positive(self.read_noise, "read_noise", allow_zero=True)
        check_positive(self.shot_noise, "shot_noise", allow_zero=True)
        check_positive(self.glare, "glare", allow_zero=True)
        check_positive(self.glare_threshold, "glare_threshold")
        check_positive(self.glare_radius, "glare_radius")

    def to_dict(self) -> dict[str, Any]:
        """Return the options as a JSON-serialisable dictionary."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Self:
        """Build a sensor from a mapping, rejecting unknown names."""
        check_known_fields(cls, values, "sensor option")
        return cls(**values)

    def apply(
        self, radiance: npt.ArrayLike, *, rng: RNG = None, threads: int | None = None
    ) -> npt.NDArray[np.uint8]:
        """Turn linear radiance into an 8-bit image.

        Parameters
        ----------
        radiance : array_like, shape (H, W, 3)
            Non-negative linear radiance.
        rng : int, numpy.random.Generator or None
            Seed or generator of the noise; the same seed gives the same bytes.
        threads : int or None
            Threads to use (``None`` = all available CPUs); the output does not
            depend on it.

        Returns
        -------
        ndarray of uint8, shape (H, W, 3)

        Raises
        ------
        ValueError
            If ``radiance`` is not (H, W, 3), or holds negative values, NaN or inf.
        """
        x = _checked_radiance(radiance)
        bounds = tile_bounds(x.shape[0], _TILE_ROWS)
        # one independent generator per band of rows: same bytes on any number of threads
        seeds = np.random.default_rng(rng).integers(0, 2**63 - 1, size=len(bounds))
        bloom = None
        if self.glare > 0:
            bloom = glare_bloom(
                x, self.exposure, self.glare, self.glare_threshold, self.glare_radius
            )
        out = np.empty(x.shape, np.uint8)

        def run(a: int, b: int) -> None:
            y = x[a:b] * np.float32(self.exposure)
            if bloom is not None:
                y += bloom[a:b]
            out[a:b] = self._digitise(y, np.random.default_rng(seeds[a // _TILE_ROWS]))

        map_tiles(run, x.shape[0], _TILE_ROWS, threads or tile_threads())
        return out

    def _digitise(self, x: F32, gen: np.random.Generator) -> npt.NDArray[np.uint8]:
        """Steps 3-6 of the pipeline on exposed radiance ``x`` (modified in place)."""
        if self.shot_noise > 0:
            sigma = np.sqrt(np.float32(self.shot_noise / 255.0) * x)
            x += sigma * gen.standard_normal(x.shape, dtype=np.float32)
        # floor: a value that the tone curve maps to 0.001 grey level, not 0 (cv2.pow is
        # ~8x slower on exact zeros, i.e. on black space)
        np.clip(x, np.float32((0.001 / 255.0) ** self.gamma), 1.0, out=x)
        y: F32 = cv2.pow(x, 1.0 / self.gamma) if self.gamma != 1 else x
        y *= np.float32(255.0)
        if self.read_noise > 0:
            y += np.float32(self.read_noise) * gen.standard_normal(y.shape, dtype=np.float32)
        y += np.float32(0.5)  # round half up by truncation below
        np.clip(y, 0.0, 255.0, out=y)
        return y.astype(np.uint8)


def _checked_radiance(radiance: npt.ArrayLike) -> F32:
    """``radiance`` as float32 (no copy if it already is), its shape and values checked."""
    x = np.asarray(radiance, dtype=np.float32)
    if x.ndim != 3 or x.shape[2] != 3 or x.size == 0:
        raise ValueError(f"radiance must have shape (H, W, 3), got {x.shape}")
    lo, hi = float(x.min()), float(x.max())
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError("radiance must be finite, got NaN or inf")
    if lo < 0:
        raise ValueError(f"radiance must be non-negative, got minimum {lo}")
    return x


def glare_bloom(
    x: F32, exposure: float, strength: float, threshold: float, radius: float
) -> F32 | None:
    """Bloom (H, W, 3) around the pixels whose exposed value exceeds ``threshold``.

    The exposed excess ``max(exposure · x - threshold, 0)`` blurred by a Gaussian of
    standard deviation ``radius · W`` pixels, times ``strength``; ``None`` when no
    pixel exceeds the threshold. The blur is computed on an image shrunk so that
    it spans about 4 of its pixels, then enlarged bilinearly: a wide, smooth blur
    costs almost nothing that way.

    Examples
    --------
    >>> img = np.zeros((64, 64, 3), np.float32)
    >>> img[32, 32] = 50.0
    >>> bloom = glare_bloom(img, 1.0, 0.5, 1.0, 0.05)
    >>> bool(bloom[32, 36, 0] > 0), bool(bloom[0, 0, 0] < bloom[32, 36, 0])
    (True, True)
    >>> glare_bloom(img * 0, 1.0, 0.5, 1.0, 0.05) is None
    True
    """
    if float(x.max()) * exposure <= threshold:
        return None
    h, w = x.shape[:2]
    sigma = radius * w
    factor = max(1, int(sigma / 4))
    small = cv2.resize(x, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    small = np.maximum(small * np.float32(exposure) - np.float32(threshold), np.float32(0.0))
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=max(sigma / factor, 0.5))
    bloom: F32 = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    bloom *= np.float32(strength)
    return bloom.reshape(x.shape)
