"""References for MRAD from the user's own station: render, match to the frame, refine the pose.

:class:`ReferencePipeline` turns a camera frame and its reported pose into the
reference MRAD compares it with: the CAD model rendered at that pose
(:class:`~spacead.render.ReferenceRenderer`), its light scales and exposure fitted
to the frame (:func:`fit_photometric`), the pose optionally refined by
render-and-compare (:func:`refine_pose`). :class:`LiveDetector` runs it and MRAD
on a stream of frames with everything loaded once.
"""

from spacead._tone import TONE_CURVES, decode, encode

from ._dataset import (
    RenderedReferences,
    RenderError,
    RenderSummary,
    reference_path,
    render_references,
)
from ._live import LiveDetector, LiveResult, reference_methods
from ._match import (
    PhotometricFit,
    fit_mask,
    fit_photometric,
    fit_pixels,
    nominal_fit,
    to_uint8,
)
from ._pipeline import ReferenceParams, ReferencePipeline, ReferenceResult, painted
from ._refine import PoseCorrection, refine_pose

__all__ = [
    "TONE_CURVES",
    "LiveDetector",
    "LiveResult",
    "PhotometricFit",
    "PoseCorrection",
    "ReferenceParams",
    "ReferencePipeline",
    "ReferenceResult",
    "RenderError",
    "RenderSummary",
    "RenderedReferences",
    "decode",
    "encode",
    "fit_mask",
    "fit_photometric",
    "fit_pixels",
    "nominal_fit",
    "painted",
    "reference_methods",
    "reference_path",
    "refine_pose",
    "render_references",
    "to_uint8",
]
