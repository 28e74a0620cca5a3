"""Learned detectors, one folder per model, registered with the detector registry from here.

- :mod:`spacead.models.inpaint`: the image-completion network (Haselmann et al.,
  2018): the network, its training and presets, and the per-image detector
  ``inpaint`` (the ``inpaint`` extra: torch). The survey of orbital frames
  (:mod:`spacead.survey`) uses the same network;
- :mod:`spacead.models.anomalib`: any anomalib model that runs offline, as the
  detector family ``anomalib:<model>`` (the ``anomalib`` extra).

Both follow :class:`spacead.detect.LearnedDetector`: trained on the normal images
of a dataset split, scored with spacead's own metrics. Importing this package
imports neither torch nor anomalib; :func:`register_detectors` runs through the
``spacead.detectors`` entry point on the registry's first lookup, and on import.
"""

from ..detect import DetectorSpec, register_detector

__all__ = ["register_detectors"]


def register_detectors() -> None:
    """Add the learned detectors to :mod:`spacead.detect`'s registry (idempotent).

    Their code is named as strings, imported when a detector is first built.
    """
    register_detector(
        DetectorSpec(
            "inpaint",
            "image-completion CNN trained on the normal training images",
            "spacead.models.inpaint._detector:InpaintParams",
            needs_reference=False,
            fit="spacead.models.inpaint._detector:train_inpaint_detector",
            pixel_scores="symlog",
            extra="inpaint",
        )
    )
    register_detector(
        DetectorSpec(
            "anomalib",
            "an anomalib model trained on the normal training images",
            "spacead.models.anomalib._detector:AnomalibOptions",
            needs_reference=False,
            fit="spacead.models.anomalib._detector:train_anomalib",
            pixel_scores="symlog",
            extra="anomalib",
            family=True,
        )
    )


register_detectors()
