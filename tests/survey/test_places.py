from __future__ import annotations

import numpy as np


def _fake_result(coords, z, tile=64, stride=16, k=3.0):
    from pathlib import Path

    from spacead.survey import ScanResult

    coords = np.asarray(coords, dtype=np.int64)
    z = np.asarray(z, dtype=np.float64)
    return ScanResult(coords, z * 2, z, z > k, tile, stride, k, 0.0, 1.0, 1.0, Path("."))


def test_group_detections_matches_connected_components_of_the_grid():
    """Independent check: places equal scipy.ndimage.label's 8-connected regions."""
    from scipy import ndimage

    from spacead.survey import group_places

    rng = np.random.default_rng(7)
    ys, xs = np.meshgrid(np.arange(0, 640, 16), np.arange(0, 640, 16), indexing="ij")
    coords = np.stack([ys.ravel(), xs.ravel()], 1)
    z = rng.normal(size=len(coords)) + 3.0 * (rng.random(len(coords)) < 0.1)
    result = _fake_result(coords, z)
    places = group_places(result)
    grid = np.zeros(ys.shape, dtype=bool)
    grid[coords[:, 0] // 16, coords[:, 1] // 16] = result.flagged
    labels, n = ndimage.label(grid, structure=np.ones((3, 3)))
    assert len(places) == n > 5
    sizes = np.bincount(labels.ravel())[1:]
    assert sorted(p.n_tiles for p in places) == sorted(sizes.tolist())
    peaks = ndimage.maximum(np.where(grid, z.reshape(grid.shape), -np.inf), labels, range(1, n + 1))
    np.testing.assert_allclose(sorted(p.z for p in places), sorted(peaks))
    assert [p.z for p in places] == sorted((p.z for p in places), reverse=True)


def test_group_detections_box_and_empty():
    from spacead.survey import group_places

    # Two touching tiles (one step apart) and one far away; scored half side 64*3//16//2 = 6.
    result = _fake_result([[0, 0], [16, 16], [320, 320]], [5.0, 4.0, 9.0])
    far, pair = group_places(result)
    assert (far.y, far.x, far.n_tiles, far.z) == (352, 352, 1, 9.0)
    assert (far.y0, far.x0, far.y1, far.x1) == (346, 346, 358, 358)
    assert (pair.y0, pair.x0, pair.y1, pair.x1, pair.n_tiles) == (26, 26, 54, 54, 2)
    assert (pair.y, pair.x) == (32, 32)  # the higher-z tile's centre
    assert group_places(_fake_result([[0, 0]], [1.0])) == []
