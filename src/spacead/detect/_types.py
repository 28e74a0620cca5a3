"""The result type shared by every detector."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Detection:
    """What a detector says about one query image.

    Attributes
    ----------
    score_map : ndarray of float32, shape (H, W)
        Pixel anomaly score, higher = more anomalous; what pixel metrics use.
    mask : ndarray of bool, shape (H, W)
        The binary anomaly map.
    image_score : float
        Image-level score (the anomalous-pixel count for every statistical detector).
    is_anomalous : bool
        ``image_score > params.anomaly_threshold``.
    method : str
        Name of the detector that produced this result.
    params : dict
        The parameters used, as JSON-serialisable values.
    seeds : ndarray of int64, shape (K, 2)
        Region-growing seeds as (row, column); empty for detectors without them.
    threshold : float or None
        The pixel score above which :attr:`mask` is set, in score-map units, for
        detectors whose mask is a threshold of the map (None for MRAD, whose mask
        grows from seeds); score images scale the map by it.
    """

    score_map: npt.NDArray[np.float32]
    mask: npt.NDArray[np.bool_]
    image_score: float
    is_anomalous: bool
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    seeds: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    threshold: float | None = None

    @property
    def anomalous_pixels(self) -> int:
        """Number of pixels in :attr:`mask`."""
        return int(np.count_nonzero(self.mask))

    def summary(self) -> dict[str, Any]:
        """JSON-serialisable summary (no arrays)."""
        return {
            "method": self.method,
            "image_score": float(self.image_score),
            "is_anomalous": bool(self.is_anomalous),
            "anomalous_pixels": self.anomalous_pixels,
        }
