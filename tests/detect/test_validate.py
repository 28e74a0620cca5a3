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
        match=r"query must have shape \(H, W\), \(H, W, C\) or \(C, H, W\) with C in 1, 3 or 4 "
        r"\(HWC as NumPy and OpenCV lay images out; CHW as torch does\), got \(120, 160, 2\)",
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


# --- how the numbers of an image are read -------------------------------------------


def test_unit_floats_are_read_as_scikit_image_does(pair):
    # scikit-image's convention: float images in [0, 1]. They used to give 0 pixels.
    query, reference = pair
    base = mrad(query, reference)
    unit = mrad(query / 255.0, reference / 255.0)
    assert base.anomalous_pixels > 0
    np.testing.assert_array_equal(unit.mask, base.mask)
    given = mrad(query / 255.0, reference / 255.0, value_range=(0.0, 1.0))
    np.testing.assert_array_equal(given.mask, base.mask)


def test_a_pair_on_different_scales_gets_a_warning(pair):
    query, reference = pair
    with pytest.warns(
        UserWarning, match="query holds floats in \\[0, 1\\].*but reference holds floats"
    ):
        mrad(query / 255.0, reference.astype(np.float32))
    # a uint8 reference is unambiguous: no warning, and the right answer
    np.testing.assert_array_equal(mrad(query / 255.0, reference).mask, mrad(query, reference).mask)


def test_12_bit_data_needs_its_bit_depth_and_says_so(pair):
    query, reference = pair
    base = mrad(query, reference)
    q12 = (query.astype(np.uint16) * 16).astype(np.uint16)  # 12-bit sensor values in uint16
    r12 = (reference.astype(np.uint16) * 16).astype(np.uint16)
    with pytest.warns(UserWarning, match="uint16 with values only up to .*pass bit_depth=12"):
        mrad(q12, r12)
    got = mrad(q12, r12, bit_depth=12)
    assert abs(got.anomalous_pixels - base.anomalous_pixels) <= 0.02 * base.anomalous_pixels
    same_as_range = mrad(q12, r12, value_range=(0, 4095))
    np.testing.assert_array_equal(same_as_range.mask, got.mask)


def test_a_dark_16_bit_frame_is_silenced_by_its_bit_depth(pair):
    import warnings

    query, reference = pair
    dark_q = (query.astype(np.uint16) * 8).astype(np.uint16)  # a dark 16-bit exposure
    dark_r = (reference.astype(np.uint16) * 8).astype(np.uint16)
    with pytest.warns(UserWarning, match="bit_depth=16 for a dark 16-bit frame"):
        warned = mrad(dark_q, dark_r)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning once the bit depth is given
        quiet = mrad(dark_q, dark_r, bit_depth=16)
    np.testing.assert_array_equal(quiet.mask, warned.mask)


def test_bgr_frames_from_opencv(pair):
    query, _ = pair
    scene = np.zeros_like(query)  # a coloured scene: red-orange structure on blue
    scene[..., 0], scene[..., 1], scene[..., 2] = 200, 90, 30
    reference = scene.copy()
    query = scene.copy()
    query[50:70, 70:90] = (40, 200, 240)  # a hazard
    rng = np.random.default_rng(0)
    reference = np.clip(reference + rng.normal(0, 2, scene.shape), 0, 255).astype(np.uint8)
    query = np.clip(query + rng.normal(0, 2, scene.shape), 0, 255).astype(np.uint8)
    base = mrad(query, reference)
    bgr = np.ascontiguousarray(query[..., ::-1])  # what cv2.imread hands over
    with pytest.warns(UserWarning, match="red and blue swapped.*channel_order=\\('bgr', 'rgb'\\)"):
        mrad(bgr, reference)
    np.testing.assert_array_equal(
        mrad(bgr, reference, channel_order=("bgr", "rgb")).mask, base.mask
    )
    both = np.ascontiguousarray(reference[..., ::-1])
    np.testing.assert_array_equal(mrad(bgr, both, channel_order="bgr").mask, base.mask)
    # a genuine colour difference: saying channel_order="rgb" silences the check
    mrad(bgr, reference, channel_order="rgb")  # (warnings are errors in the tests)


def test_chw_arrays_and_torch_tensors_are_accepted(pair):
    torch = pytest.importorskip("torch")
    query, reference = pair
    base = mrad(query, reference)
    chw = np.moveaxis(query, 2, 0)
    np.testing.assert_array_equal(mrad(chw, reference).mask, base.mask)
    tq = torch.from_numpy(np.moveaxis(query, 2, 0).astype(np.float32) / 255).requires_grad_()
    tr = torch.from_numpy(np.moveaxis(reference, 2, 0).astype(np.float32) / 255)
    np.testing.assert_array_equal(mrad(tq, tr).mask, base.mask)
    np.testing.assert_array_equal(rxd(chw).mask, rxd(query).mask)


def test_a_batch_of_images_is_refused_naming_the_layouts(pair):
    query, reference = pair
    with pytest.raises(ValueError, match=r"\(C, H, W\).*got \(1, 3, 120, 160\): a batch of images"):
        mrad(np.moveaxis(query, 2, 0)[None], reference)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bit_depth": 0}, "bit_depth must be an integer in \\[1, 16\\], got 0"),
        ({"bit_depth": 17}, "bit_depth must be an integer in \\[1, 16\\], got 17"),
        ({"value_range": (1, 1)}, "value_range must be finite with white > black, got \\(1, 1\\)"),
        ({"value_range": "wide"}, "value_range must be \\(black, white\\) numbers, got 'wide'"),
        ({"value_range": (0, 1), "bit_depth": 12}, "give value_range or bit_depth, not both"),
        ({"channel_order": "grb"}, "channel_order must be 'rgb' or 'bgr', got 'grb'"),
        (
            {"channel_order": ("bgr",)},
            "channel_order must be 'rgb', 'bgr' or a \\(query, reference\\) pair",
        ),
    ],
)
def test_bad_formats_are_refused(pair, kwargs, message):
    with pytest.raises(ValueError, match=message):
        mrad(*pair, **kwargs)


def test_values_beyond_the_bit_depth_are_refused(pair):
    query, reference = pair
    q = query.astype(np.uint16) * 257
    with pytest.raises(
        ValueError,
        match=r"query holds values up to [0-9]+, more than bit_depth 12 allows \(4095\)",
    ):
        mrad(q, q, bit_depth=12)
    with pytest.raises(ValueError, match="bit_depth applies to integer images; query is float32"):
        mrad(query.astype(np.float32), reference, bit_depth=8)
