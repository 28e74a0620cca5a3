r"""Photometric matching: fit a render's light scales and the exposure to a real frame.

A :class:`~spacead.render.LightComponents` render gives, per pixel and colour
channel :math:`c`, the linear radiance :math:`C_{kc}` of each light path
:math:`k` (direct Sun, spotlight, ambient, emission, glossy and diffuse
bounces) at unit scale. The camera records
:math:`q_c = T(\sum_k s_{kc} C_{kc})` with its tone curve :math:`T` and
unknown scales :math:`s_{kc} \ge 0` (light levels times exposure times white
balance, and whatever the model's materials get wrong). :func:`fit_photometric`
estimates the scales on a sample of station pixels of the frame:

1. pixels the render sees as station (mask 1), away from depth and silhouette
   edges (a pose error shifts those), not saturated in the frame;
2. per channel, non-negative least squares on the linearised frame
   :math:`T^{-1}(q)` for a start, then a robust fit in the frame's own encoded
   units, :math:`\min_s \sum_i \rho\left(T(A_i s) - q_i\right)` with the
   soft-L1 loss (iteratively reweighted, non-negative Gauss-Newton steps), so
   that pixels the render cannot explain (the hazard itself, unmodelled
   details) do not pull the fit;
3. then, per material (each material of the model file, the Moon, the
   Earth), one gain per colour channel on the global fit's radiance, fitted
   the same way on that material's pixels and held towards 1 by a prior worth
   ``material_prior`` pixels: a material whose reflectance the file gets
   wrong is corrected, one with few pixels keeps the global scales. (A full
   set of light scales per material was tried first: on the independent
   station's development set it cost 2 points of pixel AP, see
   ``docs/reference-pipeline.md``.)

:meth:`PhotometricFit.apply` then combines the components with the fitted
scales and applies the tone curve: the reference image MRAD compares the
frame with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from spacead._threads import map_tiles, tile_threads
from spacead._tone import check_tone, encode
from spacead.render import COMPONENTS, LightComponents
from spacead.scene import FOREGROUND

from ._kernels import TONE_IDS, combine_linear, combine_tone, irls_channel

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]

SATURATED = 250  # frame values at or above this (any channel) only bound the radiance
_LUT_BITS = 20  # linear-to-8-bit lookup: 2^20 steps keep the darkest levels exact
_MIN_PIXELS = 50  # fewer usable station pixels than this: no fit, nominal scales
_IRLS_STEPS = 8
_APPLY_TILE = 1 << 18  # pixels per thread task of apply()
NOMINAL = (1.0, 1.0, 0.0, 1.0, 1.0, 1.0)
"""Relative scales of the components a render is made with (:data:`~spacead.render.COMPONENTS`):
the frame's lights as given, no ambient light."""
_IRLS_THREADED = 2000  # pixels × components from which a fit's channels run on threads
_MATERIAL_MIN = 100  # usable pixels a material needs for scales of its own


