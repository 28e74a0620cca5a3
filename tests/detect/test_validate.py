import numpy as np
import pytest

from spacead.detect import MRADParams, mrad, pad, rxd
from tests.helpers import add_blob, flat_scene


@pytest.fixture
def pair():
    query, _ = add_blob(flat_scene((120, 160), seed=2), center=(60, 80), radius=12)
    return query, flat_scene((120, 160), seed=1)


def test_size_mismatch_names_both_shapes(pair):
    query, reference = pair
    with pytest.raises(
        ValueError,
        match=r"reference must have the same height and width as query \(120, 160, 3\), got \(60, 80, 3\)",
    ):
        mrad(query, reference[:60, :80])


@pytest.mark.parametrize("detector", [mrad, pad])
def test_nan_and_inf_are_rejected(pair, detector):
    query, reference = pair
    bad = reference.astype(np.float32)
    bad[3, 4, 1] = np.nan
    with pytest.raises(ValueError, match="reference contains NaN or inf values"):
        detector(query, bad)
    bad[3, 4, 1] = np.inf
    with pytest.raises(ValueError, match="query contains NaN or inf values"):
        detector(bad, reference)


def test_wrong_channel_count(pair):
    query, reference = pair
    with pytest.raises(
        ValueError,
        match=r"query must have shape \(H, W\), \(H, W, 1\), \(H, W, 3\) or \(H, W, 4\), got \(120, 160, 2\)",
    ):
        mrad(query[:, :, :2], reference)


@pytest.mark.parametrize("dtype", [np.bool_, np.complex64])
def test_non_numeric_dtype_is_a_type_error(pair, dtype):
    with pytest.raises(
        TypeError,
        match=f"query must be an integer or floating-point image array, got dtype {np.dtype(dtype)}",
    ):
        rxd(pair[0].astype(dtype))


def test_too_small_for_grid():
    tiny = np.zeros((6, 6, 3), np.uint8)
    with pytest.raises(ValueError, match="image of 6 x 6 pixels is too small for a 4 x 4 grid"):
        mrad(tiny, tiny, MRADParams(grid=4))


def test_float_input_on_the_8bit_scale_equals_uint8(pair):
    query, reference = pair
    a = mrad(query, reference)
    b = mrad(query.astype(np.float32), reference.astype(np.float64))
    np.testing.assert_allclose(a.score_map, b.score_map, atol=1e-3)
    np.testing.assert_array_equal(a.mask, b.mask)


def test_16_bit_grayscale_and_rgba_are_converted(pair):
    query, reference = pair
    base = mrad(query, reference)
    as16 = mrad(query.astype(np.uint16) * 257, reference.astype(np.uint16) * 257)
    np.testing.assert_array_equal(base.mask, as16.mask)
    alpha = np.full((*query.shape[:2], 1), 255, np.uint8)
    rgba = mrad(np.concatenate([query, alpha], 2), np.concatenate([reference, alpha], 2))
    np.testing.assert_array_equal(base.mask, rgba.mask)
    gray_q, gray_r = query.mean(axis=2).astype(np.uint8), reference.mean(axis=2).astype(np.uint8)
    gray = mrad(gray_q, gray_r)
    assert gray.score_map.shape == query.shape[:2] and gray.anomalous_pixels > 300
