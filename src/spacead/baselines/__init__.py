"""Moved to :mod:`spacead.models` (one folder per learned model).

Every name still imports from here, with a ``DeprecationWarning``, for one release.
"""

from .._moved import forwarder

_MOVED = {
    "InpaintDetector": "spacead.models.inpaint",
    "InpaintParams": "spacead.models.inpaint",
    "train_inpaint_detector": "spacead.models.inpaint",
    "UNAVAILABLE_OFFLINE": "spacead.models.anomalib",
    "AnomalibDetector": "spacead.models.anomalib",
    "AnomalibOptions": "spacead.models.anomalib",
    "OfflineModelError": "spacead.models.anomalib",
    "train_anomalib": "spacead.models.anomalib",
    "TrainingRecord": "spacead.detect",
}
__all__: list[str] = []
__getattr__ = forwarder(__name__, _MOVED)
