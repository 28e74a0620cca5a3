"""Compiled per-pixel kernels of the RX-family detectors.

Written with numba because no library fuses these two passes: NumPy/OpenCV
need one full-image pass per channel product (about 20 ms for the score and
30 ms for the cell statistics of a 1920 × 1080 pair on two cores), while a fused
loop reads each pixel once (a few ms), straight from ``uint8`` or ``float32``.
"""

from __future__ import annotations

from typing import Any

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
    three channels and sums of the six channel products, accumulated in float64
    per row, then the rows in order (the same sums for any thread count).
    """
    n_r = row_edges.shape[0] - 1
    n_c = col_edges.shape[0] - 1
    rows = np.arange(0, image.shape[0], stride)
    partial = np.zeros((rows.shape[0], n_c, N_MOMENTS))
    for k in numba.prange(rows.shape[0]):
        y = rows[k]
        for ci in range(n_c):
            # First sampled column of the cell: the multiple of stride at or after its edge.
            x = (col_edges[ci] + stride - 1) // stride * stride
            stop = col_edges[ci + 1]
            n = s0 = s1 = s2 = s00 = s11 = s22 = s01 = s02 = s12 = 0.0
            while x < stop:
                a = np.float64(image[y, x, 0])
                b = np.float64(image[y, x, 1])
                c = np.float64(image[y, x, 2])
                n += 1.0
                s0 += a
                s1 += b
                s2 += c
                s00 += a * a
                s11 += b * b
                s22 += c * c
                s01 += a * b
                s02 += a * c
                s12 += b * c
                x += stride
            acc = partial[k, ci]
            acc[0] = n
            acc[1] = s0
            acc[2] = s1
            acc[3] = s2
            acc[4] = s00
            acc[5] = s11
            acc[6] = s22
            acc[7] = s01
            acc[8] = s02
            acc[9] = s12
    out = np.zeros((n_r, n_c, N_MOMENTS))
    ri = 0
    for k in range(rows.shape[0]):  # scalar loops: slicing here would allocate per row
        while rows[k] >= row_edges[ri + 1]:
            ri += 1
        for ci in range(n_c):
            for m in range(N_MOMENTS):
                out[ri, ci, m] += partial[k, ci, m]
    return out


@numba.njit(inline="always")
def _coefficients(p: npt.NDArray[np.float32]) -> tuple[Any, ...]:
    """One cell's coefficients as scalars (layout: see :func:`quadratic_score`).

    Held in registers for the cell's run of pixels: read from the array, they
    would be reloaded after every store (the compiler cannot rule out aliasing).
    """
    return (
        p[0],
        p[1],
        p[2],
        p[3],
        p[4],
        p[5],
        p[6],
        p[7],
        p[8],
        p[9],
        p[10],
        p[11],
        p[12],
    )


@numba.njit(inline="always")
def _quadratic(c: tuple[Any, ...], image: npt.NDArray[np.generic], y: int, x: int) -> Any:
    """One cell's quadratic form at pixel ``(y, x)`` (``c`` from :func:`_coefficients`)."""
    d0 = np.float32(image[y, x, 0]) - c[0]
    d1 = np.float32(image[y, x, 1]) - c[1]
    d2 = np.float32(image[y, x, 2]) - c[2]
    return (
        d0 * (c[3] * d0 + c[6] * d1 + c[7] * d2 + c[9])
        + d1 * (c[4] * d1 + c[8] * d2 + c[10])
        + d2 * (c[5] * d2 + c[11])
        + c[12]
    )


@numba.njit(inline="always")
def _cell_row(row_edges: npt.NDArray[np.int64], y: int) -> int:
    ri = 0
    while y >= row_edges[ri + 1]:
        ri += 1
    return ri