@dataclass(frozen=True)
class PhotometricFit:
    """Scales of the light components that make a render look like a frame.

    Attributes
    ----------
    scales : ndarray of float64, shape (K, 3)
        Scale of each of :data:`~spacead.render.COMPONENTS` per colour channel
        (exposure included).
    tone : str
        The tone curve (see :data:`TONE_CURVES`).
    n_pixels : int
        Station pixels the fit used (0 when there were too few to fit).
    residual : float
        Median absolute residual of those pixels, in 8-bit grey levels.
    inlier_fraction : float
        Fraction of them within 3 × ``f_scale`` grey levels of the model.
    material_gains : ndarray of float64, shape (G, 3), or None
        Gain per colour channel of each material group of the render
        (:attr:`~spacead.render.LightComponents.material_names`) on the global
        scales; 1 for a group without a fit of its own.
    material_names : tuple of str
        The groups' names.
    """

    scales: F64
    tone: str
    n_pixels: int = 0
    residual: float = math.nan
    inlier_fraction: float = math.nan
    material_gains: F64 | None = None
    material_names: tuple[str, ...] = ()

    @property
    def fitted(self) -> bool:
        """Whether the scales were fitted (not the nominal ones)."""
        return self.n_pixels > 0

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable summary (global and per-material scales, by component)."""
        out: dict[str, object] = {
            "scales": _named(self.scales),
            "tone": self.tone,
            "n_pixels": self.n_pixels,
            "residual": None if math.isnan(self.residual) else round(self.residual, 3),
            "inlier_fraction": None
            if math.isnan(self.inlier_fraction)
            else round(self.inlier_fraction, 4),
        }
        if self.material_gains is not None:
            out["material_gains"] = {
                name: [round(float(v), 4) for v in self.material_gains[g]]
                for g, name in enumerate(self.material_names)
            }
        return out

    def table(self, components: LightComponents) -> F32:
        """Scales (G + 1, K, 3) by material group of ``components``; the last row: global."""
        k = components.n_components
        if self.scales.shape[0] != k:
            raise ValueError(f"the fit has {self.scales.shape[0]} components, the render {k}")
        rows = [self.scales]
        if self.material_gains is not None and components.material is not None:
            if len(self.material_names) != len(components.material_names):
                raise ValueError("the fit's material groups are not the render's")
            rows = [*(self.scales * g[None, :] for g in self.material_gains), self.scales]
        out: F32 = np.stack(rows).astype(np.float32)
        return out

    def _inputs(
        self, components: LightComponents
    ) -> tuple[F32, npt.NDArray[np.uint8], npt.NDArray[np.int16], F32]:
        """Flat components, pixels to combine, material group of each, scales by group."""
        h, w = components.mask.shape
        flat = components.radiance.reshape(h * w, components.n_components, 3)
        # a pixel whose centre sees space may still hold light from its filter's reach
        # (anti-aliased silhouettes): every pixel next to a surface is combined
        mask = cv2.dilate(components.mask, np.ones((3, 3), np.uint8)).reshape(-1)
        table = self.table(components)
        group = np.full(h * w, len(table) - 1, np.int16)
        if len(table) > 1 and components.material is not None:
            group = np.where(components.material >= 0, components.material, group[0]).ravel()
        return flat, mask, group.astype(np.int16), table

    def radiance(self, components: LightComponents) -> F32:
        """The combined linear radiance (H, W, 3), before the tone curve."""
        h, w = components.mask.shape
        flat, mask, group, table = self._inputs(components)
        out = np.zeros((h * w, 3), np.float32)

        def run(start: int, stop: int) -> None:
            combine_linear(
                flat[start:stop], mask[start:stop], group[start:stop], table, out[start:stop]
            )

        map_tiles(run, h * w, _APPLY_TILE, tile_threads())
        return out.reshape(h, w, 3)

    def apply(
        self,
        components: LightComponents,
        *,
        psf_sigma: float = 0.0,
        size: tuple[int, int] | None = None,
    ) -> U8:
        """The 8-bit reference image: scaled components, optional blur, tone curve.

        Parameters
        ----------
        components : LightComponents
            The render the scales were fitted on (or another of the same model).
        psf_sigma : float
            Standard deviation (pixels of the render, ≥ 0) of a Gaussian blur of
            the linear radiance: a camera's point-spread function and a path
            tracer's pixel filter smooth edges that one ray per pixel leaves hard.
        size : (width, height), optional
            Upsample the blurred linear radiance to this size (bilinear) before
            the tone curve: a reference rendered smaller than its frame.
        """
        if psf_sigma > 0 or size is not None:
            lin = self.radiance(components)
            if psf_sigma > 0:
                lin = cv2.GaussianBlur(lin, (0, 0), sigmaX=float(psf_sigma))
            if size is not None:
                lin = cv2.resize(lin, size, interpolation=cv2.INTER_LINEAR)
            return to_uint8(lin, self.tone)
        h, w = components.mask.shape
        flat, mask, group, table = self._inputs(components)
        out = np.zeros((h * w, 3), np.uint8)
        lut = tone_table(self.tone)

        def run(start: int, stop: int) -> None:
            combine_tone(
                flat[start:stop], mask[start:stop], group[start:stop], table, lut, out[start:stop]
            )

        map_tiles(run, h * w, _APPLY_TILE, tile_threads())
        return out.reshape(h, w, 3)


def _named(scales: F64) -> dict[str, list[float]]:
    return {
        k: [round(float(v), 6) for v in row] for k, row in zip(COMPONENTS, scales, strict=False)
    }


def nominal_fit(
    tone: str, exposure: float = 1.0, ambient: float = 0.0, components: int = len(NOMINAL)
) -> PhotometricFit:
    """The scales a render has without matching: the nominal lights times ``exposure``."""
    check_tone(tone)
    base = np.array(NOMINAL[:components], np.float64)
    base[2] = ambient
    return PhotometricFit(base[:, None] * np.full((1, 3), float(exposure)), tone)


_LUTS: dict[str, U8] = {}


def tone_table(tone: str) -> U8:
    """The 2^20-entry table from linear [0, 1) to rounded 8-bit encoded values (cached)."""
    check_tone(tone)
    if tone not in _LUTS:
        x = (np.arange(1 << _LUT_BITS, dtype=np.float64) + 0.5) / (1 << _LUT_BITS)
        _LUTS[tone] = np.rint(255.0 * encode(x, tone)).astype(np.uint8)
    return _LUTS[tone]


def to_uint8(linear: npt.ArrayLike, tone: str) -> U8:
    """Tone-encode linear radiance to 8 bits through :func:`tone_table` (rounded)."""
    table = tone_table(tone)
    scaled = np.asarray(linear, np.float32) * np.float32(1 << _LUT_BITS)
    np.clip(scaled, 0, (1 << _LUT_BITS) - 1, out=scaled)
    index = scaled.astype(np.int32)
    out: U8 = table[index]
    return out


def fit_pixels(
    components: LightComponents, *, edge_px: int = 2, limit: int | None = None
) -> npt.NDArray[np.intp]:
    """Flat indices of the pixels a fit may use: station in the render, off its edges.

    Edges are the silhouette (a pixel's ``2 edge_px + 1`` square must be all
    station) and depth steps of more than 5 % within that square: a small pose
    error moves them, so there the frame and the render need not show the
    same surface. With ``limit``, at most that many, spread evenly over the
    image; the depth test then runs on a sample only (a few milliseconds at
    1080p instead of three full-image filters).
    """
    w = components.mask.shape[1]
    size = 2 * edge_px + 1
    station = (components.mask == FOREGROUND).view(np.uint8)
    kernel = np.ones((size, size), np.uint8)
    # outside the image counts as not station, so every kept pixel's square lies inside it
    inner = np.flatnonzero(
        cv2.erode(station, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    )
    if limit is not None and inner.size > 2 * limit:  # spare the depth test most pixels
        inner = inner[np.linspace(0, inner.size - 1, 2 * limit).astype(np.intp)]
    depth = components.depth.reshape(-1)
    offsets = (
        np.arange(-edge_px, edge_px + 1)[:, None] * w + np.arange(-edge_px, edge_px + 1)
    ).ravel()
    window = depth[inner[:, None] + offsets[None, :]]  # inside the image: the square is station
    near, far = window.min(axis=1), window.max(axis=1)
    keep = inner[(far - near) <= 0.05 * np.maximum(near, 1e-6)]
    if limit is not None and keep.size > limit:
        keep = keep[np.linspace(0, keep.size - 1, limit).astype(np.intp)]
    out: npt.NDArray[np.intp] = keep
    return out


def fit_mask(components: LightComponents, *, edge_px: int = 2) -> npt.NDArray[np.bool_]:
    """The pixels a fit may use (:func:`fit_pixels`) as a boolean image (H, W)."""
    out = np.zeros(components.mask.size, np.bool_)
    out[fit_pixels(components, edge_px=edge_px)] = True
    return out.reshape(components.mask.shape)


def _irls(
    m: F64,
    y: F64,
    saturated: npt.NDArray[np.bool_],
    tone: int,
    f_scale: float,
    s0: F64,
    prior: float,
    steps: int,
) -> F64:
    """Scales (K, 3) of :func:`~._kernels.irls_channel`, one thread per colour channel."""
    out = np.empty((m.shape[1], 3))
    by_channel = np.ascontiguousarray(np.moveaxis(m, 2, 0))  # (3, N, K): one block per thread
    values = np.ascontiguousarray(y.T)
    start_at = np.ascontiguousarray(s0.T)

    def run(start: int, stop: int) -> None:
        for c in range(start, stop):
            out[:, c] = irls_channel(
                by_channel[c], values[c], saturated, tone, f_scale, start_at[c], prior, steps
            )

    # a thread handoff costs ~0.1 ms: worth it only for the larger fits
    map_tiles(run, 3, 1, None if m.shape[0] * m.shape[1] >= _IRLS_THREADED else 1)
    return out


def fit_photometric(
    query: npt.ArrayLike,
    components: LightComponents,
    *,
    tone: str = "srgb",
    nominal: npt.ArrayLike | None = None,
    prior: float = 0.02,
    max_pixels: int = 3000,
    f_scale: float = 6.0,
    edge_px: int = 2,
    material_prior: float | None = 500.0,
) -> PhotometricFit:
    """Fit the light scales and exposure of a render to a frame (see the module notes).

    Two robust fits per colour channel: first one exposure for the nominal mix
    of lights, then each light's scale, held towards that exposure times its
    nominal scale by a weak prior, so a light the usable pixels cannot
    separate (e.g. a Sun whose every lit pixel saturates) keeps its nominal
    share instead of dropping to zero. Saturated pixels are censored: they
    only say that the model should reach saturation there. Then, per material
    with at least 100 usable pixels, a gain per channel of that radiance,
    held towards 1.

    Parameters
    ----------
    query : array_like of uint8, shape (H, W, 3)
        The camera frame (RGB, 8-bit scale).
    components : LightComponents
        The render at the frame's (reported or refined) pose.
    tone : {"srgb", "gamma2.2", "linear"}
        The frame's tone curve.
    nominal : array_like, shape (K,), optional
        Expected relative scales of the components; default :data:`NOMINAL`
        (the render already holds the frame's reported light levels).
    prior : float
        Weight of the prior towards ``nominal`` (times the exposure), as a
        fraction of the pixels' weight; 0 fits the lights freely.
    max_pixels : int
        Station pixels sampled for the fit (evenly over the usable ones).
    f_scale : float
        Grey levels at which the soft-L1 loss turns from quadratic to linear:
        residuals much larger count as outliers (e.g. the hazard).
    edge_px : int
        Half-width of the edge band left out (see :func:`fit_pixels`).
    material_prior : float or None
        Weight, in pixels, of each material's prior towards a gain of 1;
        ``None``: one set of scales for every material.

    Returns
    -------
    PhotometricFit
        Nominal scales (``fitted`` false) when fewer than 50 pixels are usable.

    Raises
    ------
    ValueError
        If the frame's shape is not the render's, or an option is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from spacead.render import LightComponents
    >>> rng = np.random.default_rng(0)
    >>> c = np.zeros((40, 40, 4, 3), np.float32)
    >>> c[..., 0, :] = rng.uniform(0.05, 0.5, (40, 40, 1))   # sunlit, varied
    >>> c[..., 1, :] = rng.uniform(0.05, 0.5, (40, 40, 1))   # spotlit, varied
    >>> render = LightComponents(c, np.ones((40, 40), np.uint8), np.full((40, 40), 5.0, np.float32))
    >>> truth = np.array([0.7, 1.6, 0.0, 0.0])[:, None] * np.ones((1, 3))
    >>> frame = to_uint8(render.combine(truth), "srgb")
    >>> fit = fit_photometric(frame, render)
    >>> np.round(fit.scales[:2, 0], 1).tolist()
    [0.7, 1.6]
    """
    check_tone(tone)
    q = np.asarray(query)
    k = components.n_components
    want = (*components.mask.shape, 3)
    if q.shape != want:
        raise ValueError(f"query must have shape {want} to match the render, got {q.shape}")
    base = np.asarray(NOMINAL[:k] if nominal is None else nominal, np.float64)
    if base.shape != (k,) or not np.all(np.isfinite(base)) or base.min() < 0:
        raise ValueError(f"nominal must be {k} finite scales >= 0, got {base.tolist()}")
    if not (np.isfinite(prior) and prior >= 0):
        raise ValueError(f"prior must be a finite number >= 0, got {prior!r}")
    if material_prior is not None and not (np.isfinite(material_prior) and material_prior >= 0):
        raise ValueError(f"material_prior must be a finite number >= 0, got {material_prior!r}")
    usable = fit_pixels(components, edge_px=edge_px, limit=max_pixels)
    if usable.size < _MIN_PIXELS:
        return nominal_fit(tone, components=k)
    a = np.ascontiguousarray(components.radiance.reshape(-1, k, 3)[usable], np.float64)
    y = q.reshape(-1, 3)[usable].astype(np.float64) / 255.0
    saturated = q.reshape(-1, 3)[usable].max(axis=1) >= SATURATED
    f, tid = f_scale / 255.0, TONE_IDS[tone]
    mix = np.ascontiguousarray(np.einsum("nkc,k->nc", a, base)[:, None, :])
    exposure = _irls(mix, y, saturated, tid, f, np.zeros((1, 3)), 0.0, _IRLS_STEPS)
    scales = _irls(a, y, saturated, tid, f, exposure * base[:, None], prior, _IRLS_STEPS)
    model = np.einsum("nkc,kc->nc", a, scales)
    gains = None
    if material_prior is not None and components.material is not None:
        group = components.material.reshape(-1)[usable]
        gains = np.ones((len(components.material_names), 3))
        for g in np.unique(group[group >= 0]):
            own = np.flatnonzero(group == g)
            if own.size < _MATERIAL_MIN:
                continue
            mixed = np.ascontiguousarray(model[own][:, None, :])  # the global fit's radiance
            gains[g] = _irls(
                mixed,
                y[own],
                saturated[own],
                tid,
                f,
                np.ones((1, 3)),
                material_prior / own.size,
                _IRLS_STEPS,
            )[0]
            model[own] *= gains[g]
    r = encode(model, tone) - y
    r[saturated[:, None] & (r > 0)] = 0.0  # censored: the model reaching saturation is right
    res = np.abs(r).ravel() * 255.0
    return PhotometricFit(
        scales,
        tone,
        n_pixels=int(usable.size),
        residual=float(np.median(res)),
        inlier_fraction=float(np.mean(res < 3 * f_scale)),
        material_gains=gains,
        material_names=components.material_names if gains is not None else (),
    )
