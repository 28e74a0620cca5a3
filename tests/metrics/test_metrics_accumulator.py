"""Streaming accumulators: streaming equals pooled, merge equals one accumulator."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from spacead.metrics import (
    BenchmarkAccumulator,
    Binning,
    ImageMetricAccumulator,
    PixelMetricAccumulator,
    pixel_metrics,
)

Reference = Callable[[Any, Any], dict[str, Any]]
EXACT = 1e-12


def _dataset(n: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """uint8 score maps, masks (every other image normal) and image scores."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, 24, 32), dtype=bool)
    for i in range(0, n, 2):
        y, x = rng.integers(0, 16, 2)
        masks[i, y : y + 6, x : x + 9] = True
    maps = (rng.integers(0, 180, masks.shape) + 60 * masks).astype(np.uint8)
    image_scores = maps.reshape(n, -1).max(axis=1) + rng.normal(0, 5, n)
    return maps, masks, image_scores


def test_streaming_equals_pooled(sklearn_metrics: Reference) -> None:
    maps, masks, _ = _dataset()
    acc = PixelMetricAccumulator()
    for score_map, mask in zip(maps, masks, strict=True):
        acc.update(score_map, mask)
    streamed = acc.compute()
    assert streamed.to_dict() == pixel_metrics(maps, masks, binning=Binning()).to_dict()
    exact = pixel_metrics(maps, masks)
    ref = sklearn_metrics(maps, masks)
    for name in ("auroc", "ap", "fpr95", "f1_max", "f1_threshold"):
        assert getattr(streamed, name) == pytest.approx(getattr(exact, name), abs=EXACT), name
    for name in ("auroc", "ap", "fpr95", "f1_max"):
        assert getattr(streamed, name) == pytest.approx(ref[name], abs=EXACT), name
    assert (streamed.n_pixels, streamed.n_anomalous_pixels) == (masks.size, masks.sum())
    assert acc.n_pixels == masks.size


def test_merge_equals_one_accumulator() -> None:
    maps, masks, scores = _dataset(n=7, seed=1)
    whole, first, second = BenchmarkAccumulator(), BenchmarkAccumulator(), BenchmarkAccumulator()
    for i, (score_map, mask, score) in enumerate(zip(maps, masks, scores, strict=True)):
        whole.update(score_map, mask, score)
        (first if i % 3 else second).update(score_map, mask, score)
    first.merge(second)
    assert first.compute() == whole.compute()
    assert first.compute().to_dict() == whole.compute().to_dict()


def test_pickled_accumulator_merges_exactly() -> None:
    # what a worker process sends back
    maps, masks, _ = _dataset(n=4, seed=2)
    worker = PixelMetricAccumulator()
    worker.update(maps[0], masks[0])
    worker.update(maps[1], masks[1])
    main = PixelMetricAccumulator()
    main.update(maps[2:], masks[2:])
    main.merge(pickle.loads(pickle.dumps(worker)))
    assert main.compute() == pixel_metrics(maps, masks, binning=Binning())


def test_memory_does_not_grow_with_images() -> None:
    acc = PixelMetricAccumulator()
    maps, masks, _ = _dataset(n=2)
    acc.update(maps[0], masks[0])
    size = len(pickle.dumps(acc))
    for _ in range(20):
        acc.update(maps[1], masks[1])
    assert len(pickle.dumps(acc)) == size


def test_reset_forgets_counts() -> None:
    maps, masks, scores = _dataset(n=2)
    acc = BenchmarkAccumulator(Binning.linear(0.0, 255.0, n_bins=256))
    acc.update(maps[0], masks[0], scores[0])
    acc.reset()
    m = acc.compute()
    assert (m.image.n_images, m.pixel.n_pixels, m.pixel.auroc) == (0, 0, None)
    assert m.pixel.reasons["auroc"] == "no pixels"
    assert m.image.reasons["auroc"] == "no images"


