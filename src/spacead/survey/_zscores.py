"""Which tiles a scan scores, and their z-scores against the frame or the neighbourhood."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.ndimage import uniform_filter

from ..models.inpaint import TileCentre
from ..tiles import ImageLike, nodata_fraction, tile_coords

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


def centre_valid(frame: ImageLike, coords: I64, tile: int, nodata: float) -> Any:
    """Whether each tile's masked centre (a quarter tile) is free of no-data.

    A centre on the edge of the no-data margin cannot be completed and would be
    flagged for the margin, not for what lies on the ground.
    """
    centre = TileCentre(tile)
    return nodata_fraction(frame, coords + centre.masked_offset, centre.masked, nodata=nodata) == 0


def valid_coords(frame: ImageLike, tile: int, stride: int, nodata: float) -> I64:
    """Tiles at most half no-data whose masked centre has none."""
    coords = tile_coords(frame, size=tile, stride=stride, nodata=nodata)
    kept: I64 = coords[centre_valid(frame, coords, tile, nodata)]
    return kept


def local_stats(coords: I64, scores: F64, window: int) -> tuple[F64, F64, F64, F64]:
    """Mean and standard deviation of each tile's neighbours within ``window`` pixels.

    Computed on the (regular) grid of ``coords`` with box filters, leaving the
    tile itself out, so a planted object does not raise its own reference.
    Returns the grid's row and column coordinates with the mean and std grids,
    for :func:`lookup`. Written by hand because no library filter ignores
    missing (no-data) tiles and the centre at once.
    """
    uy, iy = np.unique(coords[:, 0], return_inverse=True)
    ux, ix = np.unique(coords[:, 1], return_inverse=True)
    grids = np.zeros((3, len(uy), len(ux)))
    grids[0, iy, ix] = 1.0
    grids[1, iy, ix] = scores
    grids[2, iy, ix] = scores * scores
    step = float(np.median(np.diff(uy))) if len(uy) > 1 else float(window)
    size = 2 * max(1, round(window / (2 * step))) + 1
    sums = uniform_filter(grids, size=(1, size, size), mode="constant") * size * size - grids
    count = np.maximum(sums[0], 1.0)
    mean = sums[1] / count
    std = np.sqrt(np.maximum(sums[2] / count - mean * mean, 0.0))
    return uy.astype(np.float64), ux.astype(np.float64), mean, std


def lookup(stats: tuple[F64, F64, F64, F64], coords: I64) -> tuple[F64, F64]:
    """Local mean and std at each tile, from the nearest cell of the coarse grid."""
    uy, ux, mean, std = stats
    iy = np.clip(np.searchsorted(uy, coords[:, 0]), 0, len(uy) - 1)
    ix = np.clip(np.searchsorted(ux, coords[:, 1]), 0, len(ux) - 1)
    return mean[iy, ix], std[iy, ix]


def frame_stats(scores: F64) -> tuple[float, float]:
    mean = float(scores.mean()) if scores.size else 0.0
    std = float(scores.std()) if scores.size > 1 else 0.0
    return mean, max(std, 1e-12)


def neighbourhood(hits: I64, tile: int, fine: int, shape: tuple[int, int]) -> I64:
    """Fine-grid tiles whose top-left lies within half a tile of a coarse hit's."""
    offs = np.arange(-(tile // 2), tile // 2 + 1, fine, dtype=np.int64)
    dy, dx = np.meshgrid(offs, offs, indexing="ij")
    cand = (hits[:, None, :] + np.stack([dy.ravel(), dx.ravel()], 1)[None]).reshape(-1, 2)
    cand[:, 0] = np.clip(cand[:, 0], 0, shape[0] - tile)
    cand[:, 1] = np.clip(cand[:, 1], 0, shape[1] - tile)
    return np.unique(cand, axis=0)
