"""Anomaly-detection metrics of the ALLO benchmark, exact and streaming.

Two layers on the same code (paper Section V-A): pure functions for one set of
scores and labels, and accumulators that take one image at a time with memory
independent of the number of images::

    from spacead.metrics import BenchmarkAccumulator
    acc = BenchmarkAccumulator()
    for score_map, mask3, image_score in results:
        acc.update(score_map, mask3 == 2, image_score)
    json.dump(acc.compute().to_dict(), fh)

Metrics: I.AUROC, P.AUROC, P.AP (step-wise, as scikit-learn), P.FPR95 and the
pixel F1-max with its threshold. An undefined metric (one class only) is None
with a reason, never an exception.
"""

from ._accumulator import BenchmarkAccumulator, ImageMetricAccumulator, PixelMetricAccumulator
from ._binning import Binning
from ._functional import auroc, average_precision, f1_max, fpr_at_tpr, pixel_metrics
from ._results import BenchmarkMetrics, F1Max, ImageMetrics, PixelMetrics

__all__ = [
    "BenchmarkAccumulator",
    "BenchmarkMetrics",
    "Binning",
    "F1Max",
    "ImageMetricAccumulator",
    "ImageMetrics",
    "PixelMetricAccumulator",
    "PixelMetrics",
    "auroc",
    "average_precision",
    "f1_max",
    "fpr_at_tpr",
    "pixel_metrics",
]