def test_benchmark_accumulator_matches_sklearn(sklearn_metrics: Reference) -> None:
    maps, masks, scores = _dataset(n=8, seed=3)
    acc = BenchmarkAccumulator()
    for score_map, mask, score in zip(maps, masks, scores, strict=True):
        acc.update(score_map, mask, float(score))
    m = acc.compute()
    labels = masks.reshape(8, -1).any(axis=1)
    assert m.image.n_images == 8 and m.image.n_anomalous == 4
    assert m.image.auroc == pytest.approx(roc_auc_score(labels, scores), abs=EXACT)
    assert m.pixel.ap == pytest.approx(sklearn_metrics(maps, masks)["ap"], abs=EXACT)
    d = json.loads(json.dumps(m.to_dict(), allow_nan=False))
    assert d["image_auroc"] == m.image.auroc and d["pixel_fpr95"] == m.pixel.fpr95
    assert d["reasons"] == {} and d["binning"] == Binning().to_dict()


def test_benchmark_accumulator_reasons_with_normal_images_only() -> None:
    acc = BenchmarkAccumulator()
    acc.update(np.ones((4, 4), np.float32), np.zeros((4, 4), bool), 1.0)
    acc.update(np.zeros((4, 4), np.float32), np.zeros((4, 4), bool), 0.5)
    d = acc.compute().to_dict()
    assert d["image_auroc"] is None and d["pixel_auroc"] is None and d["pixel_ap"] is None
    assert d["reasons"]["image_auroc"] == "no anomalous images"
    assert d["reasons"]["pixel_ap"] == "no anomalous pixels"
    assert d["n_images"] == 2 and d["n_anomalous"] == 0 and d["n_pixels"] == 32


def test_image_accumulator_batches_and_scalars() -> None:
    rng = np.random.default_rng(4)
    scores = rng.normal(size=50)
    labels = rng.random(50) < 0.4
    acc, other = ImageMetricAccumulator(), ImageMetricAccumulator()
    acc.update(scores[:20], labels[:20])
    for score, label in zip(scores[20:], labels[20:], strict=True):
        other.update(float(score), bool(label))
    acc.merge(other)
    m = acc.compute()
    assert (m.n_images, m.n_anomalous) == (50, int(labels.sum()))
    assert m.auroc == pytest.approx(roc_auc_score(labels, scores), abs=EXACT)
    assert ImageMetricAccumulator().compute().auroc is None


def test_merge_rejects_other_bins_and_types() -> None:
    acc = PixelMetricAccumulator()
    with pytest.raises(ValueError, match="other must use the same binning"):
        acc.merge(PixelMetricAccumulator(Binning(n_bins=256)))
    with pytest.raises(TypeError, match="other must be a PixelMetricAccumulator, got Image"):
        acc.merge(ImageMetricAccumulator())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="binning must be a Binning or None, got dict"):
        PixelMetricAccumulator({"lo": 0})  # type: ignore[arg-type]


def test_curve_points_lie_on_scikit_learns_curves():
    from sklearn.metrics import precision_recall_curve, roc_curve

    from spacead.metrics import PixelMetricAccumulator

    rng = np.random.default_rng(5)
    scores = rng.integers(0, 256, (64, 64)).astype(np.uint8)
    labels = rng.random((64, 64)) < 0.1 + scores / 600
    acc = PixelMetricAccumulator()
    acc.update(scores, labels)
    pts = acc.curves(max_points=1000)  # more than the 256 distinct scores: every point kept
    fpr, tpr, _ = roc_curve(labels.ravel(), scores.ravel(), drop_intermediate=False)
    np.testing.assert_allclose(pts["fpr"], fpr, atol=1e-6)
    np.testing.assert_allclose(pts["tpr"], tpr, atol=1e-6)
    precision, recall, _ = precision_recall_curve(labels.ravel(), scores.ravel())
    np.testing.assert_allclose(pts["precision"][1:], precision[::-1][1:], atol=1e-6)
    np.testing.assert_allclose(pts["recall"][1:], recall[::-1][1:], atol=1e-6)
    assert len(acc.curves(max_points=16)["fpr"]) <= 17
    empty = PixelMetricAccumulator()
    empty.update(scores, np.zeros_like(labels))
    assert empty.curves() is None
