"""Benchmark runs: evaluation of a detector on a dataset, ablations and reports."""

from ._ablate import Run, ablate, table_iii_runs, write_ablation_csv
from ._evaluate import Evaluation, Prediction, default_workers, evaluate
from ._outputs import save_map, summary_table, write_metrics, write_predictions
from ._report import ReportError, load_runs, markdown_table, write_report

__all__ = [
    "Evaluation",
    "Prediction",
    "ReportError",
    "Run",
    "ablate",
    "default_workers",
    "evaluate",
    "load_runs",
    "markdown_table",
    "save_map",
    "summary_table",
    "table_iii_runs",
    "write_ablation_csv",
    "write_metrics",
    "write_predictions",
    "write_report",
]
