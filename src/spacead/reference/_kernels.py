"""Compiled kernel of the reference image: scaled light components through the tone curve.

Written with numba because the step is one weighted sum and one table lookup
per pixel: ``numpy.einsum`` over the (H, W, 4, 3) components took ~110 ms at
1920 × 1080 on the 2-core development machine and the lookup another ~20 ms,
while one fused pass over the station pixels takes a few milliseconds. It
releases the GIL and runs on the caller's tile threads.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt


@numba.njit(cache=True, nogil=True)
def _mix(
    radiance: npt.NDArray[np.float32], i: int, s: npt.NDArray[np.float32], c: int
) -> float:  # pragma: no cover - compiled
    """``Σ_k s[k, c] · radiance[i, k, c]``: one pixel's channel, scaled."""
    acc = 0.0
    for k in range(radiance.shape[1]):
        acc += s[k, c] * radiance[i, k, c]
    return acc


@numba.njit(cache=True, nogil=True)
def combine_tone(
    radiance: npt.NDArray[np.float32],
    mask: npt.NDArray[np.uint8],
    group: npt.NDArray[np.int16],
    scales: npt.NDArray[np.float32],
    lut: npt.NDArray[np.uint8],
    out: npt.NDArray[np.uint8],
) -> None:  # pragma: no cover - compiled; tested through PhotometricFit.apply
    """``out[i, c] = lut[Σ_k scales[group[i], k, c] · radiance[i, k, c] · n]`` where ``mask[i]``.

    ``n`` is the table's length; indices are clipped to it. ``radiance`` (N, K, 3),
    ``mask`` and ``group`` (N,), ``scales`` (G, K, 3), ``out`` (N, 3) zero-filled
    by the caller.
    """
    n_lut = lut.shape[0]
    top = n_lut - 1
    for i in range(radiance.shape[0]):
        if mask[i] == 0:
            continue
        s = scales[group[i]]
        for c in range(3):
            j = int(_mix(radiance, i, s, c) * n_lut)
            out[i, c] = lut[0 if j < 0 else (top if j > top else j)]


@numba.njit(cache=True, nogil=True)
def combine_linear(
    radiance: npt.NDArray[np.float32],
    mask: npt.NDArray[np.uint8],
    group: npt.NDArray[np.int16],
    scales: npt.NDArray[np.float32],
    out: npt.NDArray[np.float32],
) -> None:  # pragma: no cover - compiled; tested through PhotometricFit.radiance
    """``out[i, c] = Σ_k scales[group[i], k, c] · radiance[i, k, c]`` where ``mask[i]``.

    As :func:`combine_tone`, before the tone curve; ``out`` zero-filled by the caller.
    """
    for i in range(radiance.shape[0]):
        if mask[i] == 0:
            continue
        s = scales[group[i]]
        for c in range(3):
            out[i, c] = _mix(radiance, i, s, c)


# Tone curves inside the fit kernel (the same formulas as spacead._tone, which the
# tests compare them with): 0 = sRGB, 1 = gamma 2.2, 2 = linear.
TONE_IDS = {"srgb": 0, "gamma2.2": 1, "linear": 2}


@numba.njit(cache=True, nogil=True, fastmath=True)
def _encode(x: float, tone: int) -> float:  # pragma: no cover - compiled
    v = min(max(x, 0.0), 1.0)
    if tone == 2:
        return v
    if tone == 1:
        return float(v ** (1.0 / 2.2))
    return 12.92 * v if v <= 0.0031308 else float(1.055 * v ** (1.0 / 2.4) - 0.055)


@numba.njit(cache=True, nogil=True, fastmath=True)
def _slope(x: float, tone: int) -> float:  # pragma: no cover - compiled
    v = min(max(x, 1e-4), 0.999)
    if tone == 2:
        return 1.0
    if tone == 1:
        return float(v ** (1.0 / 2.2 - 1.0) / 2.2)
    return 12.92 if v <= 0.0031308 else float(1.055 / 2.4 * v ** (1.0 / 2.4 - 1.0))


@numba.njit(cache=True, nogil=True, fastmath=True)
def _encode_slope(x: float, tone: int) -> tuple[float, float]:  # pragma: no cover - compiled
    """``(_encode(x), _slope(x))``, sharing one power where their clips agree (the hot loop)."""
    if tone == 2:
        return min(max(x, 0.0), 1.0), 1.0
    if x < 1e-4 or x > 0.999:
        return _encode(x, tone), _slope(x, tone)
    if tone == 1:
        p = float(x ** (1.0 / 2.2))
        return p, p / (2.2 * x)
    if x <= 0.0031308:
        return 12.92 * x, 12.92
    p = float(x ** (1.0 / 2.4))
    return 1.055 * p - 0.055, 1.055 / 2.4 * p / x


