"""Ground-truth masks: the two ALLO encodings, read into one 3-class form."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .._labels import ANOMALY

Mask = npt.NDArray[np.uint8]


THREE_CLASS = "3-class"
FOREGROUND_BACKGROUND = "foreground/background"
THRESHOLDED = "foreground/background, thresholded at half scale"


def to_three_class(mask: Any, name: str = "mask") -> Mask:
    """Convert an ALLO mask to the 3-class encoding (0 space, 1 station, 2 anomaly).

    Accepted: a 3-class mask (values within {0, 1, 2}) or a foreground/background
    mask (values within {0, 255}; 255 becomes 1 — such an image has no anomaly),
    as H×W or H×W×C with identical channels. A mask with other values above 2
    is a foreground/background mask that was resized with area averaging (ALLO's
    own ``preprocess.py`` uses ``cv2.INTER_AREA``, which leaves edge values such
    as 64, 128 and 191 at any size but 1920 × 1080): it is thresholded at half
    its scale (``>= 128`` for 8-bit, ``>= 32768`` for 16-bit files).
    :func:`read_mask` also says which encoding was found.

    Raises
    ------
    ValueError
        If the channels differ or the values fit no encoding.

    Examples
    --------
    >>> to_three_class(np.array([[0, 255], [255, 0]], np.uint8)).tolist()
    [[0, 1], [1, 0]]
    >>> (to_three_class(np.array([[0, 1], [2, 2]], np.uint8)) == ANOMALY).sum()
    np.int64(2)
    >>> to_three_class(np.array([[0, 64], [128, 191]], np.uint8)).tolist()
    [[0, 0], [1, 1]]
    """
    return read_mask(mask, name)[0]


def read_mask(mask: Any, name: str = "mask") -> tuple[Mask, str]:
    """:func:`to_three_class` and the encoding it found.

    Returns
    -------
    mask : ndarray of uint8, shape (H, W)
        The 3-class mask.
    encoding : str
        ``THREE_CLASS``, ``FOREGROUND_BACKGROUND`` or ``THRESHOLDED``.
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
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be an integer label image, got dtype {arr.dtype}")
    values = np.unique(arr)
    out: Mask
    if np.isin(values, (0, 1, 2)).all():
        out = arr.astype(np.uint8)
        return out, THREE_CLASS
    if np.isin(values, (0, 255)).all():
        out = (arr == 255).astype(np.uint8)
        return out, FOREGROUND_BACKGROUND
    top = int(np.iinfo(arr.dtype).max) if arr.dtype.itemsize <= 2 else 0
    if top and np.isin(values, (0, top)).all():  # a 16-bit foreground/background mask
        out = (arr == top).astype(np.uint8)
        return out, FOREGROUND_BACKGROUND
    if top and values.min() >= 0 and values.max() >= (top + 1) // 2 and _area_averaged(arr, top):
        out = (arr >= (top + 1) // 2).astype(np.uint8)
        return out, THRESHOLDED
    shown = ", ".join(str(v) for v in values[:8]) + (" ..." if len(values) > 8 else "")
    raise ValueError(
        f"{name} values must be 3-class (0, 1, 2) or foreground/background (0 and 255, or "
        f"grey edges between them), got {shown}"
    )


def _area_averaged(arr: npt.NDArray[Any], top: int) -> bool:
    """Whether grey values look like the edges of a resized 0/full-scale mask.

    Area averaging leaves grey only where foreground meets background: several
    grey levels, or few grey pixels, and almost no pixels at the 3-class labels
    1 and 2. A 3-class mask drawn as 0/128/255 (one grey level over a whole
    region) or a 0/1/2 mask with stray full-scale pixels is not one.
    """
    nonzero = int(np.count_nonzero(arr))
    labels = int(np.count_nonzero((arr == 1) | (arr == 2)))
    grey = arr[(arr > 2) & (arr < top)]
    levels = len(np.unique(grey))
    return labels <= 0.01 * nonzero and (levels >= 2 or grey.size <= 0.2 * nonzero)


def anomaly_mask(mask3: Mask) -> npt.NDArray[np.bool_]:
    """Anomalous pixels of a 3-class mask: class 2 only (never ``mask > 0``)."""
    out: npt.NDArray[np.bool_] = mask3 == ANOMALY
    return out
