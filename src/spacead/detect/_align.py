"""Image-space alignment of a reference file to its query (OpenCV's ECC), before MRAD's step 2.

When the reference is only an image (no CAD model: the ALLO release, or a
render made elsewhere), its pose error cannot be refined in 3-D; an affine or
homography warp found by maximising the enhanced correlation coefficient [1]_
between the two images removes most of the misalignment of a small pose error
(a pure rotation of the camera is exactly a homography). The warp is found on
images shrunk to at most 240 pixels wide (coarse structure drives it; ~5 ms),
then scaled to the full size; a warp that does not converge, does not raise
the correlation, or moves the image implausibly far, is not applied.

References
----------
.. [1] G. D. Evangelidis and E. Z. Psarakis, "Parametric Image Alignment Using
   Enhanced Correlation Coefficient Maximization", IEEE TPAMI 30(10), 2008.
   https://doi.org/10.1109/TPAMI.2008.113
"""

from __future__ import annotations

from typing import TypeVar

import cv2
import numpy as np
import numpy.typing as npt

from ._params import ALIGN_MODELS
from ._params import AlignMode as AlignModel

G = TypeVar("G", bound=np.generic)

_WIDTH = 240  # alignment resolution (pixels across)
_MAX_SHIFT = 0.05  # largest plausible shift, as a fraction of the image width
_MAX_DISTORTION = 0.05  # largest plausible deviation of the linear part from the identity
_CRITERIA = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 60, 1e-5)


def _gray(image: npt.NDArray[np.generic], size: tuple[int, int]) -> npt.NDArray[np.float32]:
    """The image as grey levels (OpenCV's weights), shrunk to ``size`` by area averaging.

    Converting first and shrinking one channel is the cheap order (~2 ms at 1080p).
    """
    gray = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    if (gray.shape[1], gray.shape[0]) != size:
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    out: npt.NDArray[np.float32] = gray.astype(np.float32)
    return out


def find_alignment(
    query: npt.NDArray[np.generic], reference: npt.NDArray[np.generic], model: AlignModel = "affine"
) -> npt.NDArray[np.float64] | None:
    """The 3 × 3 warp taking query pixel coordinates to reference ones, or ``None``.

    ``None`` when ECC does not converge, does not raise the correlation, or the
    warp is implausible (a shift of more than 5 % of the width, or a linear
    part more than 5 % off the identity).
    """
    if model not in ALIGN_MODELS:
        raise ValueError(f"align must be one of {', '.join(ALIGN_MODELS)}, got {model!r}")
    if model == "none":
        return None
    h, w = query.shape[:2]
    scale = min(1.0, _WIDTH / w)
    size = (max(16, round(w * scale)), max(16, round(h * scale)))
    q, r = _gray(query, size), _gray(reference, size)
    motion = cv2.MOTION_AFFINE if model == "affine" else cv2.MOTION_HOMOGRAPHY
    warp = np.eye(2 if model == "affine" else 3, 3, dtype=np.float32)
    start = cv2.computeECC(q, r)  # correlation before moving
    try:
        cc, warp = cv2.findTransformECC(q, r, warp, motion, _CRITERIA, None, 5)
    except cv2.error:  # no convergence (e.g. a frame without structure)
        return None
    if not cc > start:
        return None
    full = np.eye(3)
    full[: warp.shape[0]] = warp
    s = np.diag([size[0] / w, size[1] / h, 1.0])  # full -> small pixel coordinates
    full = np.linalg.inv(s) @ full @ s
    if not np.all(np.isfinite(full)):
        return None
    shift = np.hypot(full[0, 2], full[1, 2])
    if shift > _MAX_SHIFT * w or np.abs(full[:2, :2] - np.eye(2)).max() > _MAX_DISTORTION:
        return None
    return full


def warp_reference(
    reference: npt.NDArray[G],
    warp: npt.NDArray[np.float64],
    shape: tuple[int, int],
    model: AlignModel = "affine",
    step: int = 1,
) -> npt.NDArray[G]:
    """The reference warped by ``warp`` (from :func:`find_alignment`) onto a query of ``shape``.

    With ``step > 1`` only every ``step``-th row and column of the warped image
    is made (shape ``ceil(H / step) × ceil(W / step)``), at ``1 / step²`` of
    the cost. For uint8 references these are the same pixels as slicing the
    full warp: OpenCV maps output pixels through the matrix in fixed point,
    and scaling the matrix by ``step`` (exact in floating point) gives the same
    coordinates. For float32 references OpenCV's interpolation can differ by
    about 1e-5 grey levels at a few pixels.
    """
    h, w = shape
    scale = np.diag([float(step), float(step), 1.0])
    size = (-(-w // step), -(-h // step))
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    src = np.ascontiguousarray(reference)
    if model == "affine":
        out = cv2.warpAffine(src, (warp @ scale)[:2], size, flags=flags)
    else:
        out = cv2.warpPerspective(src, warp @ scale, size, flags=flags)
    warped: npt.NDArray[G] = out.astype(reference.dtype, copy=False)
    return warped


def align_reference(
    query: npt.NDArray[np.generic], reference: npt.NDArray[G], model: AlignModel = "affine"
) -> npt.NDArray[G]:
    """The reference warped onto the query (unchanged when no alignment is found).

    Parameters
    ----------
    query, reference : ndarray, shape (H, W, 3)
        Frame and reference image, same size (as the detectors accept them).
    model : {"affine", "homography", "none"}
        The warp's model.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref = np.zeros((120, 160, 3), np.uint8)
    >>> ref[40:80, 50:110] = 200
    >>> ref = cv2.GaussianBlur(ref, (0, 0), 2)
    >>> query = np.roll(ref, 3, axis=1)                     # the camera was 3 px off
    >>> aligned = align_reference(query, ref)
    >>> int(np.abs(aligned.astype(int) - query).max()) <= 2
    True
    """
    warp = find_alignment(query, reference, model)
    if warp is None:
        return reference
    return warp_reference(reference, warp, query.shape[:2], model)
