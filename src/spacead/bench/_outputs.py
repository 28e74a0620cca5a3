"""Evaluation outputs on disk: metrics.json, predictions.csv, maps/, and the summary table."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .._fileio import atomic_write_bytes, write_csv
from ._result import SUMMARY_KEYS

if TYPE_CHECKING:
    from ._evaluate import Evaluation
    from ._result import EvaluationResult


def save_map(path: Path, score_map: npt.NDArray[Any]) -> Path:
    """Save a float32 score map as ``.npy`` and, beside it, as a float32 ``.tif``, atomically.

    The TIFF (one float32 sample per pixel, zlib-compressed) opens in Fiji and
    QGIS; the ``.npy`` is what spacead reads back.
    """
    import tifffile

    data = np.asarray(score_map, dtype=np.float32)
    buf = io.BytesIO()
    np.save(buf, data)
    out = atomic_write_bytes(path, buf.getvalue())
    tif = io.BytesIO()
    tifffile.imwrite(tif, data, compression="zlib", photometric="minisblack")
    atomic_write_bytes(path.with_suffix(".tif"), tif.getvalue())
    return out


def write_metrics(path: Path, metrics: Mapping[str, Any]) -> Path:
    """Write ``metrics.json`` (sorted keys, indented)."""
    return atomic_write_bytes(path, (json.dumps(metrics, indent=2, sort_keys=True) + "\n").encode())


def write_predictions(path: Path, rows: Iterable[Any]) -> Path:
    """Write ``predictions.csv`` with columns image, label, score, predicted."""
    return write_csv(
        path,
        ["image", "label", "score", "predicted"],
        ([r.image, r.label, repr(float(r.score)), r.predicted] for r in rows),
    )


def write_evaluation(
    folder: str | os.PathLike[str], result: EvaluationResult | Evaluation, **extra: Any
) -> tuple[Path, Path]:
    """Write an evaluation's ``predictions.csv`` and ``metrics.json`` into ``folder``.

    Parameters
    ----------
    folder : path-like
        The output folder (made if missing).
    result : EvaluationResult or Evaluation
        What :func:`spacead.bench.evaluate` returned (or a plain record).
    **extra
        More top-level entries of ``metrics.json`` (``spacead evaluate`` records
        its settings as ``config``).

    Returns
    -------
    tuple of Path
        ``metrics.json`` and ``predictions.csv``.
    """
    out = Path(folder)
    predictions = write_predictions(out / "predictions.csv", result.predictions)
    return write_metrics(out / "metrics.json", {**result.metrics, **extra}), predictions


SUMMARY_COLUMNS = ("I.AUROC", "P.AUROC", "P.AP", "P.FPR95", "P.F1max", "P.AUPRO")


def _cell(value: float | None) -> str:
    return f"{'n/a' if value is None else format(100 * value, '.1f'):>8s}"


def summary_table(records: Iterable[Mapping[str, Any]], *, label_key: str = "method") -> str:
    """A one-screen table (metrics in percent) of one or more ``metrics.json`` records.

    Examples
    --------
    >>> head, row = summary_table([{"method": "mrad", "n_images": 4, "n_anomalous": 2,
    ...     "image_auroc": 0.75, "pixel_auroc": 0.9, "pixel_ap": 0.5, "pixel_fpr95": None,
    ...     "pixel_f1_max": 0.6, "pixel_aupro": 0.4, "images_per_second": 12.0}]).splitlines()
    >>> " ".join(head.split())
    'method images anom. I.AUROC P.AUROC P.AP P.FPR95 P.F1max P.AUPRO img/s'
    >>> row.split()
    ['mrad', '4', '2', '75.0', '90.0', '50.0', 'n/a', '60.0', '40.0', '12.0']
    """
    head = [
        f"{label_key:20s}",
        *(f"{c:>8s}" for c in ("images", "anom.", *SUMMARY_COLUMNS, "img/s")),
    ]
    lines = [" ".join(head)]
    for rec in records:
        speed = rec.get("images_per_second")
        cells = [
            f"{str(rec.get(label_key, ''))[:20]:20s}",
            f"{rec.get('n_images', 0):8d}",
            f"{rec.get('n_anomalous', 0):8d}",
            *(_cell(rec.get(k)) for k in SUMMARY_KEYS),
            f"{'n/a' if speed is None else format(speed, '.1f'):>8s}",
        ]
        lines.append(" ".join(cells))
    return "\n".join(lines)
