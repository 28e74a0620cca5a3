import numpy as np
import pytest
from sklearn.cluster import MeanShift

from spacead.detect._meanshift import mean_shift_modes, snap_to_support


def _blobs(rng, shape=(80, 100), centres=((20, 25), (55, 70), (60, 20)), n=120, spread=4.0):
    weights = np.zeros(shape, np.float32)
    for cy, cx in centres:
        pts = rng.normal((cy, cx), spread, (n, 2)).round().astype(int)
        pts = pts[(pts >= 0).all(1) & (pts[:, 0] < shape[0]) & (pts[:, 1] < shape[1])]
        weights[pts[:, 0], pts[:, 1]] = 1.0
    return weights


@pytest.mark.parametrize("bandwidth", [8.0, 12.0])
def test_modes_match_scikit_learn_meanshift(rng, bandwidth):
    # Independent reference: scikit-learn's MeanShift (flat kernel, bin seeding)
    # on the coordinates of the non-zero pixels of a small binary map.
    weights = _blobs(rng)
    coords = np.argwhere(weights > 0).astype(float)
    ref = MeanShift(bandwidth=bandwidth, bin_seeding=True).fit(coords).cluster_centers_
    ours, mass = mean_shift_modes(weights, bandwidth, block=1)
    assert len(ours) == len(ref)
    for c in ref:
        assert np.min(np.linalg.norm(ours - c, axis=1)) < 1.0
    assert np.all(np.diff(mass) <= 0)  # strongest first


def test_pooled_blocks_find_the_same_modes(rng):
    weights = _blobs(rng, shape=(400, 500), centres=((100, 120), (300, 380)), n=3000, spread=12)
    exact, _ = mean_shift_modes(weights, 40.0, block=1)
    pooled, _ = mean_shift_modes(weights, 40.0)  # default block = 6
    assert len(exact) == len(pooled) == 2
    for c in exact:
        assert np.min(np.linalg.norm(pooled - c, axis=1)) < 3.0


def test_empty_map_has_no_modes():
    centers, mass = mean_shift_modes(np.zeros((30, 30), np.float32), 5.0)
    assert centers.shape == (0, 2) and mass.shape == (0,)


def test_weights_pull_the_mode():
    weights = np.zeros((50, 50), np.float32)
    weights[25, 20] = 1.0
    weights[25, 30] = 3.0
    (center,), _ = mean_shift_modes(weights, 15.0, block=1)
    np.testing.assert_allclose(center, (25.0, 27.5), atol=1e-9)


def test_snap_moves_a_mode_in_a_hole_onto_the_ring():
    yy, xx = np.mgrid[:41, :41]
    ring = (np.abs(np.hypot(yy - 20, xx - 20) - 10) < 1).astype(np.float32)
    (center,), _ = mean_shift_modes(ring, 15.0, block=1)
    assert np.hypot(*(center - 20)) < 1.0  # the centroid of a ring is its empty centre
    (seed,) = snap_to_support(center[None], ring, 15.0)
    assert ring[tuple(seed)] > 0
