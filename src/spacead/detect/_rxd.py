"""The global Reed-Xiaoli detector (RXD) and the probabilistic anomaly detector (PAD)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import numpy.typing as npt

from .._threads import computing
from .._validate import (
    ChannelOrder,
    ImageFormat,
    as_rgb,
    check_same_shape,
    image_formats,
    read_image_array,
)
from ._kernels import thresholded_score
from ._params import PADParams, RXDParams
from ._stats import (
    CellStats,
    cell_stats,
    dual_coefficients,
    grid_edges,
    rx_coefficients,
    stats_stride,
)
from ._types import Detection

Image = npt.NDArray[np.uint8] | npt.NDArray[np.float32]

# Pixels darker than this (8-bit scale) carry no exposure information; brighter than
# _SATURATED they may be clipped. Both are excluded from the gain estimate.
_DARK, _SATURATED = 16.0, 250.0
_GAIN_STRIDE = 8
_MIN_GAIN_PIXELS = 100


def prepare_pair(
    query: Any,
    reference: Any,
    formats: tuple[ImageFormat, ImageFormat] | None = None,
    *,
    check_swap: bool = True,
) -> tuple[Image, Image]:
    """Validate and convert a query/reference pair to H×W×3 (uint8 or float32).

    Warns where the pair looks inconsistent: one image read as [0, 1] floats
    and the other as floats on the 8-bit scale, or (with ``check_swap``, when
    no channel order was given) a query whose colours match the reference's
    only with red and blue swapped (an OpenCV BGR frame against an RGB render).
    """
    fq, fr = formats or (ImageFormat(), ImageFormat())
    q, q_scale = read_image_array(query, "query", fq)
    r, r_scale = read_image_array(reference, "reference", fr)
    check_same_shape(q, r, tuple(getattr(reference, "shape", np.shape(r))))
    if {q_scale, r_scale} == {"unit", "8-bit"}:  # [0, 1] floats beside 8-bit-scale floats
        unit, other = ("query", "reference") if q_scale == "unit" else ("reference", "query")
        warnings.warn(
            f"{unit} holds floats in [0, 1] (read as 0-255 x 1/255) but {other} holds floats "
            "beyond 1 (read on the 8-bit scale); convert one of them if that is wrong",
            UserWarning,
            stacklevel=3,
        )
    if check_swap and fq.channel_order == fr.channel_order and _looks_swapped(q, r):
        warnings.warn(
            "the query's colours match the reference's with red and blue swapped: a BGR frame "
            "(cv2.imread, cv2.VideoCapture) against an RGB reference? pass "
            "channel_order=('bgr', 'rgb'), or channel_order='rgb' to say they are right",
            UserWarning,
            stacklevel=3,
        )
    return q, r


_SWAP_STRIDE = 16  # ~8,000 pixels at 1080p: plenty for a mean colour, ~0.1 ms


def _looks_swapped(query: Image, reference: Image) -> bool:
    """Whether the query's mean colour matches the reference's far better with R and B swapped.

    Compares chromaticities (mean colour / its sum, so exposure cancels) over
    every 16th row and column; colourless scenes never trigger it.
    """
    q = query[::_SWAP_STRIDE, ::_SWAP_STRIDE].mean(axis=(0, 1))
    r = reference[::_SWAP_STRIDE, ::_SWAP_STRIDE].mean(axis=(0, 1))
    if q.sum() <= 0 or r.sum() <= 0:
        return False
    cq, cr = q / q.sum(), r / r.sum()
    same = float(np.abs(cq - cr).sum())
    swapped = float(np.abs(cq[::-1] - cr).sum())
    return same > 0.15 and swapped < 0.3 * same


def match_gain(
    query: Image, reference: Image, *, reference_step: int = 1
) -> npt.NDArray[np.float64]:
    """Per-channel exposure gain that maps the reference onto the query.

    The median of ``query / reference`` over lit, unsaturated pixels (every 8th
    row and column): robust to anomalies covering less than half of the lit area.
    Channels with fewer than 100 usable pixels keep a gain of 1. A reference
    that holds every ``reference_step``-th pixel of the query's grid (MRAD's
    half-resolution warp) is sampled accordingly.
    """
    q = query[::_GAIN_STRIDE, ::_GAIN_STRIDE].reshape(-1, 3).astype(np.float32)
    step = _GAIN_STRIDE // reference_step
    r = reference[::step, ::step].reshape(-1, 3).astype(np.float32)
    gain = np.ones(3)
    for c in range(3):
        ok = (q[:, c] > _DARK) & (r[:, c] > _DARK) & (q[:, c] < _SATURATED) & (r[:, c] < _SATURATED)
        if np.count_nonzero(ok) >= _MIN_GAIN_PIXELS:
            gain[c] = float(np.median(q[ok, c] / r[ok, c]))
    return np.clip(gain, 0.2, 5.0)


def _thresholded(
    image: Image,
    rows: npt.NDArray[np.int64],
    cols: npt.NDArray[np.int64],
    coef: npt.NDArray[np.float64],
    params: RXDParams,
    method: str,
) -> Detection:
    """Score, clip at zero and threshold in one pass (:func:`thresholded_score`)."""
    score = np.empty(image.shape[:2], dtype=np.float32)
    mask = np.empty(image.shape[:2], dtype=bool)
    count = float(thresholded_score(image, rows, cols, coef, params.score_threshold, score, mask))
    return Detection(
        score_map=score,
        mask=mask,
        image_score=count,
        is_anomalous=count > params.anomaly_threshold,
        method=method,
        params=params.to_dict(),
        threshold=float(params.score_threshold),
    )


def rxd(
    query: Any,
    params: RXDParams | None = None,
    *,
    value_range: tuple[float, float] | None = None,
    bit_depth: int | None = None,
    channel_order: ChannelOrder = "rgb",
) -> Detection:
    r"""Global Reed-Xiaoli detector: Mahalanobis distance to the query's own statistics.

    .. math:: \mathrm{RXD}(x) = (x - \mu_Q)^\top \Sigma_Q^{-1} (x - \mu_Q)

    Parameters
    ----------
    query : array_like or torch.Tensor, shape (H, W), (H, W, C) or (C, H, W)
        Image to score: grayscale, RGB or RGBA; uint8, uint16 (over [0, 65535])
        or float (in [0, 1], else on the 8-bit scale); see
        :func:`spacead.detect.as_rgb`.
    params : RXDParams, optional
        Threshold and regularisation; defaults to ``RXDParams()``.
    value_range, bit_depth, channel_order
        How to read the image's numbers when the defaults above do not fit
        (:class:`spacead.detect.ImageFormat`): ``value_range=(black, white)``,
        ``bit_depth=12`` for 12-bit data in uint16, ``channel_order="bgr"`` for
        OpenCV frames.

    Returns
    -------
    Detection
        ``score_map`` is the squared Mahalanobis distance (float32), ``mask``
        the pixels above the χ²(3) quantile of ``params.false_alarm_rate``.

    References
    ----------
    .. [1] I. S. Reed and X. Yu, "Adaptive multiple-band CFAR detection of an
       optical pattern with unknown spectral distribution," IEEE Trans. ASSP,
       38(10), 1990. :doi:`10.1109/29.60107`

    Examples
    --------
    >>> import numpy as np
    >>> image = np.full((32, 32, 3), 100, dtype=np.uint8)
    >>> image[10:14, 10:14] = (250, 20, 20)
    >>> det = rxd(image, RXDParams(anomaly_threshold=0))
    >>> det.anomalous_pixels, det.is_anomalous
    (16, True)
    """
    params = params or RXDParams()
    q = as_rgb(query, "query", ImageFormat(value_range, bit_depth, channel_order))
    rows, cols = grid_edges(q.shape[0], 1), grid_edges(q.shape[1], 1)
    with computing():
        stats = cell_stats(q, rows, cols, cov_floor=params.cov_floor)
        return _thresholded(q, rows, cols, rx_coefficients(stats), params, "rxd")


def pad(
    query: Any,
    reference: Any,
    params: PADParams | None = None,
    *,
    value_range: tuple[float, float] | None = None,
    bit_depth: int | None = None,
    channel_order: ChannelOrder | tuple[ChannelOrder, ChannelOrder] | None = None,
) -> Detection:
    r"""Probabilistic anomaly detector: background from the reference, target from the query.

    .. math:: s(x) = \mathrm{RXD}(x; \mu_R, \Sigma_R) - \mathrm{RXD}(x; \mu_Q, \Sigma_Q)

    Whole-image statistics (no grid), no noise removal, no region growing.
    Inputs and ``value_range``, ``bit_depth``, ``channel_order`` as :func:`mrad`.

    References
    ----------
    .. [1] C. Gao et al., "A probabilistic anomaly detector for hyperspectral
       imagery," 2014 (the PAD baseline of the ALLO paper, Table III).
    """
    params = params or PADParams()
    formats = image_formats(value_range, bit_depth, channel_order)
    q, r = prepare_pair(query, reference, formats, check_swap=channel_order is None)
    rows, cols = grid_edges(q.shape[0], 1), grid_edges(q.shape[1], 1)
    stride = stats_stride(q.shape[0] * q.shape[1])
    with computing():
        coef = dual_score_coefficients(
            q, r, rows, cols, cov_floor=params.cov_floor, gain=params.match_gain, stride=stride
        )
        return _thresholded(q, rows, cols, coef, params, "pad")


def dual_score_coefficients(
    query: Image,
    reference: Image,
    rows: npt.NDArray[np.int64],
    cols: npt.NDArray[np.int64],
    *,
    cov_floor: float,
    gain: bool,
    stride: int = 1,
    reference_step: int = 1,
) -> npt.NDArray[np.float64]:
    """PAD/MRAD score coefficients per grid cell (background: the reference; target: the query).

    With ``gain`` the reference statistics are first rescaled by
    :func:`match_gain` (before the ``cov_floor`` regularisation is added).
    Statistics come from every ``stride``-th row and column; a reference
    already reduced to that grid (``reference_step == stride``) is read whole.
    """
    if reference_step == 1:
        background = cell_stats(reference, rows, cols, cov_floor=0.0, stride=stride)
    else:  # every pixel of the reduced reference is a sample; its cells' edges are rounded up
        step_rows, step_cols = (
            (rows + reference_step - 1) // reference_step,
            (cols + reference_step - 1) // reference_step,
        )
        background = cell_stats(
            reference, step_rows, step_cols, cov_floor=0.0, stride=stride // reference_step
        )
    if gain:
        background = background.scaled(match_gain(query, reference, reference_step=reference_step))
    background = CellStats(background.mean, background.cov + np.eye(3) * cov_floor)
    target = cell_stats(query, rows, cols, cov_floor=cov_floor, stride=stride)
    return dual_coefficients(background, target)
