"""Fixtures of the metrics tests: scikit-learn as the independent reference."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)


def reference(scores: Any, labels: Any) -> dict[str, Any]:
    """scikit-learn's values of the pixel metrics for pooled scores and labels.

    Needs both classes. ``f1_values`` maps each threshold to scikit-learn's F1 there.
    """
    s = np.asarray(scores).ravel()
    y = np.asarray(labels).ravel()
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    precision, recall, thresholds = precision_recall_curve(y, s)
    p, r = precision[:-1], recall[:-1]
    denom = p + r
    f1 = np.divide(2 * p * r, denom, out=np.zeros_like(denom), where=denom > 0)
    return {
        "auroc": float(roc_auc_score(y, s)),
        "ap": float(average_precision_score(y, s)),
        "fpr95": float(fpr[np.argmax(tpr >= 0.95)]),
        "f1_max": float(f1.max()),
        "f1_values": dict(zip(thresholds.tolist(), f1.tolist(), strict=True)),
    }


@pytest.fixture
def sklearn_metrics() -> Callable[[Any, Any], dict[str, Any]]:
    """scikit-learn's metrics of pooled scores and labels, see :func:`reference`."""
    return reference
