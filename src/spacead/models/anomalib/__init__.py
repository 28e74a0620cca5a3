"""Any anomalib model that runs offline, as spacead's detector family ``anomalib:<model>``.

anomalib's model names (``padim``, ``patchcore``, ``efficient_ad``, ...) select the
model; its options come from ``--param``. Needs the ``anomalib`` extra; importing
this package does not import anomalib (it loads on first use), and nothing is
downloaded: models that need pretrained weights the machine lacks are refused with
:class:`OfflineModelError`.
"""

from ..._extras import OfflineModelError
from ._detector import UNAVAILABLE_OFFLINE, AnomalibDetector, AnomalibOptions, train_anomalib

__all__ = [
    "UNAVAILABLE_OFFLINE",
    "AnomalibDetector",
    "AnomalibOptions",
    "OfflineModelError",
    "train_anomalib",
]
