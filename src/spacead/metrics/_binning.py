"""Score binning: the histogram that every metric is computed from.

A threshold metric (ROC, precision-recall) depends only on how the scores are
grouped into tied values and on the order of the groups. scikit-learn groups
equal scores into one threshold; a bin is such a group. So when each bin holds
at most one distinct score value, metrics computed from the bin counts are those
of scikit-learn, up to floating-point rounding of the final sums.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numba
import numpy as np
import numpy.typing as npt

from ._kernels import add_chunks, bin_pairs
from ._validate import raise_nonfinite

MAX_BINS = 2**24
# Scores per chunk of one kernel call, so that uint32 per-thread counts cannot overflow.
_MAX_CHUNK = 2**31


@dataclass(frozen=True)
class Binning:
    r"""Uniform score bins of the streaming pixel metrics.

    Bin ``k`` (``0 <= k < n_bins``) is centred on ``lo + k * step`` and holds the
    scores ``s`` with ``floor((s - lo) / step + 0.5) == k``. Scores below the first
    or above the last bin are *clamped* into it (and counted, see
    :attr:`PixelMetrics.n_clamped_pixels`); NaN and inf are rejected.

    Parameters
    ----------
    lo : float
        Centre of the first bin.
    step : float
        Bin width, > 0.
    n_bins : int
        Number of bins, in [2, 2**24].

    Notes
    -----
    Metrics are exactly those of scikit-learn when every bin holds at most one
    distinct score, i.e. when distinct scores in ``[lo, hi]`` are at least
    ``step`` apart and no two distinct scores are clamped into the same end bin.
    The default, 65,536 bins of width 1/256 centred on 0, 1/256, …, 255.996, puts
    every multiple of 1/256 in [0, 255.996] alone at its bin's centre: ``uint8``
    maps, the half-integer MRAD score maps (values k/2) and any 8-bit-scale map
    rounded to 1/256 are binned exactly. Other scores within the range lose at
    most their order inside one bin of width ``step``. Only (anomalous, normal)
    pairs sharing a bin can change, so the AUROC moves by at most
    :math:`\sum_k a_k n_k / (2 A N)` (:math:`a_k, n_k` anomalous and normal
    scores in bin :math:`k`, :math:`A, N` their totals); for continuous scores
    spread over the range, all metrics stay well within 1e-3 of scikit-learn's.
    Scores on another scale need their
    own bins, e.g. ``Binning.linear(0.0, 1000.0)`` for RXD's squared Mahalanobis
    distances, or ``Binning(lo=0, step=1, n_bins=65536)`` for ``uint16`` maps.

    Examples
    --------
    >>> import numpy as np
    >>> b = Binning()
    >>> b.hi
    255.99609375
    >>> b.bin_index(np.array([0.0, 0.5, 255.0, 300.0]))
    array([    0,   128, 65280, 65535])
    >>> Binning.linear(0.0, 1.0, n_bins=5).centres()
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """

    lo: float = 0.0
    step: float = 1.0 / 256.0
    n_bins: int = 65536

    def __post_init__(self) -> None:
        for name in ("lo", "step"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                raise TypeError(f"{name} must be a real number, got {value!r}")
            object.__setattr__(self, name, float(value))
        if not math.isfinite(self.lo):
            raise ValueError(f"lo must be finite, got {self.lo!r}")
        if not (math.isfinite(self.step) and self.step > 0.0):
            raise ValueError(f"step must be finite and > 0, got {self.step!r}")
        if isinstance(self.n_bins, bool) or not isinstance(self.n_bins, int | np.integer):
            raise TypeError(f"n_bins must be an integer, got {self.n_bins!r}")
        object.__setattr__(self, "n_bins", int(self.n_bins))
        if not 2 <= self.n_bins <= MAX_BINS:
            raise ValueError(f"n_bins must be in [2, {MAX_BINS}], got {self.n_bins}")
        if not math.isfinite(self.hi):
            raise ValueError(f"lo + (n_bins - 1) * step must be finite, got {self.hi!r}")

    @classmethod
    def linear(cls, lo: float, hi: float, n_bins: int = 65536) -> Binning:
        """Bins centred on ``n_bins`` evenly spaced values from ``lo`` to ``hi``.

        Parameters
        ----------
        lo, hi : float
            Centres of the first and last bin, ``lo < hi``.
        n_bins : int
            Number of bins.

        Returns
        -------
        Binning
        """
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"hi must be finite and > lo = {lo!r}, got {hi!r}")
        if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 2:
            raise ValueError(f"n_bins must be an integer >= 2, got {n_bins!r}")
        return cls(lo=lo, step=(hi - lo) / (int(n_bins) - 1), n_bins=n_bins)

    @property
    def hi(self) -> float:
        """Centre of the last bin."""
        return self.lo + (self.n_bins - 1) * self.step

    def centres(self) -> npt.NDArray[np.float64]:
        """Return the score each bin stands for (its centre), shape (n_bins,)."""
        return self.lo + np.arange(self.n_bins, dtype=np.float64) * self.step

    def bin_index(self, scores: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Return the bin of each finite score (NumPy reference of the compiled kernel)."""
        x = (np.asarray(scores, dtype=np.float64) - self.lo) * (1.0 / self.step) + 0.5
        return np.clip(np.floor(x), 0, self.n_bins - 1).astype(np.int64)

    def to_dict(self) -> dict[str, Any]:
        """Return the bins as a JSON-friendly dict."""
        return {"lo": self.lo, "step": self.step, "n_bins": self.n_bins}


