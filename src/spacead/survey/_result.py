"""What a scan of one frame produced."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ._places import Place, group_places

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ScanResult:
    """Scores of the tiles of one frame and the 3-sigma selection.

    Attributes
    ----------
    coords : ndarray of int64, shape (N, 2)
        Top-left pixels ``(y, x)`` of the tiles of the final pass.
    scores, z : ndarray of float64, shape (N,)
        Tile scores and their z-scores ``(score - mean) / std`` against the frame's
        (or, with local normalisation, the neighbourhood's) scores.
    flagged : ndarray of bool, shape (N,)
        ``z > k``.
    tile, stride : int
        Tile side and the step of the final pass.
    k, mean, std : float
        Threshold and the statistics the z-scores use.
    tiles_per_second : float
        Scoring throughput over all passes.
    out_dir : pathlib.Path
        Where ``tiles.csv``, ``detections.csv``, ``heatmap.png``, ``hits/`` and
        ``summary.json`` are.
    score : str
        ``"peak"`` or ``"mae"`` (see :func:`score_tiles`).
    """

    coords: I64
    scores: F64
    z: F64
    flagged: npt.NDArray[np.bool_]
    tile: int
    stride: int
    k: float
    mean: float
    std: float
    tiles_per_second: float
    out_dir: Path
    score: str = "mae"

    @cached_property
    def places(self) -> list[Place]:
        """The flagged tiles grouped into places, highest z first (:func:`group_places`)."""
        return group_places(self)

    def summary(self) -> dict[str, Any]:
        """Counts and statistics as plain types (what ``summary.json`` holds)."""
        return {
            "n_tiles": len(self.coords),
            "n_flagged": int(self.flagged.sum()),
            "tile": self.tile,
            "stride": self.stride,
            "k": self.k,
            "mean": self.mean,
            "std": self.std,
            "threshold": self.mean + self.k * self.std,
            "n_places": len(self.places),
            "tiles_per_second": self.tiles_per_second,
            "score": self.score,
        }
