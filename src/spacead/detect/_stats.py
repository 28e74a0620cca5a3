"""Gaussian background statistics and the RX-family score (fit, then score).

Following Spectral Python's ``calc_stats`` → ``rx`` split, statistics are
estimated once per grid cell (:func:`cell_stats`) and then turned into the
coefficients of a per-pixel quadratic form evaluated by a compiled kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._kernels import N_COEF, cell_moments, quadratic_score

FloatArray = npt.NDArray[np.float64]
_PRODUCT_INDEX = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))


@dataclass(frozen=True)
class CellStats:
    """Mean and regularised covariance of every cell of a grid.

    Attributes
    ----------
    mean : ndarray, shape (G_r, G_c, 3)
    cov : ndarray, shape (G_r, G_c, 3, 3)
        Sample covariance (population normalisation, as SPy) plus ``cov_floor · I``.
    """

    mean: FloatArray
    cov: FloatArray

    def scaled(self, gain: FloatArray) -> CellStats:
        """Statistics of the same pixels multiplied channel-wise by ``gain``."""
        return CellStats(self.mean * gain, self.cov * np.outer(gain, gain))


# Cells of at least this many pixels estimate their statistics from every second
# row and column: a quarter of the pixels, still ≥ 4,000 samples for a 3 × 3 covariance.
_SUBSAMPLE_MIN_PIXELS = 16_000


def stats_stride(pixels_per_cell: float) -> int:
    """Sampling stride of :func:`cell_stats` for cells of this many pixels (1 or 2)."""
    return 2 if pixels_per_cell >= _SUBSAMPLE_MIN_PIXELS else 1


def grid_edges(size: int, cells: int) -> npt.NDArray[np.int64]:
    """Boundaries of ``cells`` near-equal intervals covering ``range(size)``."""
    return np.linspace(0, size, cells + 1).round().astype(np.int64)


def cell_stats(
    image: npt.NDArray[np.generic],
    row_edges: npt.NDArray[np.int64],
    col_edges: npt.NDArray[np.int64],
    *,
    cov_floor: float,
    stride: int = 1,
) -> CellStats:
    """Estimate per-cell mean and covariance of an H×W×3 image.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3), uint8 or float32
    row_edges, col_edges : ndarray of int
        Cell boundaries (see :func:`grid_edges`).
    cov_floor : float
        Added to the covariance diagonal: black space has a singular covariance.
    stride : int
        Estimate from every ``stride``-th row and column (2 quarters the work;
        the estimate of a 3 × 3 covariance from ≥ 10⁴ pixels barely changes).
    """
    m = cell_moments(image, row_edges, col_edges, stride)
    n = np.maximum(m[..., 0:1], 1.0)
    mean = m[..., 1:4] / n
    cov = np.empty((*m.shape[:2], 3, 3))
    for k, (i, j) in enumerate(_PRODUCT_INDEX):
        value = m[..., 4 + k] / n[..., 0] - mean[..., i] * mean[..., j]
        cov[..., i, j] = value
        cov[..., j, i] = value
    cov += np.eye(3) * cov_floor
    return CellStats(mean, cov)


def _pack(center: FloatArray, quad: FloatArray, lin: FloatArray, const: FloatArray) -> FloatArray:
    """Lay out ``d·Q·d + b·d + c`` (``d = x - center``) as the kernel expects."""
    coef = np.empty((*center.shape[:-1], N_COEF))
    coef[..., 0:3] = center
    for k, (i, j) in enumerate(_PRODUCT_INDEX):
        coef[..., 3 + k] = quad[..., i, j] * (1.0 if i == j else 2.0)
    coef[..., 9:12] = lin
    coef[..., 12] = const
    return coef


def rx_coefficients(stats: CellStats) -> FloatArray:
    r"""Kernel coefficients of the squared Mahalanobis distance to each cell's statistics.

    .. math:: \mathrm{RXD}(x) = (x - \mu)^\top \Sigma^{-1} (x - \mu)
    """
    inv = np.linalg.inv(stats.cov).astype(np.float64)
    zeros = np.zeros(stats.mean.shape)
    return _pack(stats.mean, inv, zeros, zeros[..., 0])


def dual_coefficients(background: CellStats, target: CellStats) -> FloatArray:
    r"""Kernel coefficients of the PAD/MRAD score: RX distance to background minus to target.

    .. math::
        s(x) = (x-\mu_0)^\top\Sigma_0^{-1}(x-\mu_0) - (x-\mu_1)^\top\Sigma_1^{-1}(x-\mu_1)

    Expanded around :math:`\mu_0` with :math:`d = x - \mu_0`, :math:`\delta = \mu_1 - \mu_0`:
    :math:`s = d^\top(A_0 - A_1)d + 2 d^\top A_1\delta - \delta^\top A_1\delta`.
    """
    a0 = np.linalg.inv(background.cov)
    a1 = np.linalg.inv(target.cov)
    delta = target.mean - background.mean
    a1_delta = np.einsum("...ij,...j->...i", a1, delta)
    const = -np.einsum("...i,...i->...", delta, a1_delta)
    return _pack(background.mean, a0 - a1, 2.0 * a1_delta, const)


def evaluate_score(
    image: npt.NDArray[np.generic],
    row_edges: npt.NDArray[np.int64],
    col_edges: npt.NDArray[np.int64],
    coef: FloatArray,
) -> npt.NDArray[np.float32]:
    """The per-cell quadratic form of ``coef`` at every pixel (a new float32 map)."""
    out = np.empty(image.shape[:2], dtype=np.float32)
    quadratic_score(image, row_edges, col_edges, coef, out)
    return out
