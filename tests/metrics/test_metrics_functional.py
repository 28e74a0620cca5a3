"""Pure metric functions against scikit-learn (exact path and binned path)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from sklearn.metrics import roc_curve

from spacead.metrics import (
    Binning,
    F1Max,
    auroc,
    average_precision,
    f1_max,
    fpr_at_tpr,
    pixel_metrics,
)

EXACT = 1e-12
Reference = Callable[[Any, Any], dict[str, Any]]
Case = tuple[npt.NDArray[np.generic], npt.NDArray[np.bool_]]


def _random(n: int, seed: int, pos_fraction: float = 0.3) -> Case:
    rng = np.random.default_rng(seed)
    labels = rng.random(n) < pos_fraction
    scores = rng.normal(0.0, 1.0, n) + 1.2 * labels
    return scores, labels


def _adversarial() -> dict[str, Case]:
    rng = np.random.default_rng(7)
    n = 5000
    ties = rng.integers(0, 4, n).astype(np.float64)
    tiny = rng.random(n) < 5e-3
    single = np.zeros(n, dtype=bool)
    single[123] = True
    constant_labels = rng.random(n) < 0.4
    return {
        "heavy ties": (ties, rng.random(n) < 0.2 + 0.2 * ties / 3),
        "constant scores": (np.full(n, 5.0), constant_labels),
        "single positive pixel": (rng.random(n), single),
        "tiny positive fraction": (rng.random(n) + 0.3 * tiny, tiny | single),
        "positives lowest": (np.arange(n, dtype=np.float64), np.arange(n) < 10),
        "positives highest, negative scores": (-np.arange(n) * 1e6, np.arange(n) < 10),
        "two values": (rng.integers(0, 2, n).astype(np.float32), rng.random(n) < 0.5),
    }


def _assert_matches(
    reference: Reference,
    scores: npt.NDArray[np.generic],
    labels: npt.NDArray[np.bool_],
    tol: float,
    binning: Binning | None = None,
) -> None:
    ref = reference(scores, labels)
    m = pixel_metrics(scores, labels, binning=binning)
    assert m.auroc == pytest.approx(ref["auroc"], abs=tol)
    assert m.ap == pytest.approx(ref["ap"], abs=tol)
    assert m.fpr95 == pytest.approx(ref["fpr95"], abs=tol)
    assert m.f1_max == pytest.approx(ref["f1_max"], abs=tol)
    assert m.n_pixels == labels.size
    assert m.n_anomalous_pixels == int(labels.sum())
    # flat arrays of pixels have no regions, so only AUPRO may be undefined
    assert {k: v for k, v in m.reasons.items() if k != "aupro"} == {}
    if labels.ndim == 1:
        assert m.aupro is None and m.reasons["aupro"].startswith("regions need images")
    # the single-metric functions are the same computation
    assert auroc(scores, labels, binning=binning) == m.auroc
    assert average_precision(scores, labels, binning=binning) == m.ap
    assert fpr_at_tpr(scores, labels, binning=binning) == m.fpr95
    f1 = f1_max(scores, labels, binning=binning)
    assert f1 is not None
    assert (f1.f1, f1.threshold) == (m.f1_max, m.f1_threshold)


@pytest.mark.parametrize("seed", range(4))
def test_random_scores_equal_sklearn(seed: int, sklearn_metrics: Reference) -> None:
    scores, labels = _random(3000 + 977 * seed, seed)
    _assert_matches(sklearn_metrics, scores, labels, EXACT)


@pytest.mark.parametrize("name", sorted(_adversarial()))
def test_adversarial_scores_equal_sklearn(name: str, sklearn_metrics: Reference) -> None:
    scores, labels = _adversarial()[name]
    _assert_matches(sklearn_metrics, scores, labels, EXACT)


def test_f1_threshold_is_sklearns_best_threshold(sklearn_metrics: Reference) -> None:
    scores, labels = _random(4000, 11)
    scores = np.round(scores, 1)  # ties
    ref = sklearn_metrics(scores, labels)
    best = f1_max(scores, labels)
    assert best is not None
    assert ref["f1_values"][best.threshold] == pytest.approx(ref["f1_max"], abs=EXACT)
    assert best.threshold in np.unique(scores)


def test_fpr_at_tpr_is_the_lowest_fpr_reaching_the_tpr() -> None:
    scores, labels = _random(5000, 3)
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    for target in (0.05, 0.5, 0.95, 1.0):
        expected = float(fpr[tpr >= target].min())
        assert fpr_at_tpr(scores, labels, tpr=target) == pytest.approx(expected, abs=EXACT)


def test_hand_made_values() -> None:
    scores = np.array([0.1, 0.4, 0.35, 0.8])
    labels = np.array([False, False, True, True])
    assert auroc(scores, labels) == 0.75
    assert average_precision(scores, labels) == pytest.approx(5 / 6, abs=EXACT)
    assert fpr_at_tpr(scores, labels) == 0.5
    assert f1_max(scores, labels) == F1Max(0.8, 0.35)


def test_f1_ties_go_to_the_highest_threshold() -> None:
    # F1 is 2/3 at threshold 4 and at threshold 1
    best = f1_max(np.array([4, 3, 2, 1]), np.array([True, False, False, True]))
    assert best == F1Max(pytest.approx(2 / 3, abs=EXACT), 4.0)


def test_constant_scores_give_chance_values() -> None:
    labels = np.array([True, False, False, True, False])
    scores = np.full(5, 2.5, dtype=np.float32)
    assert auroc(scores, labels) == 0.5
    assert average_precision(scores, labels) == pytest.approx(0.4, abs=EXACT)
    assert fpr_at_tpr(scores, labels) == 1.0
    assert f1_max(scores, labels) == F1Max(pytest.approx(4 / 7, abs=EXACT), 2.5)


def test_results_are_python_floats() -> None:
    scores, labels = _random(100, 0)
    for value in (
        auroc(scores, labels),
        average_precision(scores, labels),
        fpr_at_tpr(scores, labels),
    ):
        assert type(value) is float
    best = f1_max(scores, labels)
    assert best is not None
    assert type(best.f1) is float and type(best.threshold) is float


@pytest.mark.parametrize("binning", [None, Binning()])
def test_one_class_is_none_not_an_exception(binning: Binning | None) -> None:
    scores = np.arange(6, dtype=np.uint8)
    normal = np.zeros(6, dtype=bool)
    anomalous = np.ones(6, dtype=bool)
    for fn in (auroc, fpr_at_tpr, average_precision, f1_max):
        assert fn(scores, normal, binning=binning) is None
    assert auroc(scores, anomalous, binning=binning) is None
    assert fpr_at_tpr(scores, anomalous, binning=binning) is None
    # precision needs no normal pixel: all anomalous gives AP = F1 = 1
    assert average_precision(scores, anomalous, binning=binning) == 1.0
    assert f1_max(scores, anomalous, binning=binning) == F1Max(1.0, 0.0)


def test_empty_input_is_undefined() -> None:
    m = pixel_metrics(np.zeros((0, 4), np.float32), np.zeros((0, 4), bool), binning=Binning())
    assert (m.n_pixels, m.auroc, m.ap) == (0, None, None)
    assert m.reasons["ap"] == "no pixels"
    assert pixel_metrics(np.zeros(0), np.zeros(0, bool)).reasons["auroc"] == "no pixels"


def test_pixel_metrics_reasons() -> None:
    scores = np.array([[1.0, 2.0], [3.0, 4.0]])
    all_normal = pixel_metrics(scores, np.zeros((2, 2), bool)).to_dict()
    assert all_normal["pixel_ap"] is None
    assert all_normal["reasons"]["pixel_ap"] == "no anomalous pixels"
    all_anomalous = pixel_metrics(scores, np.ones((2, 2), bool))
    assert all_anomalous.auroc is None and all_anomalous.fpr95 is None
    assert dict(all_anomalous.reasons) == {
        "auroc": "no normal pixels", "fpr95": "no normal pixels", "aupro": "no normal pixels"
    }  # fmt: skip
    assert all_anomalous.aupro is None
    assert all_anomalous.ap == 1.0
