"""Pictures of a detection: the 0–255 score image and the outlined overlay (paper Fig. 6/7)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from .._validate import as_rgb
from ._registry import detector_spec
from ._types import Detection

_OUTLINE = (255, 40, 40)
_SEED = (40, 255, 255)


def score_image(det: Detection) -> npt.NDArray[np.uint8]:
    """The score map as an 8-bit image, as the detector's spec says to show it.

    MRAD maps are already on [0, 255] and are clipped; maps with a pixel threshold
    (RXD/PAD squared Mahalanobis distances, learned detectors' maps) are scaled so
    that twice the threshold is white. A map without a threshold, or from a detector
    that is not registered, is scaled from its minimum (black) to its maximum (white).
    """
    try:
        display = detector_spec(det.method).display
    except ValueError:
        display = "threshold"
    smap = np.nan_to_num(np.asarray(det.score_map, dtype=np.float32), nan=0.0)
    if display == "clip255":
        return np.clip(smap, 0, 255).round().astype(np.uint8)
    if det.threshold is not None and det.threshold > 0:
        low, top = 0.0, 2.0 * det.threshold
    else:
        finite = smap[np.isfinite(smap)]
        low = float(finite.min()) if finite.size else 0.0
        top = (float(finite.max()) if finite.size else 0.0) - low
    scale = np.float32(255.0 / top) if top > 0 else np.float32(0.0)
    scaled: npt.NDArray[np.float32] = np.clip((smap - np.float32(low)) * scale, 0, 255)
    return scaled.round().astype(np.uint8)


def overlay(query: Any, det: Detection, *, thickness: int = 2) -> npt.NDArray[np.uint8]:
    """The query with the detected regions outlined in red and the seeds marked.

    Parameters
    ----------
    query : array_like, shape (H, W[, C])
        The image the detection was computed on.
    det : Detection
    thickness : int
        Outline width in pixels.

    Returns
    -------
    ndarray of uint8, shape (H, W, 3)
    """
    image = as_rgb(query, "query")
    rgb = image if image.dtype == np.uint8 else np.clip(image, 0, 255).astype(np.uint8)
    out: npt.NDArray[np.uint8] = np.array(rgb, dtype=np.uint8, order="C")
    contours, _ = cv2.findContours(
        det.mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    cv2.drawContours(out, contours, -1, _OUTLINE, thickness)
    size = max(4, min(out.shape[:2]) // 60)
    for y, x in det.seeds:
        cv2.drawMarker(out, (int(x), int(y)), _SEED, cv2.MARKER_CROSS, size, max(1, thickness // 2))
    return out
