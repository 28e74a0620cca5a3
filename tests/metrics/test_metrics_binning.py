"""Binned metrics: exact on grid-valued maps, within 1e-3 on arbitrary floats."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from spacead.metrics import Binning, PixelMetricAccumulator, pixel_metrics

Reference = Callable[[Any, Any], dict[str, Any]]
EXACT = 1e-12
METRICS = ("auroc", "ap", "fpr95", "f1_max")


def _labels(shape: tuple[int, ...], seed: int, fraction: float = 0.05) -> np.ndarray:
    return np.random.default_rng(seed).random(shape) < fraction


def _check(m: Any, ref: dict[str, Any], tol: float) -> None:
    for name in METRICS:
        assert getattr(m, name) == pytest.approx(ref[name], abs=tol), name


def test_uint8_maps_are_exact(sklearn_metrics: Reference) -> None:
    rng = np.random.default_rng(0)
    labels = _labels((3, 40, 50), 1)
    maps = (rng.integers(0, 200, labels.shape) + 55 * labels).astype(np.uint8)
    m = pixel_metrics(maps, labels, binning=Binning())
    _check(m, sklearn_metrics(maps, labels), EXACT)
    assert m.f1_threshold in set(np.unique(maps).tolist())
    assert m.n_clamped_pixels == 0


def test_half_integer_float_maps_are_exact(sklearn_metrics: Reference) -> None:
    # MRAD maps: values k / 2 for integer k in [0, 510]
    rng = np.random.default_rng(2)
    labels = _labels((4, 30, 40), 3)
    k = rng.integers(0, 511, labels.shape)
    k[labels] = np.minimum(k[labels] + 60, 510)
    maps = (k / 2).astype(np.float32)
    acc = PixelMetricAccumulator()
    for score_map, mask in zip(maps, labels, strict=True):
        acc.update(score_map, mask)
    m = acc.compute()
    ref = sklearn_metrics(maps, labels)
    _check(m, ref, EXACT)
    assert m.f1_threshold is not None
    assert ref["f1_values"][m.f1_threshold] == pytest.approx(ref["f1_max"], abs=EXACT)


def test_all_65536_uint16_values_are_exact(sklearn_metrics: Reference) -> None:
    rng = np.random.default_rng(4)
    scores = rng.permutation(65536).astype(np.uint16)
    labels = rng.random(65536) < 0.5 * scores / 65535
    m = pixel_metrics(scores, labels, binning=Binning(lo=0, step=1, n_bins=65536))
    _check(m, sklearn_metrics(scores, labels), EXACT)


@pytest.mark.parametrize("seed", range(3))
def test_arbitrary_float_maps_within_1e_3(seed: int, sklearn_metrics: Reference) -> None:
    rng = np.random.default_rng(seed)
    labels = _labels((4, 100, 100), seed + 10, fraction=0.02)
    maps = np.clip(rng.normal(60.0, 25.0, labels.shape) + 40.0 * labels, 0, 255)
    acc = PixelMetricAccumulator()
    for score_map, mask in zip(maps.astype(np.float32), labels, strict=True):
        acc.update(score_map, mask)
    _check(acc.compute(), sklearn_metrics(maps.astype(np.float32), labels), 1e-3)


def test_linear_bins_for_unit_range_scores_within_1e_3(sklearn_metrics: Reference) -> None:
    rng = np.random.default_rng(5)
    labels = _labels((50_000,), 6, fraction=0.1)
    scores = rng.beta(2, 5, labels.shape) + 0.2 * labels * rng.random(labels.shape)
    m = pixel_metrics(scores, labels, binning=Binning.linear(0.0, 1.2))
    _check(m, sklearn_metrics(scores, labels), 1e-3)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4097, 10_001])
def test_binned_metrics_are_exact_metrics_of_the_quantised_scores(n: int) -> None:
    # the compiled kernel against Binning.bin_index (NumPy), clamped scores included
    rng = np.random.default_rng(n)
    binning = Binning(lo=-1.0, step=0.01, n_bins=300)
    scores = rng.normal(0.5, 1.5, n)
    labels = rng.random(n) < 0.3
    labels[: min(n, 1)] = True
    quantised = binning.centres()[binning.bin_index(scores)]
    binned = pixel_metrics(scores, labels, binning=binning)
    exact = pixel_metrics(quantised, labels)
    for name in (*METRICS, "f1_threshold", "n_pixels", "n_anomalous_pixels"):
        assert getattr(binned, name) == pytest.approx(getattr(exact, name), abs=EXACT), name
    expected_clamped = int(np.sum((scores < -1.005) | (scores >= binning.hi + 0.005)))
    assert binned.n_clamped_pixels == expected_clamped


def test_out_of_range_scores_are_clamped_and_counted() -> None:
    scores = np.array([-5.0, 0.0, 100.0, 300.0, 1e30])
    labels = np.array([False, False, True, True, True])
    m = pixel_metrics(scores, labels, binning=Binning())
    assert (m.n_clamped_pixels, m.auroc, m.f1_threshold) == (3, 1.0, 100.0)
    # 300 and 1e30 are clamped into the top bin and tie there: order is lost
    scores = np.array([-5.0, 300.0, 1e30])
    labels = np.array([False, True, False])
    assert pixel_metrics(scores, labels).auroc == 0.5
    clamped = pixel_metrics(scores, labels, binning=Binning())
    assert (clamped.auroc, clamped.n_clamped_pixels) == (0.75, 3)
    assert clamped.f1_threshold == Binning().hi


def test_bin_centres_and_indices() -> None:
    b = Binning()
    assert (b.lo, b.step, b.n_bins, b.hi) == (0.0, 1 / 256, 65536, 255.99609375)
    values = np.arange(511) / 2
    np.testing.assert_array_equal(b.centres()[b.bin_index(values)], values)
    assert b.to_dict() == {"lo": 0.0, "step": 1 / 256, "n_bins": 65536}
    lin = Binning.linear(-2.0, 2.0, n_bins=5)
    np.testing.assert_array_equal(lin.centres(), [-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(lin.bin_index([-9.0, -1.49, -1.51, 2.49, 9.0]), [0, 1, 0, 4, 4])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"step": 0.0}, ValueError, r"step must be finite and > 0, got 0\.0"),
        ({"step": -1.0}, ValueError, "step must be finite and > 0"),
        ({"lo": float("nan")}, ValueError, "lo must be finite, got nan"),
        ({"n_bins": 1}, ValueError, r"n_bins must be in \[2, 16777216\], got 1"),
        ({"n_bins": 2**25}, ValueError, "n_bins must be in"),
        ({"n_bins": 10.0}, TypeError, "n_bins must be an integer, got 10.0"),
        ({"n_bins": True}, TypeError, "n_bins must be an integer"),
        ({"lo": "0"}, TypeError, "lo must be a real number, got '0'"),
        (
            {"lo": 1e308, "step": 1e305},
            ValueError,
            "lo \\+ \\(n_bins - 1\\) \\* step must be finite",
        ),
    ],
)
def test_invalid_binning(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        Binning(**kwargs)


def test_invalid_linear_binning() -> None:
    with pytest.raises(ValueError, match=r"hi must be finite and > lo = 1\.0, got 1\.0"):
        Binning.linear(1.0, 1.0)
    with pytest.raises(ValueError, match="n_bins must be an integer >= 2, got 1"):
        Binning.linear(0.0, 1.0, n_bins=1)


@pytest.mark.parametrize("dtype", ["uint8", "int16", "int32", "uint16", "float16", ">f4", "<f8"])
def test_every_real_dtype_and_layout_bins_alike(dtype: str) -> None:
    rng = np.random.default_rng(8)
    labels = _labels((30, 40), 9, fraction=0.2)
    values = rng.integers(0, 200, labels.shape) + 50 * labels
    expected = pixel_metrics(values.astype(np.uint8), labels, binning=Binning())
    scores = values.astype(dtype)
    acc = PixelMetricAccumulator()
    acc.update(scores.T, labels.T)  # Fortran-ordered views
    assert acc.compute() == expected
    assert pixel_metrics(scores, labels) == dataclasses.replace(expected, binning=None)
