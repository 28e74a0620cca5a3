"""Ground-truth masks: the two ALLO encodings, read into one 3-class form."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

BACKGROUND, FOREGROUND, ANOMALY = 0, 1, 2
Mask = npt.NDArray[np.uint8]


def to_three_class(mask: Any, name: str = "mask") -> Mask:
    """Convert an ALLO mask to the 3-class encoding (0 space, 1 station, 2 anomaly).

    Accepted: a 3-class mask (values within {0, 1, 2}) or a foreground/background
    mask (values within {0, 255}; 255 becomes 1 — such an image has no anomaly),
    as H×W or H×W×C with identical channels.

    Raises
    ------
    ValueError
        If the channels differ or the values fit neither encoding.

    Examples
    --------
    >>> to_three_class(np.array([[0, 255], [255, 0]], np.uint8)).tolist()
    [[0, 1], [1, 0]]
    >>> (to_three_class(np.array([[0, 1], [2, 2]], np.uint8)) == ANOMALY).sum()
    np.int64(2)
    """
    arr = np.asarray(mask)
    if arr.ndim == 3:
        if not (arr == arr[:, :, :1]).all():
            raise ValueError(
                f"{name} has {arr.shape[2]} channels that differ; expected one label image"
            )
        arr = arr[:, :, 0]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (H, W) or (H, W, C), got {np.shape(mask)}")
    values = np.unique(arr)
    out: Mask
    if np.isin(values, (0, 1, 2)).all():
        out = arr.astype(np.uint8)
        return out
    if np.isin(values, (0, 255)).all():
        out = (arr == 255).astype(np.uint8)
        return out
    shown = ", ".join(str(v) for v in values[:8]) + (" ..." if len(values) > 8 else "")
    raise ValueError(
        f"{name} values must be 3-class (0, 1, 2) or foreground/background (0, 255), got {shown}"
    )


def anomaly_mask(mask3: Mask) -> npt.NDArray[np.bool_]:
    """Anomalous pixels of a 3-class mask: class 2 only (never ``mask > 0``)."""
    out: npt.NDArray[np.bool_] = mask3 == ANOMALY
    return out
