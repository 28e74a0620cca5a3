"""Camera tone curves: linear radiance in [0, 1] to the encoded [0, 1] of an 8-bit frame.

Shared by the CAD loader (sRGB-encoded textures) and the reference pipeline
(the frame's tone curve).

``"srgb"`` is IEC 61966-2-1 (what almost every 8-bit camera frame and image
file holds), ``"gamma2.2"`` a pure power law (spacead's own sensor model),
``"linear"`` no curve (raw or linearised frames).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

TONE_CURVES = ("srgb", "gamma2.2", "linear")


def check_tone(tone: str) -> None:
    """Raise ``ValueError`` for an unknown tone curve, naming the known ones."""
    if tone not in TONE_CURVES:
        raise ValueError(f"tone must be one of {', '.join(TONE_CURVES)}, got {tone!r}")


def encode(x: npt.ArrayLike, tone: str) -> F64:
    """Tone-encode linear values (clipped to [0, 1]).

    Examples
    --------
    >>> encode([0.0, 0.214, 1.0], "srgb").round(3).tolist()
    [0.0, 0.5, 1.0]
    """
    v = np.clip(np.asarray(x, np.float64), 0.0, 1.0)
    if tone == "linear":
        return v
    if tone == "gamma2.2":
        out: F64 = v ** (1 / 2.2)
        return out
    return np.where(v <= 0.0031308, 12.92 * v, 1.055 * v ** (1 / 2.4) - 0.055)


def encode_slope(x: npt.ArrayLike, tone: str) -> F64:
    """Derivative of :func:`encode` (0 outside [0, 1]; finite at 0)."""
    v = np.asarray(x, np.float64)
    inside = (v > 0) & (v < 1)
    v = np.clip(v, 1e-6, 1.0)
    if tone == "linear":
        slope = np.ones_like(v)
    elif tone == "gamma2.2":
        slope = v ** (1 / 2.2 - 1) / 2.2
    else:
        slope = np.where(v <= 0.0031308, 12.92, 1.055 / 2.4 * v ** (1 / 2.4 - 1))
    out: F64 = np.where(inside, slope, 0.0)
    return out


def decode(y: npt.ArrayLike, tone: str) -> F64:
    """Invert :func:`encode` on [0, 1].

    Examples
    --------
    >>> float(decode(encode(0.3, "gamma2.2"), "gamma2.2")).__round__(6)
    0.3
    """
    v = np.clip(np.asarray(y, np.float64), 0.0, 1.0)
    if tone == "linear":
        return v
    if tone == "gamma2.2":
        out: F64 = v**2.2
        return out
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
