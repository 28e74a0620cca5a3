"""Compile the evaluation's kernels ahead of time, while a dataset is still being generated.

On the first run after an install numba compiles every kernel on first use: the
renderer's while ``generate`` starts, the detectors' and metrics' while
``evaluate`` starts, each in every process at once. ``spacead bench`` runs both
steps back to back, so while this process compiles the renderer its worker
processes compile what evaluation will need instead (:func:`compile_evaluation`,
through :func:`spacead._parallel.warming_workers`), then render from the
renderer kernels this process has cached meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._first_run import kernels_cached
from ..detect import make_detector
from ..metrics import BenchmarkAccumulator
from ._chunks import _binning, _forward, pixel_transform


def compile_evaluation(methods: Sequence[str]) -> None:
    """Run each statistical detector of ``methods`` and its metrics once on a small pair.

    Nothing happens where spacead's kernels are already cached. The pair is a
    lit gradient with a bright square in the query (54 x 96 RGB, ``uint8``, as
    images are read), so MRAD grows a region and every step compiles; numba
    compiles per argument type, not per image size.
    """
    if kernels_cached():
        return
    y, x = np.mgrid[0:54, 0:96]
    reference = np.repeat((40 + x + y)[..., None], 3, axis=2).astype(np.uint8)
    query = reference.copy()
    query[20:34, 40:60] = 230
    anomaly = np.zeros((54, 96), bool)
    anomaly[20:34, 40:60] = True
    for method in methods:
        detector = make_detector(method)
        accumulator = BenchmarkAccumulator(_binning(method))
        for frame, truth in ((query, anomaly), (reference, np.zeros_like(anomaly))):
            det = detector(frame, reference)
            transformed = _forward(pixel_transform(method), det.score_map)
            accumulator.update(transformed, truth, det.image_score)
        accumulator.compute()