@numba.njit(cache=True, nogil=True)
def _decode(y: float, tone: int) -> float:  # pragma: no cover - compiled
    v = min(max(y, 0.0), 1.0)
    if tone == 2:
        return v
    if tone == 1:
        return float(v**2.2)
    return v / 12.92 if v <= 0.04045 else float(((v + 0.055) / 1.055) ** 2.4)


@numba.njit(cache=True, nogil=True)
def _nnls_normal(
    g: npt.NDArray[np.float64], b: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:  # pragma: no cover
    """argmin_{s >= 0} s^T g s - 2 b^T s for K <= 6, by enumerating the active sets.

    The minimiser of a convex quadratic over the orthant is the solution of
    one of its 2^K - 1 face problems: solve each, keep the feasible one of
    lowest objective. Exact, and cheap for a few components; when the
    unconstrained minimiser is already non-negative (most fits) it is the
    answer and the enumeration is skipped.
    """
    k = b.shape[0]
    if abs(np.linalg.det(g)) > 1e-300:
        free = np.linalg.solve(g, b).astype(np.float64)
        if np.all(free >= 0.0):
            return free
    best = np.zeros(k)
    best_obj = 0.0  # s = 0
    for subset in range(1, 1 << k):
        idx = np.array([j for j in range(k) if subset >> j & 1])
        sub = g[idx][:, idx]
        if abs(np.linalg.det(sub)) < 1e-300:
            continue
        x = np.linalg.solve(sub, b[idx])
        if np.any(x < 0.0):
            continue
        s = np.zeros(k)
        s[idx] = x
        obj = float(s @ g @ s - 2.0 * (b @ s))
        if obj < best_obj:
            best_obj, best = obj, s
    return best


@numba.njit(cache=True, nogil=True)
def _mirror(g: npt.NDArray[np.float64]) -> None:  # pragma: no cover - compiled
    """Copy the upper triangle of a symmetric matrix to its lower one."""
    for p in range(g.shape[0]):
        for q in range(p):
            g[p, q] = g[q, p]


@numba.njit(cache=True, nogil=True, fastmath=True)
def irls_channel(
    m: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    saturated: npt.NDArray[np.bool_],
    tone: int,
    f_scale: float,
    s0: npt.NDArray[np.float64],
    prior: float,
    steps: int,
) -> npt.NDArray[np.float64]:  # pragma: no cover - compiled; tested through fit_photometric
    """Robust, censored, non-negative fit of one colour channel's scales (K,) (see ``_match``).

    ``m`` (N, K) light components of that channel (contiguous), ``y`` (N,)
    frame values in [0, 1], ``saturated`` (N,) censored pixels: a linear-domain
    start, then ``steps`` Gauss-Newton steps in encoded units with soft-L1 IRLS
    weights and a prior of ``prior`` × N pixels towards ``s0`` (K,). Channels
    are independent, so the caller runs them on separate threads.
    """
    n, k = m.shape[0], m.shape[1]
    g = np.zeros((k, k))
    b = np.zeros(k)
    for i in range(n):  # start: least squares on the linearised frame
        x = _decode(y[i], tone)
        for p in range(k):
            b[p] += m[i, p] * x
            for q in range(p, k):  # the upper triangle; mirrored below
                g[p, q] += m[i, p] * m[i, q]
    _mirror(g)
    s = _nnls_normal(g, b)
    size = np.zeros(k)
    for _ in range(steps):
        g[:, :] = 0.0
        b[:] = 0.0
        size[:] = 0.0
        for i in range(n):
            pred = 0.0
            for p in range(k):
                pred += m[i, p] * s[p]
            enc, full = _encode_slope(pred, tone)
            r = enc - y[i]
            for p in range(k):
                size[p] += (m[i, p] * full) ** 2
            if saturated[i] and r >= 0.0:
                continue  # a clipped pixel the model reaches says nothing more
            if pred >= 1.0:
                continue
            w2 = full * full / np.sqrt(1.0 + (r / f_scale) ** 2)  # slope^2 x IRLS weight
            target = pred - r / full
            for p in range(k):
                wp = w2 * m[i, p]
                b[p] += wp * target
                for q in range(p, k):
                    g[p, q] += wp * m[i, q]
        _mirror(g)
        if prior > 0.0:
            for p in range(k):
                strength2 = prior * size[p] + 1e-24  # prior x N x mean square size
                g[p, p] += strength2
                b[p] += strength2 * s0[p]
        new = _nnls_normal(g, b)
        change = np.abs(new - s).max()
        s = new
        if change <= 1e-6 + 1e-3 * np.abs(s).max():
            break
    return s
