"""Benchmark runs: evaluation of a detector on a dataset, ablations and reports."""

from .._parallel import RunOptions, default_workers
from ._ablate import (
    Run,
    ablate,
    raw_step2,
    step_runs,
    sweep_runs,
    table_iii_runs,
    write_ablation_csv,
)
from ._benchmark import Benchmark, run_benchmark
from ._evaluate import Evaluation, evaluate
from ._outputs import save_map, summary_table, write_evaluation, write_metrics, write_predictions
from ._report import ReportError, load_runs, markdown_table, write_report
from ._result import EvaluationResult, Prediction

__all__ = [
    "Benchmark",
    "Evaluation",
    "EvaluationResult",
    "Prediction",
    "ReportError",
    "Run",
    "RunOptions",
    "ablate",
    "default_workers",
    "evaluate",
    "load_runs",
    "markdown_table",
    "raw_step2",
    "run_benchmark",
    "save_map",
    "step_runs",
    "summary_table",
    "sweep_runs",
    "table_iii_runs",
    "write_ablation_csv",
    "write_evaluation",
    "write_metrics",
    "write_predictions",
    "write_report",
]
