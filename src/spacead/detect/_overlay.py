"""Pictures of a detection: the 0–255 score image and the outlined overlay (paper Fig. 6/7)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from .._validate import as_rgb
from ._types import Detection

_OUTLINE = (255, 40, 40)
_SEED = (40, 255, 255)


def score_image(det: Detection) -> npt.NDArray[np.uint8]:
    """The score map as an 8-bit image.

    MRAD maps are already on [0, 255]; RXD/PAD squared-Mahalanobis scores are
    scaled so that twice their detection threshold is white.
    """
    if det.method == "mrad":
        return np.clip(det.score_map, 0, 255).round().astype(np.uint8)
    from ._params import RXDParams

    top = (
        2.0
        * RXDParams.from_dict(
            {
                k: v
                for k, v in det.params.items()
                if k in ("false_alarm_rate", "cov_floor", "anomaly_threshold")
            }
        ).score_threshold
    )
    scaled: npt.NDArray[np.float32] = np.clip(det.score_map * np.float32(255.0 / top), 0, 255)
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
