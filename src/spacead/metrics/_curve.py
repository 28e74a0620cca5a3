"""Threshold curves and metrics from a two-class histogram (shared by both layers).

The operating points are those of ``sklearn.metrics.roc_curve`` with
``drop_intermediate=False``: one per distinct score (per non-empty bin), in
descending threshold order, where the point of threshold ``t`` predicts
``score >= t`` anomalous.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy.integrate import trapezoid  # NumPy < 2 (the blender extra) has no np.trapezoid

from ._binning import Binning, Histogram
from ._pro import RegionCounts, aupro_of
from ._results import F1Max, ImageMetrics, PixelMetrics


class Curve(NamedTuple):
    """Cumulative counts at each distinct threshold, thresholds descending."""

    thresholds: npt.NDArray[np.float64]
    tps: npt.NDArray[np.int64]  # anomalous scores >= threshold
    fps: npt.NDArray[np.int64]  # normal scores >= threshold
    n_pos: int
    n_neg: int


def curve(hist: Histogram) -> Curve:
    """Return the operating points of a histogram (empty bins dropped)."""
    neg, pos = hist.counts
    keep = (neg + pos) > 0
    tps = np.cumsum(pos[keep][::-1])
    fps = np.cumsum(neg[keep][::-1])
    n_pos = int(tps[-1]) if tps.size else 0
    n_neg = int(fps[-1]) if fps.size else 0
    return Curve(hist.values[keep][::-1], tps, fps, n_pos, n_neg)


def undefined_reason(c: Curve, noun: str, *, needs_normal: bool) -> str | None:
    """Return why a metric is undefined (a class is missing), or None if it is defined.

    Every metric needs anomalous samples; ROC metrics also need normal ones.
    """
    if c.n_pos + c.n_neg == 0:
        return f"no {noun}s"
    if c.n_pos == 0:
        return f"no anomalous {noun}s"
    if needs_normal and c.n_neg == 0:
        return f"no normal {noun}s"
    return None


def _unit(value: float) -> float:
    """Clip rounding excursions (e.g. 1 + 2**-52) back into [0, 1]."""
    return min(1.0, max(0.0, value))


def auroc_of(c: Curve) -> float:
    """ROC AUC by the trapezoidal rule, as ``sklearn.metrics.roc_auc_score``."""
    tpr = np.concatenate(([0.0], c.tps / c.n_pos))
    fpr = np.concatenate(([0.0], c.fps / c.n_neg))
    return _unit(float(trapezoid(tpr, fpr)))


def average_precision_of(c: Curve) -> float:
    """Step-wise AP ``sum_n (R_n - R_{n-1}) P_n``, as scikit-learn's ``average_precision_score``."""
    precision = c.tps / (c.tps + c.fps)
    recall = c.tps / c.n_pos
    return _unit(float(np.sum(np.diff(recall, prepend=0.0) * precision)))


def fpr_at_tpr_of(c: Curve, tpr: float) -> float:
    """FPR at the first (highest-threshold) operating point whose TPR is >= ``tpr``."""
    first = int(np.argmax(c.tps / c.n_pos >= tpr))
    return float(c.fps[first] / c.n_neg)


def f1_max_of(c: Curve) -> F1Max:
    """Best F1 ``2 TP / (2 TP + FP + FN)``; ties go to the highest threshold."""
    f1 = 2.0 * c.tps / (c.tps + c.fps + c.n_pos)
    best = int(np.argmax(f1))
    return F1Max(float(f1[best]), float(c.thresholds[best]))


def pixel_summary(
    hist: Histogram, binning: Binning | None, regions: RegionCounts | None = None
) -> PixelMetrics:
    """All pixel metrics of a histogram, with a reason for each undefined one.

    AUPRO needs the anomalous regions' counts (``regions``).
    """
    c = curve(hist)
    roc = undefined_reason(c, "pixel", needs_normal=True)
    pr = undefined_reason(c, "pixel", needs_normal=False)
    auroc = fpr95 = ap = f1 = None
    if roc is None:
        auroc, fpr95 = auroc_of(c), fpr_at_tpr_of(c, 0.95)
    if pr is None:
        ap, f1 = average_precision_of(c), f1_max_of(c)
    pairs = (("auroc", roc), ("ap", pr), ("fpr95", roc), ("f1_max", pr), ("f1_threshold", pr))
    reasons = {name: reason for name, reason in pairs if reason is not None}
    aupro = None
    if regions is None:
        reasons["aupro"] = "no region counts"
    elif regions.unavailable is not None:
        reasons["aupro"] = regions.unavailable
    elif roc is not None:
        reasons["aupro"] = roc
    else:
        neg, pos = hist.counts
        aupro = aupro_of(
            neg, (neg + pos) > 0, regions.overlap_histogram(len(neg)), regions.n_regions
        )
    return PixelMetrics(
        n_pixels=c.n_pos + c.n_neg,
        n_anomalous_pixels=c.n_pos,
        auroc=auroc,
        ap=ap,
        fpr95=fpr95,
        f1_max=None if f1 is None else f1.f1,
        f1_threshold=None if f1 is None else f1.threshold,
        n_clamped_pixels=hist.n_clamped,
        binning=binning,
        reasons=reasons,
        aupro=aupro,
    )


def image_summary(hist: Histogram) -> ImageMetrics:
    """Image metrics of an (exact) histogram of image scores."""
    c = curve(hist)
    reason = undefined_reason(c, "image", needs_normal=True)
    return ImageMetrics(
        n_images=c.n_pos + c.n_neg,
        n_anomalous=c.n_pos,
        auroc=auroc_of(c) if reason is None else None,
        reasons={} if reason is None else {"auroc": reason},
    )


def curve_points(c: Curve, max_points: int = 256) -> dict[str, list[float]] | None:
    """ROC and precision-recall operating points for plotting, at most ``max_points`` each.

    Points are thinned by keeping evenly spaced operating points (in threshold
    order) plus both ends; None where either class is missing.
    """
    if c.n_pos == 0 or c.n_neg == 0:
        return None
    idx = np.unique(np.linspace(0, len(c.tps) - 1, max(2, max_points)).round().astype(np.int64))
    tps, fps = c.tps[idx].astype(np.float64), c.fps[idx].astype(np.float64)
    precision = tps / np.maximum(tps + fps, 1.0)
    return {
        "fpr": [0.0, *(fps / c.n_neg).round(6).tolist()],
        "tpr": [0.0, *(tps / c.n_pos).round(6).tolist()],
        "recall": [0.0, *(tps / c.n_pos).round(6).tolist()],
        "precision": [1.0, *precision.round(6).tolist()],
    }
