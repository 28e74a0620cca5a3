"""MRAD: model-reference anomaly detection (ALLO paper, Section IV, Algorithm 1)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from .._threads import computing
from .._validate import ChannelOrder, image_formats
from ._align import find_alignment, warp_reference
from ._kernels import cell_counts, ranked_scores, row_spans, scale_threshold, scaled_score
from ._meanshift import mean_shift_modes, snap_to_support
from ._params import MRADParams
from ._postprocess import remove_noise, scale_factor
from ._region import grow_regions
from ._rxd import dual_score_coefficients, prepare_pair
from ._stats import evaluate_score, grid_edges, stats_stride
from ._types import Detection

Box = tuple[int, int, int, int]  # y0, y1, x0, x1


def mrad(
    query: Any,
    reference: Any,
    params: MRADParams | None = None,
    *,
    value_range: tuple[float, float] | None = None,
    bit_depth: int | None = None,
    channel_order: ChannelOrder | tuple[ChannelOrder, ChannelOrder] | None = None,
) -> Detection:
    r"""Detect anomalies in a query image against a reference rendered at the same pose.

    0. Warp the reference onto the query (``align``, ECC; not in the paper).
    1. Split query and reference into a ``grid × grid`` grid.
    2. Per cell, :math:`s(x) = \mathrm{RXD}(x;\mu_0,\Sigma_0) - \mathrm{RXD}(x;\mu_1,\Sigma_1)`
       with background statistics from the reference cell and target statistics
       from the query cell (covariances regularised by ``cov_floor``).
    3. Scale to [0, 255] (``scale``), zero scores below ``min_score`` and open
       the map morphologically (``opening``, not in the paper).
    4. Cells where more than ``full_cell_fraction`` of scores exceed ``min_score``
       are anomalous whole.
    5. Zero cells whose local score standard deviation is uniform (noise removal).
    6. Gaussian blur.
    7. Mean-shift modes of the blurred map are the seeds.
    8. Region growing within ``tolerance`` over a ``footprint`` square, then
       borders refined with the pre-blur scores (``refine``, not in the paper).
    9. The image is anomalous when more than ``anomaly_threshold`` pixels are.

    Parameters
    ----------
    query, reference : array_like or torch.Tensor, shape (H, W), (H, W, C) or (C, H, W)
        Camera frame and the CAD render of the same pose: grayscale, RGB or
        RGBA; uint8, uint16 (over [0, 65535]) or float (in [0, 1], else on the
        8-bit scale); channels last or, as torch holds images, first. See
        :func:`spacead.detect.as_rgb`. A pair that looks inconsistent (one
        image in [0, 1] and the other not, or red and blue swapped between
        them) gets a warning.
    params : MRADParams, optional
        Defaults to ``MRADParams()``.
    value_range : (float, float), optional
        The values meaning black and white, for both images (e.g. ``(0, 4095)``).
    bit_depth : int, optional
        Significant bits of integer images, e.g. 12 for 12-bit data in uint16.
    channel_order : {"rgb", "bgr"} or (query's, reference's), optional
        ``"bgr"`` for frames from OpenCV (``cv2.imread``, ``cv2.VideoCapture``);
        ``("bgr", "rgb")`` for an OpenCV frame against an RGB reference.
        Default RGB for both, with a warning if red and blue look swapped;
        given explicitly, no such check.

    Returns
    -------
    Detection
        ``score_map`` ranks pixels for the pixel metrics (see
        :func:`spacead.detect._kernels.ranked_scores`): detected pixels first, then retained scores,
        then the rest by their sub-threshold score; values on a 1/256 grid in [0, 255];
        ``image_score`` is the anomalous-pixel count.

    Raises
    ------
    ValueError
        If the images differ in size, hold NaN/inf, or are too small for the grid.

    References
    ----------
    .. [1] ALLO / MRAD: "A Photorealistic Dataset and Vision-Based Algorithm for
       Anomaly Detection During Proximity Operations in Lunar Orbit", IEEE RA-L,
       presented at ICRA 2026.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.normal(120, 2, (120, 160, 3)).clip(0, 255).astype(np.uint8)
    >>> query = reference.copy()
    >>> query[40:60, 50:80] = (240, 200, 40)   # a gold foil blanket drifting by
    >>> det = mrad(query, reference)
    >>> det.is_anomalous, det.anomalous_pixels
    (True, 600)
    """
    detector = MRADDetector(
        params, value_range=value_range, bit_depth=bit_depth, channel_order=channel_order
    )
    return detector(query, reference)


class MRADDetector:
    """MRAD for a stream of frames: the same detector, its buffers kept between frames.

    :func:`mrad` makes one per call; a live feed or a dataset loop should make
    one and call it on every frame. Its full-size working maps are allocated
    for the first frame's size and reused while the size stays (a new size
    reallocates them); only the two outputs, ``score_map`` and ``mask``, are
    new arrays on every call, so a returned :class:`Detection` stays valid.
    Its compiled kernels load on the first call, or on :meth:`warm_up`. Each
    call computes on :func:`spacead.compute_threads` threads. One detector
    object is not meant to be called from two threads at once (each thread
    should have its own).

    Parameters
    ----------
    params : MRADParams, optional
        Defaults to ``MRADParams()``.
    value_range, bit_depth, channel_order
        How to read the frames' numbers, as :func:`mrad`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.normal(120, 2, (120, 160, 3)).clip(0, 255).astype(np.uint8)
    >>> detector = MRADDetector()
    >>> for k in range(3):                      # a stream of frames
    ...     query = reference.copy()
    ...     query[40:60, 50 + 10 * k : 80 + 10 * k] = (240, 200, 40)
    ...     detector(query, reference).anomalous_pixels
    600
    600
    600
    """

    def __init__(
        self,
        params: MRADParams | None = None,
        *,
        value_range: tuple[float, float] | None = None,
        bit_depth: int | None = None,
        channel_order: ChannelOrder | tuple[ChannelOrder, ChannelOrder] | None = None,
    ) -> None:
        self.params = params or MRADParams()
        self.formats = image_formats(value_range, bit_depth, channel_order)
        self._check_swap = channel_order is None  # given explicitly: trusted
        self._shape: tuple[int, int] | None = None
        self._maps: dict[str, npt.NDArray[Any]] = {}

    def warm_up(self) -> MRADDetector:
        """Load the compiled kernels now (a small dummy pair), so the first frame is not slower."""
        rng = np.random.default_rng(0)
        side = 16 * max(2, self.params.grid)
        pair = rng.integers(0, 255, (side, side, 3), dtype=np.uint8)
        MRADDetector(self.params)(pair, pair)
        return self

    def _buffers(self, h: int, w: int) -> dict[str, npt.NDArray[Any]]:
        """Working maps for ``h × w`` frames, allocated once per size."""
        if self._shape != (h, w):
            self._maps = {
                name: np.zeros((h, w), np.float32) for name in ("kept", "cleaned", "blurred")
            }
            self._maps["low"] = np.zeros((h, w), np.uint8)
            self._maps["spans"] = np.zeros((h, 2), np.int64)
            self._shape = (h, w)
        return self._maps

    def __call__(self, query: Any, reference: Any) -> Detection:
        """Detect anomalies in ``query`` against ``reference`` (see :func:`mrad`)."""
        with computing():
            return self._detect(query, reference)

    def _coefficients(
        self, q: npt.NDArray[Any], r: npt.NDArray[Any], rows: npt.NDArray[np.int64],
        cols: npt.NDArray[np.int64], stride: int,
    ) -> npt.NDArray[np.float64]:  # fmt: skip
        """Steps 0-1: align the reference (optional), then each cell's score coefficients."""
        params = self.params
        h, w = q.shape[:2]
        # Step 0: the reference only feeds the cell statistics, which read every
        # `stride`-th pixel: the warp is computed on that grid alone.
        warp = find_alignment(q, r, params.align) if params.align != "none" else None
        step = 1
        reference_grid: npt.NDArray[Any] = r
        if warp is not None:
            reference_grid, step = warp_reference(r, warp, (h, w), params.align, stride), stride
        return dual_score_coefficients(
            q, reference_grid, rows, cols, cov_floor=params.cov_floor, gain=params.match_gain,
            stride=stride, reference_step=step,
        )  # fmt: skip

    def _regions(
        self, blurred: npt.NDArray[np.float32], cleaned: npt.NDArray[np.float32], sigma: float,
        shortest: int,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:  # fmt: skip
        """Steps 7-8: seeds and region growing (borders refined), or a plain threshold."""
        params = self.params
        if not params.region_growing:
            return np.zeros((0, 2), np.int64), blurred >= max(params.min_score, 1.0)
        seeds = find_seeds(blurred, params, shortest)
        mask = grow_regions(blurred, seeds, tolerance=params.tolerance, footprint=params.footprint)
        if params.refine and sigma > 0:
            mask = refine_borders(mask, cleaned, sigma)
        return seeds, mask

    def _detect(self, query: Any, reference: Any) -> Detection:
        params = self.params
        q, r = prepare_pair(query, reference, self.formats, check_swap=self._check_swap)
        h, w = q.shape[:2]
        if min(h, w) < 2 * params.grid:
            raise ValueError(
                f"image of {h} x {w} pixels is too small for a {params.grid} x {params.grid} grid"
            )
        maps = self._buffers(h, w)
        rows, cols = grid_edges(h, params.grid), grid_edges(w, params.grid)
        size = h / params.reference_height if params.reference_height else 1.0
        stride = stats_stride(h * w / params.grid**2)
        coef = self._coefficients(q, r, rows, cols, stride)
        # Steps 2-3: score, scale to [0, 255], zero what is below the minimum score.
        kept, low, spans = maps["kept"], maps["low"], maps["spans"]
        if params.scale == "fixed":  # the factor is known before scoring: one fused pass
            factor = scale_factor(params.scale, params.scale_max)
            scaled_score(q, rows, cols, coef, factor, params.min_score, kept, low, spans)
        else:
            raw = evaluate_score(q, rows, cols, coef)
            factor = scale_factor(params.scale, params.scale_max, raw)
            scale_threshold(raw, factor, params.min_score, kept, low, spans)
        opening = max(1, round(params.opening * size))
        cleaned = maps["cleaned"]
        if opening > 1:
            kernel = np.ones((opening, opening), np.uint8)
            _in_bands(kept, spans, cleaned, 2 * (opening // 2), lambda a, b: cv2.morphologyEx(
                a, cv2.MORPH_OPEN, kernel, dst=b))  # fmt: skip
        else:
            np.copyto(cleaned, kept)
        # Steps 4-5: whole anomalous cells, then noise removal (in place; it only
        # zeroes cells, so the spans of what is left stay a cover).
        counts = cell_counts(cleaned, rows, cols, params.min_score, spans)
        areas = np.diff(rows)[:, None] * np.diff(cols)[None, :]
        whole_cells = counts[..., 1] > params.full_cell_fraction * areas
        remove_noise(
            cleaned, rows, cols, kernel=params.noise_kernel, noise_sd=params.noise_sd,
            keep_cells=whole_cells, nonzero=counts[..., 0], out=cleaned,
        )  # fmt: skip
        # Step 6: blur. The paper's MRAD map is an 8-bit greyscale image: integer
        # scores 0-255 (so the score map takes at most 511 values and metrics are exact).
        sigma = params.blur_sigma * size
        blurred = maps["blurred"]
        if sigma > 0:
            # One more than the kernel's radius: OpenCV's default border reflects the box's
            # edge pixel, and the reflection must land on zeros only.
            _in_bands(cleaned, spans, blurred, _gaussian_radius(sigma) + 1, lambda a, b: np.rint(
                cv2.GaussianBlur(a, (0, 0), sigma, dst=b), out=b))  # fmt: skip
        else:
            np.rint(cleaned, out=blurred)
        seeds, mask = self._regions(blurred, cleaned, sigma, min(h, w))
        for i, j in zip(*np.nonzero(whole_cells), strict=True):
            mask[rows[i] : rows[i + 1], cols[j] : cols[j + 1]] = True
        count = float(np.count_nonzero(mask))
        score_map = np.empty((h, w), dtype=np.float32)
        ranked_scores(blurred, mask, low, score_map)
        return Detection(
            score_map=score_map,
            mask=mask,
            image_score=count,
            is_anomalous=count > params.anomaly_threshold * size**2,
            method="mrad",
            params=params.to_dict(),
            seeds=seeds,
        )


def _gaussian_radius(sigma: float) -> int:
    """Half the kernel size OpenCV's ``GaussianBlur`` picks for a float32 image and ``sigma``."""
    return (round(sigma * 8 + 1) | 1) // 2


def bands(spans: npt.NDArray[np.int64], width: int, reach: int) -> list[Box]:
    """Boxes around the non-zero pixels of a map, ``reach`` pixels wider on every side.

    ``spans`` holds each row's first and one-past-last non-zero column
    (``-1, -1``: none; as :func:`row_spans` finds them). Rows holding non-zero
    pixels are grouped into bands, two bands kept apart only when at least
    ``2 · reach`` empty rows separate them; each box spans its band's non-zero
    columns, clipped to the image. A filter whose output at a pixel depends
    only on the input within ``reach`` of it, and is zero where that input is
    all zero, can run on the boxes alone.
    """
    h, w = spans.shape[0], width
    occupied = np.flatnonzero(spans[:, 0] >= 0)
    if occupied.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(occupied) > 2 * reach) + 1
    boxes = []
    for group in np.split(occupied, breaks):
        y0, y1 = int(group[0]), int(group[-1]) + 1
        x0, x1 = int(spans[group, 0].min()), int(spans[group, 1].max())
        boxes.append(
            (max(0, y0 - reach), min(h, y1 + reach), max(0, x0 - reach), min(w, x1 + reach))
        )
    return boxes


