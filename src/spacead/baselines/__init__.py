"""Learned baselines: anomalib models trained and scored with spacead's own metrics.

Needs the ``anomalib`` extra (``pip install -e '.[anomalib]'``); importing this
package does not import anomalib or torch.
"""

from ._anomalib import (
    UNAVAILABLE_OFFLINE,
    AnomalibDetector,
    AnomalibOptions,
    OfflineModelError,
    train_anomalib,
)

__all__ = [
    "UNAVAILABLE_OFFLINE",
    "AnomalibDetector",
    "AnomalibOptions",
    "OfflineModelError",
    "train_anomalib",
]