@numba.njit(parallel=True, cache=True, nogil=True)
def quadratic_score(
    image: npt.NDArray[np.generic],
    row_edges: npt.NDArray[np.int64],
    col_edges: npt.NDArray[np.int64],
    coef: npt.NDArray[np.float64],
    out: npt.NDArray[np.float32],
) -> None:
    """Evaluate each cell's quadratic form at every pixel, into ``out``.

    With ``d = x - m`` (``m = coef[..., 0:3]``) the score is
    ``q00 d0² + q11 d1² + q22 d2² + q01 d0 d1 + q02 d0 d2 + q12 d1 d2 + b·d + c``
    with the coefficients in ``coef[..., 3:13]`` in that order (cross terms
    already doubled). Centring on ``m`` keeps float32 accurate for dark cells.
    """
    h = image.shape[0]
    cf = coef.astype(np.float32)
    for y in numba.prange(h):
        ri = _cell_row(row_edges, y)
        for ci in range(col_edges.shape[0] - 1):
            p = _coefficients(cf[ri, ci])
            for x in range(col_edges[ci], col_edges[ci + 1]):
                out[y, x] = _quadratic(p, image, y, x)


@numba.njit(parallel=True, cache=True, nogil=True)
def thresholded_score(
    image: npt.NDArray[np.generic],
    row_edges: npt.NDArray[np.int64],
    col_edges: npt.NDArray[np.int64],
    coef: npt.NDArray[np.float64],
    threshold: float,
    out: npt.NDArray[np.float32],
    mask: npt.NDArray[np.bool_],
) -> int:
    """RXD/PAD in one pass: ``out = max(score, 0)``, ``mask = out > threshold``; returns the count.

    The threshold is compared in float32, as NumPy compares a float32 map.
    """
    h = image.shape[0]
    cf = coef.astype(np.float32)
    counts = np.zeros(h, dtype=np.int64)
    zero = np.float32(0.0)
    limit = np.float32(threshold)
    for y in numba.prange(h):
        ri = _cell_row(row_edges, y)
        n = 0
        for ci in range(col_edges.shape[0] - 1):
            p = _coefficients(cf[ri, ci])
            for x in range(col_edges[ci], col_edges[ci + 1]):
                s = _quadratic(p, image, y, x)
                s = s if s > zero else zero  # +0.0, as np.maximum(score, 0) gave
                out[y, x] = s
                hit = s > limit
                mask[y, x] = hit
                n += 1 if hit else 0
        counts[y] = n
    return int(counts.sum())


@numba.njit(inline="always")
def _row_span(row: npt.NDArray[Any], span: npt.NDArray[np.int64]) -> None:
    """First and one-past-last non-zero column of one row into ``span`` (``-1, -1``: none)."""
    w = row.shape[0]
    span[0] = -1
    span[1] = -1
    for x in range(w):
        if row[x] != 0:
            span[0] = x
            break
    if span[0] >= 0:
        for x in range(w - 1, -1, -1):
            if row[x] != 0:
                span[1] = x + 1
                break


@numba.njit(inline="always")
def _store_scaled(
    s: Any,
    y: int,
    x: int,
    cut: Any,
    level: Any,
    kept: npt.NDArray[np.float32],
    low: npt.NDArray[np.uint8],
) -> None:
    """One scaled score ``s`` (>= 0): kept above ``cut``, else 0; its sub-threshold rank."""
    low[y, x] = np.uint8(min(s, cut) * level)  # s >= 0: truncation is the floor
    kept[y, x] = s if s > cut else np.float32(0.0)


@numba.njit(parallel=True, cache=True, nogil=True)
def scaled_score(
    image: npt.NDArray[np.generic],
    row_edges: npt.NDArray[np.int64],
    col_edges: npt.NDArray[np.int64],
    coef: npt.NDArray[np.float64],
    factor: float,
    min_score: float,
    kept: npt.NDArray[np.float32],
    low: npt.NDArray[np.uint8],
    spans: npt.NDArray[np.int64],
) -> None:
    """MRAD's steps 2-3 in one pass, for the fixed scaling.

    With ``s = clip(score · factor, 0, 255)``: ``kept = s`` where ``s > min_score``,
    else 0 (as ``cv2.THRESH_TOZERO``, compared in float32); ``low`` the rank of
    ``s`` below the minimum score, ``floor(min(s, min_score) · 127 / min_score)``
    (see :func:`ranked_scores`); ``spans[y]`` the first and one-past-last
    column of row ``y`` kept (``-1, -1``: none).
    """
    h = image.shape[0]
    cf = coef.astype(np.float32)
    f = np.float32(factor)
    zero, high = np.float32(0.0), np.float32(255.0)
    cut = np.float32(min_score)
    level = np.float32(127.0 / max(min_score, 1e-6))
    for y in numba.prange(h):
        ri = _cell_row(row_edges, y)
        for ci in range(col_edges.shape[0] - 1):
            p = _coefficients(cf[ri, ci])
            for x in range(col_edges[ci], col_edges[ci + 1]):
                s = _quadratic(p, image, y, x) * f
                _store_scaled(min(max(s, zero), high), y, x, cut, level, kept, low)
        _row_span(kept[y], spans[y])