def _in_bands(
    src: npt.NDArray[np.float32],
    spans: npt.NDArray[np.int64],
    dst: npt.NDArray[np.float32],
    reach: int,
    op: Any,
) -> None:
    """``dst = op(src)`` for a local filter of radius ``reach`` that maps zeros to zeros.

    It runs only on :func:`bands` of ``src`` (the rest of ``dst`` is zeroed):
    most of a score map is zero after the minimum-score cut, and a filter of
    a zero neighbourhood is zero. Each box is filtered as its own image, and
    a box on the image's edge meets the image's own border rule. Inside the
    image the box's margin is zero, so a border rule that ignores or repeats
    what lies beyond the box adds nothing, provided a reflecting border
    (OpenCV's default, ``BORDER_REFLECT_101``) is given one pixel more margin
    than the filter's radius. OpenCV's float filters can differ from the
    whole-frame result by one ulp at some positions; after MRAD's rounding to
    integers that matters only for a value within an ulp of .5.
    """
    dst.fill(0.0)
    for y0, y1, x0, x1 in bands(spans, src.shape[1], reach):
        op(src[y0:y1, x0:x1], dst[y0:y1, x0:x1])


def find_seeds(
    blurred: npt.NDArray[np.float32], params: MRADParams, short_side: int
) -> npt.NDArray[np.int64]:
    """Region-growing seeds: mean-shift modes of the pixels scoring at least ``min_score``.

    Each mode is moved to the nearest such pixel (a mode of a ring-shaped region
    can fall in its hole); at most ``max_seeds``, strongest first.
    """
    _, strong = cv2.threshold(blurred, params.min_score, 0.0, cv2.THRESH_TOZERO)
    bandwidth = max(1.0, params.bandwidth * short_side)
    centers, _ = mean_shift_modes(strong, bandwidth)
    return snap_to_support(centers[: params.max_seeds], strong, bandwidth)


def refine_borders(
    mask: npt.NDArray[np.bool_], retained: npt.NDArray[np.float32], sigma: float
) -> npt.NDArray[np.bool_]:
    """Add the retained pixels within ``2 σ`` of the grown regions (undoes the blur's shrinkage)."""
    radius = int(np.ceil(2 * sigma))
    square = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    refined = mask.copy()
    spans = row_spans(mask.view(np.uint8))
    for y0, y1, x0, x1 in bands(spans, mask.shape[1], radius):  # zero away from the mask
        near = cv2.dilate(mask[y0:y1, x0:x1].view(np.uint8), square) > 0
        refined[y0:y1, x0:x1] |= near & (retained[y0:y1, x0:x1] > 0)
    return refined
