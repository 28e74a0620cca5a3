"""Bad input: a clear error naming the argument, and nothing counted."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from spacead.metrics import (
    BenchmarkAccumulator,
    Binning,
    ImageMetricAccumulator,
    ImageMetrics,
    PixelMetricAccumulator,
    PixelMetrics,
    auroc,
    fpr_at_tpr,
    pixel_metrics,
)

MAP = np.arange(16, dtype=np.float32).reshape(4, 4)
MASK = MAP > 12


def test_shape_mismatch() -> None:
    acc = PixelMetricAccumulator()
    with pytest.raises(
        ValueError, match=r"gt_mask must have the same shape as score_map \(4, 4\), got \(4, 5\)"
    ):
        acc.update(MAP, np.zeros((4, 5), bool))
    with pytest.raises(ValueError, match=r"labels must have the same shape as scores \(3,\)"):
        auroc(np.zeros(3), np.zeros(4, bool))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_nonfinite_scores_count_nothing(bad: float, dtype: type) -> None:
    acc = PixelMetricAccumulator()
    acc.update(MAP, MASK)
    before = acc.compute()
    scores = MAP.astype(dtype)
    scores[1, 2] = bad
    with pytest.raises(ValueError, match=r"score_map must hold finite scores, got 1 NaN or inf"):
        acc.update(scores, MASK)
    assert acc.compute() == before
    with pytest.raises(ValueError, match="scores must hold finite scores"):
        auroc(scores, MASK)
    with pytest.raises(ValueError, match="score_maps must hold finite scores"):
        pixel_metrics(scores, MASK, binning=Binning())


@pytest.mark.parametrize(
    ("scores", "dtype_name"),
    [(MAP > 3, "bool"), (MAP.astype(np.complex64), "complex64"), (np.array(["a"] * 16), "<U1")],
)
def test_wrong_score_dtype(scores: np.ndarray, dtype_name: str) -> None:
    match = f"score_map must hold integer or floating-point scores, got dtype {dtype_name}"
    with pytest.raises(TypeError, match=match):
        PixelMetricAccumulator().update(scores.reshape(4, 4), MASK)


@pytest.mark.parametrize("mask", [MASK.astype(np.uint8), MASK.astype(np.uint8) * 2, MAP])
def test_masks_must_be_boolean(mask: np.ndarray) -> None:
    with pytest.raises(TypeError, match=r"gt_mask must be a boolean array .*mask == 2"):
        PixelMetricAccumulator().update(MAP, mask)
    with pytest.raises(TypeError, match="labels must be a boolean array"):
        auroc(MAP, mask)


@pytest.mark.parametrize(
    ("tpr", "error"), [(0.0, ValueError), (1.5, ValueError), (True, TypeError)]
)
def test_invalid_target_tpr(tpr: float, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"tpr must be .*\(0, 1\], got"):
        fpr_at_tpr(MAP, MASK, tpr=tpr)


def test_benchmark_update_checks_everything_first() -> None:
    acc = BenchmarkAccumulator()
    with pytest.raises(ValueError, match="image_score must hold finite scores"):
        acc.update(MAP, MASK, float("nan"))
    with pytest.raises(ValueError, match=r"image_score must be one number, got shape \(2,\)"):
        acc.update(MAP, MASK, np.array([1.0, 2.0]))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="image_score must hold integer or floating-point"):
        acc.update(MAP, MASK, "high")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"score_map must have shape \(H, W\), got \(1, 4, 4\)"):
        acc.update(MAP[None], MASK[None], 1.0)
    with pytest.raises(ValueError, match="score_map must hold finite scores"):
        acc.update(np.where(MASK, np.nan, MAP), MASK, 1.0)
    m = acc.compute()
    assert (m.image.n_images, m.pixel.n_pixels) == (0, 0)


def test_image_labels_must_be_boolean() -> None:
    with pytest.raises(TypeError, match="label must be a boolean array"):
        ImageMetricAccumulator().update(0.5, 1)


def test_results_are_frozen_json_and_validated() -> None:
    m = pixel_metrics(MAP, MASK)
    d = m.to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert set(d) == {
        "n_pixels", "n_anomalous_pixels", "pixel_auroc", "pixel_ap", "pixel_fpr95", "pixel_aupro",
        "pixel_f1_max", "pixel_f1_threshold", "n_clamped_pixels", "binning", "reasons",
    }  # fmt: skip
    assert d["binning"] is None and d["pixel_auroc"] == 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.auroc = 0.5  # type: ignore[misc]
    with pytest.raises(TypeError):
        m.reasons["auroc"] = "edited"  # type: ignore[index]
    with pytest.raises(ValueError, match="auroc is None, so reasons must explain why"):
        ImageMetrics(n_images=3, n_anomalous=1, auroc=None)
    with pytest.raises(ValueError, match=r"auroc must be in \[0, 1\] or None, got 1.5"):
        ImageMetrics(n_images=3, n_anomalous=1, auroc=1.5)
    with pytest.raises(ValueError, match=r"auroc = 0\.5 is defined but has a reason"):
        ImageMetrics(n_images=3, n_anomalous=1, auroc=0.5, reasons={"auroc": "why"})
    with pytest.raises(ValueError, match=r"n_anomalous_pixels must be in \[0, n_pixels = 2\]"):
        PixelMetrics(2, 3, 0.5, 0.5, 0.5, 0.5, 1.0)
