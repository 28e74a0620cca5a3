"""Detections do not depend on the thread count, and a stream detector equals the function."""

import cv2
import numpy as np
import pytest

from spacead import thread_limit
from spacead.detect import MRADDetector, MRADParams, make_detector, mrad, pad, rxd
from spacead.detect._kernels import row_spans
from spacead.detect._mrad import _gaussian_radius, _in_bands, bands
from spacead.simulate import make_pair

PARAMS = {
    "default": MRADParams(),
    "paper": MRADParams.paper(),
    "region growing": MRADParams(region_growing=True, footprint=5),
    "homography": MRADParams(align="homography", grid=4),
    "grid 4": MRADParams(grid=4),  # cells of >= 16,000 px: statistics on the stride-2 grid
}


@pytest.fixture(scope="module")
def pairs():
    return [
        make_pair(540, 960, hazard="blanket", gain=1.1, shift=2, rng=1),
        make_pair(541, 963, hazard="blanket", gain=0.9, shift=1, rng=5),  # odd sizes
    ]


def _same(a, b):
    np.testing.assert_array_equal(a.score_map, b.score_map)
    np.testing.assert_array_equal(a.mask, b.mask)
    assert a.image_score == b.image_score and a.is_anomalous == b.is_anomalous
    np.testing.assert_array_equal(a.seeds, b.seeds)


@pytest.mark.parametrize("name", list(PARAMS))
def test_mrad_is_identical_on_one_and_two_threads(pairs, name):
    for pair in pairs:
        with thread_limit(1):
            one = mrad(pair.query, pair.reference, PARAMS[name])
        with thread_limit(2):
            two = mrad(pair.query, pair.reference, PARAMS[name])
        _same(one, two)
        assert one.anomalous_pixels > 0  # the comparison is not of two empty maps


def test_rxd_and_pad_are_identical_on_one_and_two_threads(pairs):
    for pair in pairs:
        with thread_limit(1):
            one = (rxd(pair.query), pad(pair.query, pair.reference))
        with thread_limit(2):
            two = (rxd(pair.query), pad(pair.query, pair.reference))
        for a, b in zip(one, two, strict=True):
            _same(a, b)


def test_a_stream_detector_equals_the_function_frame_by_frame(pairs):
    # Frames of two sizes, interleaved: buffers are reallocated on a new size
    # and nothing of one frame leaks into the next.
    frames = [pairs[0], pairs[1], pairs[0], make_pair(540, 960, hazard=None, rng=7), pairs[1]]
    for params in (MRADParams(), MRADParams(scale="minmax", region_growing=True)):
        detector = MRADDetector(params).warm_up()
        results = [detector(p.query, p.reference) for p in frames]
        for pair, got in zip(frames, results, strict=True):
            _same(got, mrad(pair.query, pair.reference, params))
        assert results[0].anomalous_pixels > 0
    assert results[0].score_map is not results[2].score_map  # outputs are never reused


def test_make_detector_runs_each_method_and_checks_its_input(pairs):
    pair = pairs[1]
    _same(make_detector("mrad")(pair.query, pair.reference), mrad(pair.query, pair.reference))
    _same(make_detector("pad")(pair.query, pair.reference), pad(pair.query, pair.reference))
    _same(make_detector("rxd")(pair.query, None), rxd(pair.query))
    with pytest.raises(ValueError, match="method mrad needs a reference image"):
        make_detector("mrad")(pair.query, None)
    with pytest.raises(TypeError, match="params for pad must be PADParams, got MRADParams"):
        make_detector("pad", MRADParams())
    with pytest.raises(ValueError, match="unknown method 'rx'; valid methods: mrad, pad, rxd"):
        make_detector("rx")


def _sparse_map(seed):
    rng = np.random.default_rng(seed)
    out = np.zeros((300, 400), np.float32)
    # Blobs of random scores in four row bands (one on the top edge, one on the
    # bottom edge), two blobs in one band, and a speck.
    for y0, x0 in ((0, 380), (60, 30), (64, 200), (150, 150), (280, 0)):
        out[y0 : y0 + 20, x0 : x0 + 20] = rng.uniform(60, 255, (20, 20))
    out[220, 333] = 120.0
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_filters_run_on_boxes_equal_the_whole_frame(seed):
    # The cross-check of the box trick: OpenCV on the whole frame.
    src = _sparse_map(seed)
    spans = row_spans(src)
    kernel = np.ones((5, 5), np.uint8)
    whole = cv2.morphologyEx(src, cv2.MORPH_OPEN, kernel)
    boxed = np.full_like(src, -1.0)
    _in_bands(src, spans, boxed, 4, lambda a, b: cv2.morphologyEx(a, cv2.MORPH_OPEN, kernel, dst=b))
    np.testing.assert_array_equal(boxed, whole)
    for sigma in (0.3, 0.56, 1.0, 4.0):  # small sigmas: the reflected edge pixel weighs most
        whole = np.rint(cv2.GaussianBlur(src, (0, 0), sigma))
        _in_bands(src, spans, boxed, _gaussian_radius(sigma) + 1, lambda a, b, s=sigma: np.rint(
            cv2.GaussianBlur(a, (0, 0), s, dst=b), out=b))  # fmt: skip
        # OpenCV's float filter can differ by an ulp with position: only a value
        # within an ulp of .5 may round apart.
        assert np.count_nonzero(boxed != whole) <= 1e-4 * src.size, sigma
        np.testing.assert_allclose(boxed, whole, atol=1.0)
    assert len(bands(spans, src.shape[1], 4)) == 5  # several boxes were exercised


def test_the_blur_margin_must_exceed_the_radius_for_a_reflecting_border():
    # The review's case: a block of 255 blurred with sigma 0.3; a margin of only
    # the radius lets the box's reflected edge double the kernel's tail.
    src = np.zeros((40, 40), np.float32)
    src[15:25, 15:25] = 255.0
    whole = np.rint(cv2.GaussianBlur(src, (0, 0), 0.3))
    boxed = np.empty_like(src)
    r = _gaussian_radius(0.3)
    blur = lambda a, b: np.rint(cv2.GaussianBlur(a, (0, 0), 0.3, dst=b), out=b)  # noqa: E731
    _in_bands(src, row_spans(src), boxed, r, blur)
    assert np.count_nonzero(boxed != whole) > 0  # the too-small margin shows
    _in_bands(src, row_spans(src), boxed, r + 1, blur)
    np.testing.assert_array_equal(boxed, whole)
