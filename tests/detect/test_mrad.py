import numpy as np
import pytest

from spacead.detect import MRADParams, mrad
from spacead.detect._postprocess import remove_noise, scale_scores
from spacead.detect._rxd import dual_score_coefficients
from spacead.detect._stats import evaluate_score, grid_edges
from spacead.simulate import make_pair
from tests.helpers import add_blob, flat_scene, iou


def test_identical_pair_has_no_anomalous_pixel():
    pair = make_pair(270, 480, hazard=None, rng=0)
    det = mrad(pair.query, pair.query)
    assert det.anomalous_pixels == 0 and not det.is_anomalous


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sensor_noise_alone_is_not_flagged(seed):
    # Query = reference + N(0, 2 grey levels): the flat plate and the station scene.
    det = mrad(flat_scene(seed=seed + 10), flat_scene(seed=seed + 20, noise=0.0))
    assert det.anomalous_pixels == 0
    pair = make_pair(270, 480, hazard=None, noise=2.0, rng=seed)
    assert mrad(pair.query, pair.reference).anomalous_pixels == 0


def test_flat_scene_blob_is_covered():
    query, disc = add_blob(flat_scene(seed=2))
    det = mrad(query, flat_scene(seed=1))
    assert iou(det.mask, disc) >= 0.8
    assert det.is_anomalous and det.image_score == det.anomalous_pixels


@pytest.mark.parametrize("gain", [0.8, 0.9, 1.1, 1.2])
def test_blob_survives_reference_gain_and_two_pixel_shift(gain):
    reference = np.roll(flat_scene(seed=1), (2, 2), axis=(0, 1)).astype(np.float32) * gain
    reference = np.clip(reference, 0, 255).astype(np.uint8)
    query, disc = add_blob(flat_scene(seed=2))
    assert iou(mrad(query, reference).mask, disc) >= 0.8


def test_two_pixel_shift_alone_is_not_flagged():
    pair = make_pair(270, 480, hazard=None, shift=2, rng=0)
    assert not mrad(pair.query, pair.reference).is_anomalous
    reference = np.roll(flat_scene(seed=1), (2, 2), axis=(0, 1))
    assert mrad(flat_scene(seed=2), reference).anomalous_pixels == 0


def test_station_scene_blanket_is_localised():
    pair = make_pair(540, 960, hazard="blanket", gain=1.1, shift=2, rng=1)
    det = mrad(pair.query, pair.reference)
    assert iou(det.mask, pair.mask == 2) >= 0.8


def test_outputs_have_the_documented_types_and_range():
    pair = make_pair(135, 240, rng=3)
    det = mrad(pair.query, pair.reference)
    assert det.score_map.dtype == np.float32 and det.score_map.shape == (135, 240)
    assert det.mask.dtype == np.bool_
    assert np.isfinite(det.score_map).all()
    assert det.score_map.min() >= 0.0 and det.score_map.max() <= 255.0
    # Every detected pixel ranks above every undetected one.
    if det.mask.any() and (~det.mask).any():
        assert det.score_map[det.mask].min() >= det.score_map[~det.mask].max()


def test_deterministic():
    pair = make_pair(135, 240, rng=4)
    a, b = mrad(pair.query, pair.reference), mrad(pair.query, pair.reference)
    np.testing.assert_array_equal(a.score_map, b.score_map)
    np.testing.assert_array_equal(a.mask, b.mask)


def test_black_space_scores_zero_and_stays_finite():
    black = np.zeros((120, 160, 3), np.uint8)
    det = mrad(black, black)
    assert np.isfinite(det.score_map).all() and det.score_map.max() == 0.0
    noisy = flat_scene((120, 160), value=(0, 0, 0), noise=1.0)
    assert mrad(noisy, black).anomalous_pixels == 0


def test_full_cell_rule_marks_the_whole_cell():
    reference = flat_scene((200, 200), seed=1)
    query = flat_scene((200, 200), seed=2)
    query[:100, :100] = (30, 200, 40)  # one whole cell of a 2 x 2 grid replaced
    det = mrad(query, reference, MRADParams(grid=2))
    assert det.mask[:100, :100].all()
    off = mrad(query, reference, MRADParams(grid=2, full_cell_fraction=1.0))
    assert not off.mask[:100, :100].all()


def test_fixed_scaling_keeps_noise_dark_where_minmax_stretches_it():
    # Why "fixed" is the default: the paper's min-max stretch maps the largest
    # score of a normal image to 255 whatever it is.
    q, r = flat_scene(seed=5), flat_scene(seed=6)
    rows, cols = grid_edges(q.shape[0], 4), grid_edges(q.shape[1], 4)
    coef = dual_score_coefficients(q, r, rows, cols, cov_floor=4.0, gain=True)
    raw = evaluate_score(q, rows, cols, coef)
    assert scale_scores(raw, "fixed", 100.0).max() < MRADParams().min_score
    assert scale_scores(raw, "minmax", 100.0).max() == 255.0


# --- Table III: every parameter moves the result in the expected direction ---------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_grid_beats_no_grid_on_a_non_homogeneous_scene(seed):
    # The paper's direction: without a grid, one set of statistics covers black space
    # and station alike and the hazard drowns; 4 x 4 and 8 x 8 grids localise it.
    pair = make_pair(540, 960, hazard="blanket", gain=1.1, shift=2, rng=seed)
    gt = pair.mask == 2
    by_grid = {
        g: iou(mrad(pair.query, pair.reference, MRADParams(grid=g)).mask, gt) for g in (1, 2, 4, 8)
    }
    assert by_grid[4] > by_grid[1] + 0.5 and by_grid[8] > by_grid[1] + 0.5
    assert by_grid[2] >= by_grid[1]


def test_larger_tolerance_grows_regions_monotonically():
    pair = make_pair(540, 960, hazard="blanket", gain=1.1, shift=2, rng=0)
    counts = [
        mrad(
            pair.query, pair.reference, MRADParams(tolerance=t, region_growing=True)
        ).anomalous_pixels
        for t in (12.5, 25.0, 50.0, 75.0, 100.0)
    ]
    assert counts == sorted(counts) and counts[-1] > counts[0]


def _speckle_and_blob() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    score = np.zeros((200, 400), np.float32)
    speckle = rng.random((200, 200)) < 0.02
    score[:, :200][speckle] = rng.uniform(64, 120, speckle.sum())
    yy, xx = np.mgrid[:200, :200]
    score[:, 200:][(yy - 100) ** 2 + (xx - 100) ** 2 <= 15**2] = 200
    return score, grid_edges(200, 1), grid_edges(400, 2)


def test_noise_sd_removes_more_as_it_grows():
    score, rows, cols = _speckle_and_blob()
    kept = [
        np.count_nonzero(remove_noise(score, rows, cols, kernel=0.3, noise_sd=sd))
        for sd in (0, 2, 5, 10)
    ]
    assert kept == sorted(kept, reverse=True) and kept[-1] < kept[0]
    out = remove_noise(score, rows, cols, kernel=0.3, noise_sd=10)
    assert not out[:, :200].any() and out[:, 200:].any()  # speckle cell gone, blob cell kept


def test_larger_noise_kernel_removes_more():
    score, rows, cols = _speckle_and_blob()
    small = remove_noise(score, rows, cols, kernel=0.05, noise_sd=10)
    large = remove_noise(score, rows, cols, kernel=0.3, noise_sd=10)
    assert small[:, :200].any() and not large[:, :200].any()
