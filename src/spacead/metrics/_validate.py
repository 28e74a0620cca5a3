"""Input checks of the metrics (one place, one wording).

``TypeError`` for a wrong dtype, ``ValueError`` for a bad shape or value; every
message names the argument, what was expected and what came.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

# dtypes the binning kernel reads directly; any other real dtype is converted to float64.
KERNEL_DTYPES = (np.uint8, np.float32, np.float64)


def as_scores(scores: Any, name: str) -> npt.NDArray[Any]:
    """Return ``scores`` as an array of a real (integer or floating-point) dtype.

    Raises
    ------
    TypeError
        If the dtype is boolean, complex or not numeric.
    """
    arr = np.asarray(scores)
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise TypeError(f"{name} must hold integer or floating-point scores, got dtype {arr.dtype}")
    return arr


def as_labels(
    labels: Any, name: str, shape: tuple[int, ...], scores_name: str
) -> npt.NDArray[np.bool_]:
    """Return ``labels`` as a boolean array of the same shape as the scores.

    Raises
    ------
    TypeError
        If the dtype is not boolean (a 3-class mask must be converted by the caller,
        e.g. ``mask == 2``; ``mask > 0`` would mark the whole station).
    ValueError
        If the shape differs from the scores' ``shape``.
    """
    arr = np.asarray(labels)
    if arr.dtype != np.bool_:
        raise TypeError(
            f"{name} must be a boolean array (True = anomalous; convert a 3-class mask "
            f"with mask == 2), got dtype {arr.dtype}"
        )
    if arr.shape != shape:
        raise ValueError(
            f"{name} must have the same shape as {scores_name} {shape}, got {arr.shape}"
        )
    return arr


def check_finite(scores: npt.NDArray[Any], name: str) -> None:
    """Raise ``ValueError`` if ``scores`` holds NaN or inf."""
    if np.issubdtype(scores.dtype, np.floating):
        n_bad = scores.size - int(np.count_nonzero(np.isfinite(scores)))
        if n_bad:
            raise_nonfinite(n_bad, name)


def raise_nonfinite(n_bad: int, name: str) -> None:
    """Raise the ``ValueError`` for ``n_bad`` NaN or inf scores in ``name``."""
    raise ValueError(f"{name} must hold finite scores, got {n_bad} NaN or inf value(s)")


def flat_for_kernel(
    scores: npt.NDArray[Any], labels: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[Any], npt.NDArray[np.uint8]]:
    """Flatten scores and labels (C order) into the kernel's input types.

    ``uint8``, ``float32`` and ``float64`` scores are read as they are (one compiled
    kernel each); other integer or floating-point dtypes (and non-native byte
    orders) are converted to ``float64`` (exact for integers below 2**53).
    """
    flat = np.ascontiguousarray(scores).reshape(-1)
    if flat.dtype.type not in KERNEL_DTYPES or not flat.dtype.isnative:
        flat = flat.astype(np.float64)
    return flat, np.ascontiguousarray(labels).reshape(-1).view(np.uint8)


def check_fraction_open(value: float, name: str) -> float:
    """Return ``value`` as float if ``0 < value <= 1``, else raise ``ValueError``."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        raise TypeError(f"{name} must be a real number in (0, 1], got {value!r}")
    if not 0.0 < float(value) <= 1.0:
        raise ValueError(f"{name} must be in (0, 1], got {value!r}")
    return float(value)


def as_image_scores(
    scores: Any, labels: Any, *, scores_name: str = "scores", labels_name: str = "labels"
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Check image-level scores and labels; return them flat, as float64 and bool."""
    arr = as_scores(scores, scores_name)
    lab = as_labels(labels, labels_name, arr.shape, scores_name)
    check_finite(arr, scores_name)
    return arr.astype(np.float64).reshape(-1), lab.reshape(-1)
