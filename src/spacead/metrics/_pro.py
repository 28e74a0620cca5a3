"""AUPRO: the per-region overlap curve, streamed from histograms (as anomalib computes it).

The PRO curve (Bergmann et al., MVTec AD) averages, over every connected
anomalous region of the ground truth, the fraction of the region's pixels
above a threshold, and plots it against the false-positive rate of the normal
pixels; AUPRO is its area up to FPR 0.3, divided by 0.3. anomalib sorts every
pixel of every image at the end; here each update adds, per score bin, the
count of anomalous pixels of every region size. Since the mean overlap at a
threshold is ``(1 / R) Σ_r |{p ∈ r : s_p ≥ t}| / |r|``, those integer
counts give it exactly, whatever the number of images or the order of merging.
Regions are 8-connected components of each image's mask (``cv2.connectedComponents``,
as anomalib labels them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from scipy.integrate import trapezoid

FPR_LIMIT = 0.3
_COMPACT_ROWS = 1 << 16  # merge duplicate (size, bin) rows when this many have piled up


class RegionCounts:
    """Anomalous-pixel counts per (region size, score bin), and the number of regions."""

    def __init__(self) -> None:
        self.rows = np.zeros((0, 3), dtype=np.int64)  # region size, bin, pixel count
        self.n_regions = 0
        self.unavailable: str | None = None  # why regions could not be found, if so

    def update(
        self,
        scores: npt.NDArray[Any],
        labels: npt.NDArray[np.bool_],
        bin_of: Callable[[npt.NDArray[Any]], npt.NDArray[np.int64]],
        n_bins: int,
    ) -> None:
        """Count the regions of one map (H, W) or a stack (..., H, W); 1-D has no regions.

        A trailing axis of length 1 (``(N, H, W, 1)``) is a channel axis and dropped.

        ``bin_of`` gives the histogram bin of scores (e.g. :meth:`Binning.bin_index`).
        """
        while scores.ndim > 2 and scores.shape[-1] == 1:  # (..., H, W, 1): one channel
            scores, labels = scores[..., 0], labels[..., 0]
        if scores.ndim < 2:
            self.unavailable = f"regions need images: (H, W) or (N, H, W) maps, got {scores.shape}"
            return
        maps = scores.reshape(-1, *scores.shape[-2:])  # (..., H, W): images of H x W
        masks = labels.reshape(-1, *labels.shape[-2:])
        new = [self.rows]
        for full_score, full_mask in zip(maps, masks, strict=True):
            rows = np.flatnonzero(full_mask.any(axis=1))
            if rows.size == 0:
                continue
            cols = np.flatnonzero(full_mask.any(axis=0))
            # Every region lies inside the mask's bounding box: label that crop only.
            box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
            mask, score = full_mask[box], full_score[box]
            n, label, stats, _ = cv2.connectedComponentsWithStats(
                mask.astype(np.uint8), connectivity=8
            )
            self.n_regions += n - 1
            sizes = stats[:, cv2.CC_STAT_AREA].astype(np.int64)
            size = sizes[label[mask]]
            bins = np.asarray(bin_of(score[mask]), dtype=np.int64)
            new.append(_aggregate(size, bins, np.ones(len(bins), np.int64), n_bins))
        self.rows = np.concatenate(new)
        if len(self.rows) > _COMPACT_ROWS:
            self.compact(n_bins)

    def compact(self, n_bins: int) -> None:
        """Sum rows of equal (size, bin): the order-independent canonical form."""
        r = self.rows
        self.rows = _aggregate(r[:, 0], r[:, 1], r[:, 2], n_bins)

    def merge(self, other: RegionCounts, n_bins: int) -> None:
        """Add ``other``'s counts (exact)."""
        self.rows = np.concatenate([self.rows, other.rows])
        self.n_regions += other.n_regions
        self.unavailable = self.unavailable or other.unavailable
        self.compact(n_bins)

    def overlap_histogram(self, n_bins: int) -> npt.NDArray[np.float64]:
        """Per bin: the sum over anomalous pixels of 1 / (their region's size)."""
        self.compact(n_bins)  # rows sorted by (size, bin): the same float sums in any case
        r = self.rows
        out: npt.NDArray[np.float64] = np.asarray(
            np.bincount(r[:, 1], weights=r[:, 2] / r[:, 0], minlength=n_bins), dtype=np.float64
        )
        return out

    def state_arrays(self) -> dict[str, npt.NDArray[Any]]:
        state = {"pro_rows": self.rows.copy(), "pro_n_regions": np.array(self.n_regions)}
        if self.unavailable is not None:
            state["pro_unavailable"] = np.array(self.unavailable)
        return state

    def load_state_arrays(self, state: dict[str, npt.NDArray[Any]], n_bins: int) -> None:
        if "pro_rows" not in state:  # saved before AUPRO was counted
            self.unavailable = "partial results saved without region counts"
            return
        other = RegionCounts()
        other.rows = np.asarray(state["pro_rows"], dtype=np.int64).reshape(-1, 3)
        other.n_regions = int(state["pro_n_regions"])
        if "pro_unavailable" in state:
            other.unavailable = str(state["pro_unavailable"])
        self.merge(other, n_bins)


def _aggregate(
    size: npt.NDArray[np.int64],
    bins: npt.NDArray[np.int64],
    count: npt.NDArray[np.int64],
    n_bins: int,
) -> npt.NDArray[np.int64]:
    """Rows (size, bin, summed count), one per distinct (size, bin), sorted."""
    if len(size) == 0:
        return np.zeros((0, 3), dtype=np.int64)
    key = size * np.int64(n_bins) + bins
    unique, inverse = np.unique(key, return_inverse=True)
    totals = np.bincount(inverse, weights=count).astype(np.int64)
    return np.stack([unique // n_bins, unique % n_bins, totals], axis=1)


def aupro_of(
    normal: npt.NDArray[np.int64],
    occupied: npt.NDArray[np.bool_],
    overlap: npt.NDArray[np.float64],
    n_regions: int,
    fpr_limit: float = FPR_LIMIT,
) -> float:
    """AUPRO from the normal-pixel histogram and the overlap histogram (bins ascending).

    ``occupied`` marks the bins holding any pixel (the distinct thresholds).
    The curve is anomalib's (``anomalib.metrics.aupro``): operating points from
    the highest threshold down, starting at (0, 0), cut at ``fpr_limit`` with
    linear interpolation, trapezoidal area divided by the last FPR.
    """
    n_neg = int(normal.sum())
    fpr = np.concatenate(([0.0], np.cumsum(normal[occupied][::-1]) / n_neg))
    pro = np.concatenate(([0.0], np.cumsum(overlap[occupied][::-1]) / n_regions))
    fpr, pro = np.minimum(fpr, 1.0), np.minimum(pro, 1.0)
    i = int(np.flatnonzero(fpr <= fpr_limit)[-1])
    if fpr[i] < fpr_limit and i + 1 < len(fpr):
        f1, f2, p1, p2 = fpr[i], fpr[i + 1], pro[i], pro[i + 1]
        p_lim = p1 + (p2 - p1) * (fpr_limit - f1) / (f2 - f1)
        fpr = np.concatenate((fpr[: i + 1], [fpr_limit]))
        pro = np.concatenate((pro[: i + 1], [p_lim]))
    else:
        fpr, pro = fpr[: i + 1], pro[: i + 1]
    if fpr[-1] <= 0:
        return 0.0
    return float(min(1.0, max(0.0, trapezoid(pro, fpr) / fpr[-1])))
