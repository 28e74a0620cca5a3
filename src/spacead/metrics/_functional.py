"""Pure metric functions over one set of scores and labels (any matching shapes).

Without ``binning`` the scores are grouped by distinct value, which gives exactly
scikit-learn's operating points for any input; with a :class:`Binning` they are
counted in its bins, as :class:`PixelMetricAccumulator` does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ._binning import Binning, Histogram, binned_histogram, exact_histogram
from ._curve import (
    auroc_of,
    average_precision_of,
    curve,
    f1_max_of,
    fpr_at_tpr_of,
    pixel_summary,
    undefined_reason,
)
from ._pro import RegionCounts
from ._results import F1Max, PixelMetrics
from ._validate import as_labels, as_scores, check_finite, check_fraction_open, flat_for_kernel


def _histogram(
    scores: Any, labels: Any, binning: Binning | None, names: tuple[str, str]
) -> Histogram:
    arr = as_scores(scores, names[0])
    lab = as_labels(labels, names[1], arr.shape, names[0])
    return _counted(arr, lab, binning, names[0])


def _counted(
    arr: npt.NDArray[Any], lab: npt.NDArray[np.bool_], binning: Binning | None, name: str
) -> Histogram:
    """The histogram of validated scores and labels (exact, or in ``binning``)."""
    if binning is None:
        check_finite(arr, name)
        return exact_histogram(arr, lab)
    flat, flat_labels = flat_for_kernel(arr, lab)
    return binned_histogram(flat, flat_labels, binning, name)


def auroc(scores: Any, labels: Any, *, binning: Binning | None = None) -> float | None:
    """Area under the ROC curve (I.AUROC or P.AUROC).

    Parameters
    ----------
    scores : array_like of int or float, any shape
        Scores, higher = more anomalous; NaN and inf are rejected.
    labels : array_like of bool, same shape as ``scores``
        True for anomalous samples.
    binning : Binning, optional
        Count scores in these bins (fast, streaming-consistent); default: exact.

    Returns
    -------
    float or None
        Equal to ``sklearn.metrics.roc_auc_score(labels.ravel(), scores.ravel())``;
        None when only one class (or nothing) is present.

    Raises
    ------
    TypeError
        If ``scores`` is not integer or floating point, or ``labels`` is not boolean.
    ValueError
        If the shapes differ, or a score is NaN or inf.

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.array([0.1, 0.4, 0.35, 0.8])
    >>> labels = np.array([False, False, True, True])
    >>> auroc(scores, labels)
    0.75
    >>> auroc(scores, np.zeros(4, dtype=bool)) is None
    True
    """
    c = curve(_histogram(scores, labels, binning, ("scores", "labels")))
    return None if undefined_reason(c, "sample", needs_normal=True) else auroc_of(c)


def average_precision(scores: Any, labels: Any, *, binning: Binning | None = None) -> float | None:
    r"""Step-wise average precision (P.AP), as ``sklearn.metrics.average_precision_score``.

    .. math:: \mathrm{AP} = \sum_n (R_n - R_{n-1}) P_n

    over the distinct thresholds in descending order (no interpolation, not the
    trapezoidal area under the precision-recall curve).

    Parameters
    ----------
    scores, labels, binning
        As in :func:`auroc`.

    Returns
    -------
    float or None
        None when there is no anomalous sample.

    Examples
    --------
    >>> import numpy as np
    >>> round(average_precision(np.array([0.1, 0.4, 0.35, 0.8]),
    ...                         np.array([False, False, True, True])), 6)
    0.833333
    """
    c = curve(_histogram(scores, labels, binning, ("scores", "labels")))
    return None if undefined_reason(c, "sample", needs_normal=False) else average_precision_of(c)


def fpr_at_tpr(
    scores: Any, labels: Any, *, tpr: float = 0.95, binning: Binning | None = None
) -> float | None:
    """False-positive rate at the highest threshold whose true-positive rate is >= ``tpr``.

    With the operating points of ``sklearn.metrics.roc_curve(labels, scores,
    drop_intermediate=False)`` (one per distinct score, thresholds descending), the
    result is the FPR of the first point whose TPR is >= ``tpr``: the lowest
    false-positive rate at which at least ``tpr`` of the anomalous samples are
    found. ``tpr=0.95`` gives P.FPR95.

    Parameters
    ----------
    scores, labels, binning
        As in :func:`auroc`.
    tpr : float
        Target true-positive rate, in (0, 1].

    Returns
    -------
    float or None
        None when only one class (or nothing) is present.

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.array([0.1, 0.4, 0.35, 0.8])
    >>> labels = np.array([False, False, True, True])
    >>> fpr_at_tpr(scores, labels)
    0.5
    >>> fpr_at_tpr(scores, labels, tpr=0.5)
    0.0
    """
    target = check_fraction_open(tpr, "tpr")
    c = curve(_histogram(scores, labels, binning, ("scores", "labels")))
    return None if undefined_reason(c, "sample", needs_normal=True) else fpr_at_tpr_of(c, target)


def f1_max(scores: Any, labels: Any, *, binning: Binning | None = None) -> F1Max | None:
    """Best F1 score over all thresholds, and the threshold reaching it.

    F1 = 2 TP / (2 TP + FP + FN) at each distinct threshold ``t`` (``score >= t``
    predicted anomalous); of equal maxima the highest threshold is returned. With
    ``binning`` the threshold is the centre of the best bin.

    Parameters
    ----------
    scores, labels, binning
        As in :func:`auroc`.

    Returns
    -------
    F1Max or None
        ``(f1, threshold)``; None when there is no anomalous sample.

    Examples
    --------
    >>> import numpy as np
    >>> f1_max(np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, False, True, True]))
    F1Max(f1=0.8, threshold=0.35)
    """
    c = curve(_histogram(scores, labels, binning, ("scores", "labels")))
    return None if undefined_reason(c, "sample", needs_normal=False) else f1_max_of(c)


def pixel_metrics(score_maps: Any, masks: Any, *, binning: Binning | None = None) -> PixelMetrics:
    """All pixel metrics of a set of score maps, pooled (one pass over the data).

    Parameters
    ----------
    score_maps : array_like of int or float, any shape, e.g. (N, H, W)
        Pixel scores, higher = more anomalous.
    masks : array_like of bool, same shape as ``score_maps``
        True for anomalous pixels.
    binning : Binning, optional
        As in :func:`auroc`.

    Returns
    -------
    PixelMetrics
        Undefined metrics are None, with a reason in ``reasons``.

    Examples
    --------
    >>> import numpy as np
    >>> maps = np.array([[[0, 10], [200, 30]]], dtype=np.uint8)
    >>> masks = np.array([[[False, False], [True, False]]])
    >>> m = pixel_metrics(maps, masks)
    >>> m.auroc, m.ap, m.fpr95, m.f1_max, m.f1_threshold
    (1.0, 1.0, 0.0, 1.0, 200.0)
    >>> pixel_metrics(maps, np.zeros_like(masks)).to_dict()["reasons"]["pixel_ap"]
    'no anomalous pixels'
    """
    arr = as_scores(score_maps, "score_maps")
    lab = as_labels(masks, "masks", arr.shape, "score_maps")
    hist = _counted(arr, lab, binning, "score_maps")
    regions = RegionCounts()
    if lab.any():
        n_bins = hist.counts.shape[1]
        if binning is None:  # one bin per distinct score: its index among the sorted values
            regions.update(arr, lab, lambda s: np.searchsorted(hist.values, s), n_bins)
        else:
            regions.update(arr, lab, binning.bin_index, n_bins)
    return pixel_summary(hist, binning, regions)
