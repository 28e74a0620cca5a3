"""Input checks shared by every public function (one place, one wording).

``ValueError`` for bad shapes or values, ``TypeError`` for wrong types; messages
name the argument, what was expected and what came.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

FloatImage = npt.NDArray[np.float32]
Image = npt.NDArray[np.uint8] | npt.NDArray[np.float32]

_UINT16_TO_8BIT = 255.0 / 65535.0


def as_rgb(image: Any, name: str = "image") -> Image:
    """Convert an image to a C-contiguous H×W×3 array on the 8-bit scale.

    ``uint8`` stays ``uint8`` (the detectors' kernels read it directly); every
    other dtype becomes ``float32``. Grayscale (H×W or H×W×1) is replicated to
    three channels, RGBA drops its
    alpha channel, ``uint16`` is rescaled to [0, 255]; float input is taken to be
    on the 8-bit scale already, so ``img`` and ``img.astype(np.float32)`` give the
    same result.

    Parameters
    ----------
    image : array_like, shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)
        Image to convert.
    name : str
        Argument name used in error messages.

    Returns
    -------
    ndarray of uint8 or float32, shape (H, W, 3)

    Raises
    ------
    TypeError
        If the array's dtype is not boolean, integer or floating point.
    ValueError
        If the shape is not one of the above, the image is empty, or it holds NaN or inf.
    """
    arr = np.asarray(image)
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise TypeError(
            f"{name} must be an integer or floating-point image array, got dtype {arr.dtype}"
        )
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
        raise ValueError(
            f"{name} must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {arr.shape}"
        )
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        raise ValueError(f"{name} must be at least 2 x 2 pixels, got {arr.shape}")
    if arr.shape[2] == 4:
        arr = arr[:, :, :3]
    out: Image
    if arr.dtype == np.uint8:
        out = arr
    elif arr.dtype == np.uint16:
        out = arr.astype(np.float32) * np.float32(_UINT16_TO_8BIT)
    else:
        out = arr.astype(np.float32, copy=False)
    if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(out).all():
        raise ValueError(f"{name} contains NaN or inf values")
    if out.shape[2] == 1:
        return np.ascontiguousarray(np.repeat(out, 3, axis=2))
    return np.ascontiguousarray(out)  # type: ignore[return-value]


def check_same_shape(query: Image, reference: Image, original: tuple[int, ...]) -> None:
    """Raise ``ValueError`` if ``reference`` and ``query`` differ in height or width."""
    if query.shape[:2] != reference.shape[:2]:
        raise ValueError(
            f"reference must have the same height and width as query {tuple(query.shape)}, "
            f"got {original}"
        )


def check_fraction(value: float, name: str, *, low: float = 0.0, high: float = 1.0) -> None:
    """Raise ``ValueError`` unless ``low <= value <= high``."""
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value!r}")


def check_positive(value: float, name: str, *, allow_zero: bool = False) -> None:
    """Raise ``ValueError`` unless ``value`` is positive (or zero where allowed)."""
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value!r}")


def check_known_fields(cls: type, values: Mapping[str, Any], what: str) -> None:
    """Raise ``ValueError`` if ``values`` names a field the dataclass ``cls`` lacks.

    The message lists the unknown names and every valid one, e.g.
    ``"unknown sensor option(s) gian; valid names: exposure, gamma, ..."``.
    """
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ValueError(f"unknown {what}(s) {', '.join(unknown)}; valid names: {', '.join(names)}")
