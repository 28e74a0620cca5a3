import numpy as np
import pytest
from skimage.segmentation import flood

from spacead.detect._region import grow_regions


def _terraced_map(rng, shape=(60, 70)):
    # Integer-valued scores with plateaus, ramps and gaps; zeros mark "anomaly-free".
    score = np.zeros(shape, np.float32)
    score[5:25, 5:30] = rng.integers(150, 256, (20, 25))
    score[30:55, 10:40] = np.linspace(60, 200, 30)[None, :].round()
    score[10:20, 45:65] = 240
    score[14, 30:45] = 230  # thin bridge
    score[40:50, 50:52] = 120
    score[40:50, 53:55] = 125  # one-pixel gap: joined only by a 5 x 5 footprint
    return score


@pytest.mark.parametrize("footprint", [3, 5, 7])
@pytest.mark.parametrize("tolerance", [10.0, 50.0, 100.0])
def test_matches_union_of_skimage_flood(rng, footprint, tolerance):
    # Where every seed's value exceeds the tolerance, zero pixels can't join either
    # way and our semantics equal scikit-image's flood exactly.
    score = _terraced_map(rng)
    seeds = np.array([[10, 10], [15, 50], [45, 25], [45, 50], [14, 35]])
    seeds = seeds[score[seeds[:, 0], seeds[:, 1]] > tolerance]
    expected = np.zeros(score.shape, bool)
    for s in seeds:
        expected |= flood(
            score, tuple(s), footprint=np.ones((footprint, footprint)), tolerance=tolerance
        )
    ours = grow_regions(score, seeds, tolerance=tolerance, footprint=footprint)
    np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize("footprint", [3, 5])
def test_zero_pixels_never_join(footprint):
    score = np.zeros((20, 20), np.float32)
    score[5:10, 5:10] = 30
    mask = grow_regions(score, np.array([[7, 7]]), tolerance=50, footprint=footprint)
    assert mask.sum() == 25


def test_tolerance_is_inclusive():
    score = np.array([[100, 150, 151, 100]], np.float32).repeat(3, axis=0)
    mask = grow_regions(score, np.array([[1, 0]]), tolerance=50, footprint=3)
    np.testing.assert_array_equal(mask[1], [True, True, False, False])


def test_no_seeds_no_region():
    assert not grow_regions(
        np.ones((5, 5), np.float32), np.zeros((0, 2), np.int64), tolerance=5
    ).any()
