"""Learned detectors, trained on a dataset split and scored with spacead's own metrics.

Two live side by side behind the :class:`spacead.detect.LearnedDetector` interface
(registered as ``inpaint`` and ``anomalib:<model>``):

- :class:`InpaintDetector`: the image-completion network on camera images (the
  ``inpaint`` extra: torch);
- :class:`AnomalibDetector`: any anomalib model that runs offline (the ``anomalib``
  extra).

Importing this package imports neither torch nor anomalib.
"""

from typing import Any

from .._extras import OfflineModelError
from ._anomalib import (
    UNAVAILABLE_OFFLINE,
    AnomalibDetector,
    AnomalibOptions,
    train_anomalib,
)
from ._training import TrainingRecord

_TORCH = ("InpaintDetector", "InpaintParams", "train_inpaint_detector")

__all__ = [
    "UNAVAILABLE_OFFLINE",
    "AnomalibDetector",
    "AnomalibOptions",
    "InpaintDetector",
    "InpaintParams",
    "OfflineModelError",
    "TrainingRecord",
    "train_anomalib",
    "train_inpaint_detector",
]


def __getattr__(name: str) -> Any:
    if name in _TORCH:  # imported on first use: it imports torch
        from . import _inpaint

        return getattr(_inpaint, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
