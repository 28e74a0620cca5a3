"""Compiled per-pixel kernels of the RX-family detectors.

Written with numba because no library fuses these two passes: NumPy/OpenCV
need one full-image pass per channel product (about 20 ms for the score and
30 ms for the cell statistics of a 1920 × 1080 pair on two cores), while a fused
loop reads each pixel once (a few ms), straight from ``uint8`` or ``float32``.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

# Coefficient layout of one cell's quadratic form, see ``quadratic_score``.
N_COEF = 13
N_MOMENTS = 10  # count, 3 sums, 6 sums of products (00, 11, 22, 01, 02, 12)


@numba.njit(parallel=True, cache=True, nogil=True)
def cell_moments(
    image: npt.NDArray[np.generic],
    row_edges: npt.NDArray[np.int64],
    col_edges: npt.NDArray[np.int64],
    stride: int,
) -> npt.NDArray[np.float64]:
    """Raw moments of each grid cell, from every ``stride``-th row and column.

    Returns an array of shape ``(n_rows, n_cols, 10)``: pixel count, sums of the
    three channels and sums of the six channel products, accumulated in float64.
    """
    n_r = row_edges.shape[0] - 1
    n_c = col_edges.shape[0] - 1
    rows = np.arange(0, image.shape[0], stride)
    partial = np.zeros((rows.shape[0], n_c, N_MOMENTS))
    for k in numba.prange(rows.shape[0]):
        y = rows[k]
        ci = 0
        for x in range(0, image.shape[1], stride):
            while x >= col_edges[ci + 1]:
                ci += 1
            a = np.float64(image[y, x, 0])
            b = np.float64(image[y, x, 1])
            c = np.float64(image[y, x, 2])
            acc = partial[k, ci]
            acc[0] += 1.0
            acc[1] += a
            acc[2] += b
            acc[3] += c
            acc[4] += a * a
            acc[5] += b * b
            acc[6] += c * c
            acc[7] += a * b
            acc[8] += a * c
            acc[9] += b * c
    out = np.zeros((n_r, n_c, N_MOMENTS))
    ri = 0
    for k in range(rows.shape[0]):
        while rows[k] >= row_edges[ri + 1]:
            ri += 1
        out[ri] += partial[k]
    return out


@numba.njit(parallel=True, cache=True, nogil=True)
def quadratic_score(
    image: npt.NDArray[np.generic],
    row_edges: npt.NDArray[np.int64],
    col_edges: npt.NDArray[np.int64],
    coef: npt.NDArray[np.float64],
) -> npt.NDArray[np.float32]:
    """Evaluate each cell's quadratic form at every pixel.

    With ``d = x - m`` (``m = coef[..., 0:3]``) the score is
    ``q00 d0² + q11 d1² + q22 d2² + q01 d0 d1 + q02 d0 d2 + q12 d1 d2 + b·d + c``
    with the coefficients in ``coef[..., 3:13]`` in that order (cross terms
    already doubled). Centring on ``m`` keeps float32 accurate for dark cells.
    """
    h, w = image.shape[0], image.shape[1]
    out = np.empty((h, w), dtype=np.float32)
    cf = coef.astype(np.float32)
    for y in numba.prange(h):
        ri = 0
        while y >= row_edges[ri + 1]:
            ri += 1
        ci = 0
        p = cf[ri, 0]
        for x in range(w):
            if x >= col_edges[ci + 1]:
                ci += 1
                p = cf[ri, ci]
            d0 = np.float32(image[y, x, 0]) - p[0]
            d1 = np.float32(image[y, x, 1]) - p[1]
            d2 = np.float32(image[y, x, 2]) - p[2]
            out[y, x] = (
                d0 * (p[3] * d0 + p[6] * d1 + p[7] * d2 + p[9])
                + d1 * (p[4] * d1 + p[8] * d2 + p[10])
                + d2 * (p[5] * d2 + p[11])
                + p[12]
            )
    return out


@numba.njit(cache=True, nogil=True)
def pool_blocks(weights: npt.NDArray[np.float32], block: int) -> npt.NDArray[np.float64]:
    """Per ``block × block`` block: total weight and weight-times-row/column sums.

    Returns an array of shape ``(ceil(H / block), ceil(W / block), 3)``; one pass
    that skips zero pixels (most of a score map).
    """
    h, w = weights.shape
    out = np.zeros(((h + block - 1) // block, (w + block - 1) // block, 3))
    for y in range(h):
        by = y // block
        for x in range(w):
            v = weights[y, x]
            if v != 0.0:
                cell = out[by, x // block]
                cell[0] += v
                cell[1] += v * y
                cell[2] += v * x
    return out


@numba.njit(parallel=True, cache=True, nogil=True)
def ranked_scores(
    blurred: npt.NDArray[np.float32],
    mask: npt.NDArray[np.bool_],
    scaled: npt.NDArray[np.float32],
    min_score: float,
) -> npt.NDArray[np.float32]:
    """Fused pass of :func:`spacead.detect._mrad.ranked_score_map` (see there)."""
    h, w = blurred.shape
    out = np.empty((h, w), dtype=np.float32)
    level = np.float32(127.0 / max(min_score, 1e-6))
    cap = np.float32(min_score)
    for y in numba.prange(h):
        for x in range(w):
            b = blurred[y, x]
            if b == 0:
                out[y, x] = np.floor(min(scaled[y, x], cap) * level) / np.float32(256.0)
            elif mask[y, x]:
                out[y, x] = b * np.float32(0.5) + np.float32(127.5)
            else:
                out[y, x] = b * np.float32(0.5)
    return out
