"""Reference alignment (ECC) before MRAD: recovers a small warp, refuses implausible ones."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from spacead.detect import MRADParams, align_reference, find_alignment, mrad
from spacead.detect._align import warp_reference
from spacead.simulate import make_pair


def _warped(image, dx=2.5, dy=-1.5, angle=0.4):
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    m[:, 2] += (dx, dy)
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR), m


def test_a_small_pose_error_is_undone_and_mrad_stops_seeing_edges():
    from spacead.scene import StationModel
    from tests.reference.conftest import camera, make_frame, station_parts

    model = StationModel(station_parts())
    normal, mask = make_frame(model, camera(480, 360), hazard=False, seed=0)
    clean, _ = make_frame(model, camera(480, 360), hazard=False, noise=0.0, seed=1)
    reference, _ = _warped(clean, dx=7.0, dy=-3.5, angle=1.0)  # rendered at a wrong pose
    plain = mrad(normal, reference, MRADParams(align="none"))
    aligned = mrad(normal, reference)  # default: affine ECC
    assert plain.anomalous_pixels > 50  # edges of the misaligned station light up
    assert aligned.anomalous_pixels < 0.2 * plain.anomalous_pixels
    query, labels = make_frame(model, camera(480, 360), hazard=True, seed=0)
    found = mrad(query, reference).mask & (labels == 2)
    assert found.sum() > 0.8 * (labels == 2).sum()  # the hazard does not pull the warp off
    fixed = align_reference(normal, reference)
    inner = cv2.erode((mask == 1).astype(np.uint8), np.ones((7, 7))) > 0
    err_before = np.abs(reference.astype(int) - clean.astype(int))[inner].mean()
    err_after = np.abs(fixed.astype(int) - clean.astype(int))[inner].mean()
    assert err_after < 0.5 * err_before
    assert fixed.dtype == reference.dtype


def test_the_recovered_warp_is_the_applied_one():
    pair = make_pair(270, 480, hazard=None, rng=5)
    reference, _ = _warped(pair.reference, dx=3.0, dy=2.0, angle=0.0)
    warp = find_alignment(pair.query, reference, "affine")
    assert warp is not None
    np.testing.assert_allclose(warp[:2, 2], (3.0, 2.0), atol=0.3)  # query (x) -> reference (x + d)
    homography = find_alignment(pair.query, reference, "homography")
    assert homography is not None and np.allclose(homography[:2, 2], (3.0, 2.0), atol=0.5)


def test_no_structure_or_an_implausible_shift_leaves_the_reference_alone():
    black = np.zeros((120, 160, 3), np.uint8)
    assert find_alignment(black, black) is None
    assert align_reference(black, black) is black
    pair = make_pair(270, 480, hazard=None, rng=5)
    far = np.roll(pair.reference, 60, axis=1)  # 12 % of the width: not a pose error
    assert find_alignment(pair.query, far) is None
    assert find_alignment(pair.query, pair.reference, "none") is None


def test_align_is_a_validated_parameter_and_off_in_the_paper_setting():
    assert MRADParams().align == "affine" and MRADParams.paper().align == "none"
    assert MRADParams.from_strings(["align=homography"]).align == "homography"
    with pytest.raises(
        ValueError, match=r"align must be one of affine, homography, none, got 'rigid'"
    ):
        MRADParams(align="rigid")  # type: ignore[arg-type]


@pytest.mark.parametrize("model", ["affine", "homography"])
@pytest.mark.parametrize("shape", [(120, 160), (121, 163)])
def test_warping_on_the_stride_grid_equals_slicing_the_full_warp(model, shape):
    rng = np.random.default_rng(3)
    reference = cv2.GaussianBlur(rng.integers(0, 255, (*shape, 3), dtype=np.uint8), (0, 0), 1.5)
    warp = np.array([[1.01, 0.004, 2.3], [-0.003, 0.995, -1.7], [0.0, 0.0, 1.0]])
    if model == "homography":
        warp[2, :2] = (2e-5, -1e-5)
    full = warp_reference(reference, warp, shape, model)
    half = warp_reference(reference, warp, shape, model, step=2)
    np.testing.assert_array_equal(half, full[::2, ::2])