@numba.njit(parallel=True, cache=True, nogil=True)
def scale_threshold(
    raw: npt.NDArray[np.float32],
    factor: float,
    min_score: float,
    kept: npt.NDArray[np.float32],
    low: npt.NDArray[np.uint8],
    spans: npt.NDArray[np.int64],
) -> None:
    """:func:`scaled_score`'s outputs from a computed score map (the min-max scaling)."""
    h, w = raw.shape
    f = np.float32(factor)
    zero, high = np.float32(0.0), np.float32(255.0)
    cut = np.float32(min_score)
    level = np.float32(127.0 / max(min_score, 1e-6))
    for y in numba.prange(h):
        for x in range(w):
            _store_scaled(min(max(raw[y, x] * f, zero), high), y, x, cut, level, kept, low)
        _row_span(kept[y], spans[y])


@numba.njit(parallel=True, cache=True, nogil=True)
def cell_counts(
    score: npt.NDArray[np.float32],
    row_edges: npt.NDArray[np.int64],
    col_edges: npt.NDArray[np.int64],
    threshold: float,
    spans: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Per grid cell: the count of non-zero scores and of scores above ``threshold``.

    Returns an array of shape ``(n_rows, n_cols, 2)``; ``spans`` receives each
    row's first and one-past-last non-zero column (``-1, -1``: none).
    """
    h = score.shape[0]
    n_r, n_c = row_edges.shape[0] - 1, col_edges.shape[0] - 1
    partial = np.zeros((h, n_c, 2), dtype=np.int64)
    limit = np.float32(threshold)
    for y in numba.prange(h):
        _row_span(score[y], spans[y])
        for ci in range(n_c):
            nz = 0
            above = 0
            # Only the row's non-zero span can hold non-zero scores.
            for x in range(max(col_edges[ci], spans[y, 0]), min(col_edges[ci + 1], spans[y, 1])):
                v = score[y, x]
                nz += v != 0
                above += v > limit
            partial[y, ci, 0] = nz
            partial[y, ci, 1] = above
    out = np.zeros((n_r, n_c, 2), dtype=np.int64)
    for ri in range(n_r):
        for y in range(row_edges[ri], row_edges[ri + 1]):
            for ci in range(n_c):
                out[ri, ci, 0] += partial[y, ci, 0]
                out[ri, ci, 1] += partial[y, ci, 1]
    return out


@numba.njit(parallel=True, cache=True, nogil=True)
def row_spans(values: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    """Per row, the first and one-past-last column of a non-zero value (``(-1, -1)``: none)."""
    out = np.empty((values.shape[0], 2), dtype=np.int64)
    for y in numba.prange(values.shape[0]):
        _row_span(values[y], out[y])
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
    low: npt.NDArray[np.uint8],
    out: npt.NDArray[np.float32],
) -> None:
    """MRAD's pixel score map, the one pixel metrics rank, into ``out``.

    ``blurred / 2`` (the paper's 0–255 map, halved) plus 127.5 inside the
    detected mask, so every detected pixel ranks at or above every undetected
    one. Pixels the pipeline zeroed would all tie at 0 — one tie holding most of
    the image, which pins P.FPR95 at 1 — so they are ranked instead by their
    scaled score before thresholding, squeezed into [0, 127/256] (below the
    smallest retained value, 0.5) on a 1/256 grid: ``low``, as
    :func:`scaled_score` stored it. Every value is a multiple of 1/256, which
    streaming metrics bin exactly. One fused pass (boolean indexing over 2 MP
    costs ~8 ms).
    """
    h, w = blurred.shape
    for y in numba.prange(h):
        for x in range(w):
            b = blurred[y, x]
            if b == 0:
                out[y, x] = np.float32(low[y, x]) / np.float32(256.0)
            elif mask[y, x]:
                out[y, x] = b * np.float32(0.5) + np.float32(127.5)
            else:
                out[y, x] = b * np.float32(0.5)
