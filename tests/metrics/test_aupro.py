"""AUPRO against anomalib's implementation, streamed and merged exactly."""

import numpy as np
import pytest

from spacead.metrics import Binning, PixelMetricAccumulator, pixel_metrics


def _data(seed: int, ties: bool = False):
    rng = np.random.default_rng(seed)
    n, h, w = 6, 40, 50
    masks = np.zeros((n, h, w), bool)
    for i in range(n - 2):  # two normal images
        for _ in range(rng.integers(1, 4)):  # 1-3 regions of various sizes, some touching
            y, x = rng.integers(0, h - 8), rng.integers(0, w - 8)
            masks[i, y : y + rng.integers(2, 9), x : x + rng.integers(2, 9)] = True
    scores = rng.normal(0, 1, (n, h, w)) + 1.5 * masks * rng.uniform(0, 2, (n, 1, 1))
    if ties:  # MRAD-like maps: half-integer scores on [0, 255], heavily tied
        scores = np.clip(np.round(scores * 20 + 60) / 2, 0, 255)
    return scores.astype(np.float32), masks


def _anomalib_aupro(scores, masks) -> float:
    pytest.importorskip("anomalib")
    torch = pytest.importorskip("torch")
    from spacead.models.anomalib._torchvision import ensure_torchvision

    ensure_torchvision()
    from anomalib.metrics.aupro import _AUPRO

    metric = _AUPRO(fpr_limit=0.3)
    metric.update(torch.from_numpy(scores), torch.from_numpy(masks.astype(np.int32)))
    return float(metric.compute())


@pytest.mark.parametrize(("seed", "ties"), [(0, False), (1, False), (2, True), (3, True)])
def test_aupro_equals_anomalib(seed, ties):
    scores, masks = _data(seed, ties)
    ours = pixel_metrics(scores, masks).aupro
    assert ours is not None and 0.0 < ours < 1.0
    assert ours == pytest.approx(_anomalib_aupro(scores, masks), abs=2e-6)
    if ties:  # the streaming bins hold one distinct value each: the same number
        binned = pixel_metrics(scores, masks, binning=Binning()).aupro
        assert binned == pytest.approx(ours, abs=1e-12)


def test_streaming_and_merging_in_any_order_give_the_same_aupro():
    scores, masks = _data(4, ties=True)
    whole = pixel_metrics(scores, masks, binning=Binning()).aupro
    one = PixelMetricAccumulator()
    for s, m in zip(scores, masks, strict=True):
        one.update(s, m)
    parts = [PixelMetricAccumulator() for _ in range(3)]
    for k, (s, m) in enumerate(zip(scores, masks, strict=True)):
        parts[k % 3].update(s, m)
    forward, backward = PixelMetricAccumulator(), PixelMetricAccumulator()
    for p in parts:
        forward.merge(p)
    for p in reversed(parts):
        backward.merge(p)
    assert one.compute().aupro == forward.compute().aupro == backward.compute().aupro
    assert one.compute().aupro == pytest.approx(whole, abs=1e-12)
    restored = PixelMetricAccumulator()
    restored.load_state_arrays(one.state_arrays())
    assert restored.compute().aupro == one.compute().aupro


def test_a_perfect_and_a_useless_detector():
    _, masks = _data(5)
    assert pixel_metrics(masks.astype(np.float32), masks).aupro == pytest.approx(1.0)
    assert pixel_metrics((~masks).astype(np.float32), masks).aupro == pytest.approx(0.0)
    normal_only = pixel_metrics(np.zeros((2, 4, 4), np.float32), np.zeros((2, 4, 4), bool))
    assert normal_only.aupro is None and normal_only.reasons["aupro"] == "no anomalous pixels"


def test_a_trailing_channel_axis_is_not_an_image_axis():
    scores, masks = _data(6)
    expected = pixel_metrics(scores, masks).aupro
    assert pixel_metrics(scores[..., None], masks[..., None]).aupro == expected
    one = PixelMetricAccumulator()
    one.update(scores[0][..., None], masks[0][..., None])
    two = PixelMetricAccumulator()
    two.update(scores[0], masks[0])
    assert one.compute().aupro == two.compute().aupro
