"""Seeded region growing (Adams & Bischof 1994) over a square footprint.

Equivalent to the union of :func:`skimage.segmentation.flood` from every seed,
except that zero-score pixels (already declared anomaly-free) never join a
region. ``flood`` walks pixel by pixel in Python-level loops per seed; here each
seed's region is one OpenCV connected-components call on the crop of the
non-zero support component that holds it, so the cost follows the anomalies,
not the frame.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt


def _components(
    binary: npt.NDArray[np.uint8], footprint: int
) -> tuple[int, npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Connected components where neighbours lie within the ``footprint × footprint`` square.

    Two pixels within Chebyshev distance ``r = footprint // 2`` are neighbours;
    dilating by an ``r × r`` square makes exactly those pairs 8-adjacent.
    """
    reach = footprint // 2
    if reach > 1:
        binary = cv2.dilate(binary, np.ones((reach, reach), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    return n, labels, stats


def grow_regions(
    score: npt.NDArray[np.float32],
    seeds: npt.NDArray[np.int64],
    *,
    tolerance: float,
    footprint: int = 3,
) -> npt.NDArray[np.bool_]:
    """Grow a region from every seed over pixels within ``tolerance`` of the seed's score.

    Parameters
    ----------
    score : ndarray of float32, shape (H, W)
        Non-negative score map; zero pixels never join a region.
    seeds : ndarray of int, shape (K, 2)
        Seed (row, col) positions.
    tolerance : float
        A pixel joins when ``|score - score[seed]| <= tolerance`` and it is
        reachable from the seed through such pixels.
    footprint : int
        Odd side of the square neighbourhood (3 = 8-connectivity).

    Returns
    -------
    ndarray of bool, shape (H, W)
    """
    mask = np.zeros(score.shape, dtype=bool)
    if len(seeds) == 0:
        return mask
    if footprint == 3:
        return _flood_8(score, seeds, tolerance, mask)
    _, support, boxes = _components((score > 0).astype(np.uint8), footprint)
    for sy, sx in seeds:
        label = support[sy, sx]
        if label == 0:
            continue
        x, y, w, h = boxes[label, :4]
        crop = score[y : y + h, x : x + w]
        value = score[sy, sx]
        cand = (
            (np.abs(crop - value) <= tolerance)
            & (crop > 0)
            & (support[y : y + h, x : x + w] == label)
        )
        _, grown, _ = _components(cand.astype(np.uint8), footprint)
        mask[y : y + h, x : x + w] |= cand & (grown == grown[sy - y, sx - x])
    return mask


def _flood_8(
    score: npt.NDArray[np.float32],
    seeds: npt.NDArray[np.int64],
    tolerance: float,
    mask: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """Footprint 3 (8-connectivity): OpenCV's fixed-range flood fill, cost ∝ region size."""
    h, w = score.shape
    # Non-zero mask pixels are barriers to cv2.floodFill: mark the zero scores (and
    # the frame) so they never join; the flood itself writes the value 2.
    fill = np.ones((h + 2, w + 2), np.uint8)
    fill[1:-1, 1:-1] = score == 0
    flags = 8 | cv2.FLOODFILL_FIXED_RANGE | cv2.FLOODFILL_MASK_ONLY | (2 << 8)
    for sy, sx in seeds:
        if score[sy, sx] <= 0:
            continue
        _, _, _, (x, y, rw, rh) = cv2.floodFill(
            score, fill, (int(sx), int(sy)), 0, tolerance, tolerance, flags
        )
        region = fill[y + 1 : y + 1 + rh, x + 1 : x + 1 + rw]
        grown = region == 2
        mask[y : y + rh, x : x + rw] |= grown
        region[grown] = 0
    return mask
