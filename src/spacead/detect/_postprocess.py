"""MRAD's score post-processing: scaling, minimum score, full-cell rule, noise removal.

Steps 3 and 5 of Algorithm 1 of the ALLO paper, each a pure function over the
score map and the grid so that they can be ablated one by one.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
import numpy.typing as npt

from ._params import ScaleMode

FloatMap = npt.NDArray[np.float32]
Edges = npt.NDArray[np.int64]


def cells(rows: Edges, cols: Edges) -> Iterator[tuple[slice, slice]]:
    """Row/column slices of every grid cell, row-major."""
    for i in range(len(rows) - 1):
        for j in range(len(cols) - 1):
            yield slice(rows[i], rows[i + 1]), slice(cols[j], cols[j + 1])


def scale_factor(mode: ScaleMode, scale_max: float, raw: FloatMap | None = None) -> float:
    """The factor taking raw scores (squared-Mahalanobis units) to the 0-255 scale.

    ``"fixed"`` maps ``scale_max`` to 255 for every image; ``"minmax"`` maps the
    image's largest score (of ``raw``) to 255, the paper's stretch. 0 when that
    largest score is not positive.
    """
    if mode == "minmax" and raw is None:
        raise ValueError("the minmax scaling needs the raw scores")
    top = float(raw.max()) if mode == "minmax" and raw is not None else scale_max
    return 255.0 / top if top > 0 else 0.0


def scale_scores(raw: FloatMap, mode: ScaleMode, scale_max: float) -> FloatMap:
    """Map raw scores to [0, 255] (:func:`scale_factor`); negative scores become 0.

    MRAD fuses this step into its scoring kernel; this is the step on its own.
    """
    factor = scale_factor(mode, scale_max, raw)
    if factor == 0.0:
        return np.zeros_like(raw)
    out = raw * np.float32(factor)
    return np.clip(out, 0.0, 255.0, out=out)


def remove_noise(
    score: FloatMap,
    rows: Edges,
    cols: Edges,
    *,
    kernel: float,
    noise_sd: float,
    keep_cells: npt.NDArray[np.bool_] | None = None,
    nonzero: npt.NDArray[np.int64] | None = None,
    out: FloatMap | None = None,
) -> FloatMap:
    """Zero every cell whose local standard deviation of scores is uniform.

    In each cell the standard deviation of the scores in a sliding window of
    ``kernel`` times the cell's size is computed; if it varies over the cell
    by less than ``noise_sd`` (max - min), the cell holds only uniform noise and
    all its scores are set to zero (Algorithm 1, "Range(StdDev)"). Cells that
    are all zero, or flagged in ``keep_cells`` (the full-cell rule, one flag
    per cell), are left alone. ``nonzero`` (per cell, as :func:`cell_counts`
    counts them) saves counting again; ``out`` may be ``score`` itself (each
    cell reads only itself).
    """
    if out is None:
        out = score.copy()
    elif out is not score:
        np.copyto(out, score)
    if noise_sd <= 0:
        return out
    for k, (rs, cs) in enumerate(cells(rows, cols)):
        i, j = divmod(k, len(cols) - 1)
        cell = out[rs, cs]
        if keep_cells is not None and keep_cells[i, j]:
            continue
        if (nonzero[i, j] if nonzero is not None else cv2.countNonZero(cell)) == 0:
            continue
        ksize = (
            max(1, round(kernel * cell.shape[1])),
            max(1, round(kernel * cell.shape[0])),
        )
        mean = cv2.boxFilter(cell, -1, ksize, borderType=cv2.BORDER_REFLECT)
        mean_sq = cv2.boxFilter(cell * cell, -1, ksize, borderType=cv2.BORDER_REFLECT)
        sd = np.sqrt(np.maximum(mean_sq - mean * mean, 0.0))
        if float(sd.max() - sd.min()) < noise_sd:
            cell[...] = 0.0
    return out
