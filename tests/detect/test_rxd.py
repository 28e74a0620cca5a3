import numpy as np
import pytest
import spectral

from spacead.detect import PADParams, RXDParams, pad, rxd
from tests.helpers import add_blob, flat_scene, iou


def test_rxd_equals_spectral_python(rng):
    # Spectral Python's rx with whole-image statistics is the independent reference.
    image = rng.normal(0, 1, (96, 128, 3)) @ np.array([[30, 5, 0], [4, 20, 3], [0, 6, 25]]) + 120
    image = image.astype(np.float32)
    ours = rxd(image, RXDParams(cov_floor=1e-9)).score_map
    theirs = spectral.rx(image.astype(np.float64))
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


def test_rxd_flags_an_off_colour_blob():
    query, disc = add_blob(flat_scene())
    det = rxd(query)
    assert det.is_anomalous
    assert iou(det.mask, disc) >= 0.95


def test_rxd_ignores_nothing_on_a_noise_only_image():
    # At a 1e-3 false-alarm rate about 0.1 % of pure-noise pixels exceed the RX threshold.
    det = rxd(flat_scene(), RXDParams(false_alarm_rate=1e-6))
    assert det.anomalous_pixels < 10


def test_pad_identical_pair_is_clean():
    scene = flat_scene()
    det = pad(scene, scene)
    assert det.anomalous_pixels == 0 and not det.is_anomalous


def test_pad_flags_blob_against_a_flat_reference():
    reference = flat_scene(seed=1)
    query, disc = add_blob(flat_scene(seed=2))
    det = pad(query, reference)
    assert iou(det.mask, disc) >= 0.9


def test_pad_gain_matching_absorbs_exposure_change():
    reference = flat_scene(seed=1)
    darker = (reference.astype(np.float32) * 0.8).astype(np.uint8)
    assert not pad(reference, darker).is_anomalous
    assert pad(reference, darker, PADParams(match_gain=False)).is_anomalous


@pytest.mark.parametrize("detector", ["rxd", "pad"])
def test_black_frames_score_zero_and_stay_finite(detector):
    black = np.zeros((64, 80, 3), np.uint8)
    det = rxd(black) if detector == "rxd" else pad(black, black)
    assert np.isfinite(det.score_map).all()
    assert det.score_map.max() == 0.0 and not det.is_anomalous