class Histogram(NamedTuple):
    """Two-class score histogram in ascending score order."""

    counts: npt.NDArray[np.int64]  # (2, n): counts[0] normal, counts[1] anomalous
    values: npt.NDArray[np.float64]  # (n,): the score each bin stands for
    n_clamped: int


def new_scratch(binning: Binning) -> npt.NDArray[np.uint32]:
    """Allocate the per-thread histograms of :func:`accumulate`."""
    return np.zeros((numba.get_num_threads(), 2, binning.n_bins), dtype=np.uint32)


def accumulate(
    counts: npt.NDArray[np.int64],
    scores: npt.NDArray[Any],
    labels: npt.NDArray[np.uint8],
    binning: Binning,
    scratch: npt.NDArray[np.uint32],
    name: str,
) -> tuple[int, int]:
    """Add flat ``scores``/``labels`` to ``counts`` (2, n_bins); all or nothing.

    Returns the number of anomalous and of clamped scores added. Raises
    ``ValueError`` (``counts`` untouched) if a score is NaN or inf.
    """
    limit = _MAX_CHUNK * scratch.shape[0]
    if scores.shape[0] > limit:  # beyond 2**32 scores: add the slices up first
        part = np.zeros_like(counts)
        n_pos = n_clamped = 0
        for start in range(0, scores.shape[0], limit):
            stop = start + limit
            pos, clamped = accumulate(
                part, scores[start:stop], labels[start:stop], binning, scratch, name
            )
            n_pos, n_clamped = n_pos + pos, n_clamped + clamped
        counts += part
        return n_pos, n_clamped
    n_bad, n_clamped = bin_pairs(scores, labels, binning.lo, 1.0 / binning.step, scratch)
    if n_bad:
        raise_nonfinite(int(n_bad), name)
    return int(add_chunks(counts, scratch)), int(n_clamped)


def binned_histogram(
    scores: npt.NDArray[Any], labels: npt.NDArray[np.uint8], binning: Binning, name: str
) -> Histogram:
    """Histogram of flat ``scores``/``labels`` over the bins of ``binning``."""
    counts = np.zeros((2, binning.n_bins), dtype=np.int64)
    _, n_clamped = accumulate(counts, scores, labels, binning, new_scratch(binning), name)
    return Histogram(counts, binning.centres(), n_clamped)


def exact_histogram(scores: npt.NDArray[Any], labels: npt.NDArray[np.bool_]) -> Histogram:
    """Histogram with one bin per distinct score (finite scores, same shape as labels)."""
    values, inverse = np.unique(scores.reshape(-1), return_inverse=True)
    keys = inverse.reshape(-1) * 2 + labels.reshape(-1)
    counts = np.bincount(keys, minlength=2 * values.shape[0]).reshape(-1, 2).T
    return Histogram(np.ascontiguousarray(counts, dtype=np.int64), values.astype(np.float64), 0)
