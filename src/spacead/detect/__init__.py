"""Statistical anomaly detectors: RXD, PAD and MRAD.

All detectors are pure functions returning a :class:`Detection`::

    from spacead.detect import mrad, MRADParams
    det = mrad(query, reference, MRADParams(grid=4))

For a stream of frames, :class:`MRADDetector` keeps its working buffers
between calls::

    detector = MRADDetector(MRADParams())
    for query, reference in feed:
        det = detector(query, reference)

Every detector, the learned ones of :mod:`spacead.models` included, is described
by a :class:`DetectorSpec` in one registry (:func:`detector_spec`): what runs a
detector by name reads its properties there.
"""

from .._moved import forwarder
from .._validate import ImageFormat, as_rgb
from ._align import align_reference, find_alignment
from ._mrad import MRADDetector, mrad
from ._overlay import overlay, score_image
from ._params import MRADParams, PADParams, Params, RXDParams
from ._registry import (
    Detector,
    DetectorParams,
    DetectorSpec,
    LearnedDetector,
    detector_names,
    detector_spec,
    detector_specs,
    fit_detector,
    make_detector,
    params_class,
    register_detector,
    run_detector,
    stream_methods,
)
from ._rxd import pad, rxd
from ._training import TrainingRecord
from ._types import Detection

__all__ = [
    "Detection",
    "Detector",
    "DetectorParams",
    "DetectorSpec",
    "ImageFormat",
    "LearnedDetector",
    "MRADDetector",
    "MRADParams",
    "PADParams",
    "Params",
    "RXDParams",
    "TrainingRecord",
    "align_reference",
    "as_rgb",
    "detector_names",
    "detector_spec",
    "detector_specs",
    "find_alignment",
    "fit_detector",
    "make_detector",
    "mrad",
    "overlay",
    "pad",
    "params_class",
    "register_detector",
    "run_detector",
    "rxd",
    "score_image",
    "stream_methods",
]

# METHODS listed the built-in detectors only; stream_methods() and detector_names() see every
# registered one. Forwarded for one release.
__getattr__ = forwarder(__name__, {"METHODS": "spacead.detect._registry"})
