"""The paper's experiment end to end: generate a dataset, evaluate RXD, PAD and MRAD, report."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .._extras import OfflineModelError, require
from .._parallel import RunOptions, run_options, warming_workers
from ..simulate import GenerateConfig, generate
from ._evaluate import evaluate
from ._outputs import write_evaluation, write_metrics
from ._report import write_report
from ._warm import compile_evaluation

BASELINES = ("rxd", "pad", "mrad")
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Benchmark:
    """What :func:`run_benchmark` made.

    Attributes
    ----------
    data : Path
        The generated dataset.
    runs : tuple of Path
        One results folder per method (``metrics.json``, ``predictions.csv``,
        ``masks/``), RXD, PAD, MRAD, then the learned models.
    report : Path
        ``report.html``, beside ``report.md``.
    skipped : mapping of str to str
        Each learned method that cannot run offline, and why (its folder's
        ``metrics.json`` records the reason).
    """

    data: Path
    runs: tuple[Path, ...]
    report: Path
    skipped: Mapping[str, str]


def run_benchmark(
    out: str | os.PathLike[str],
    dataset: GenerateConfig | None = None,
    *,
    learned: Sequence[str] = (),
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    run: RunOptions | None = None,
) -> Benchmark:
    """Generate a dataset, evaluate RXD, PAD, MRAD (and anomalib models), write a report.

    Re-running on the same ``out`` resumes the generation (same settings) and
    evaluates again.

    Parameters
    ----------
    out : path-like
        Output folder: ``data/`` (the dataset), ``results/<method>/`` (one
        evaluation each; ``results/anomalib_<model>/`` for learned ones) and
        ``report/report.html``.
    dataset : GenerateConfig, optional
        What to generate; default ``GenerateConfig(train=0)`` (no training
        images: RXD, PAD and MRAD need none).
    learned : sequence of str
        anomalib models to train on the train split and evaluate too
        (``"padim"``, ``"patchcore"``; the ``anomalib`` extra). A model that
        cannot run offline is recorded in :attr:`Benchmark.skipped`.
    workers, scheduler : optional
        As :func:`spacead.simulate.generate` and :func:`evaluate`.
    progress : bool
        Show progress bars.
    run : RunOptions, optional
        ``workers``, ``scheduler``, ``progress`` and the compute threads in one
        value (give it or those keywords, not both).

    Returns
    -------
    Benchmark

    Raises
    ------
    ValueError
        If learned models are asked for without training images.
    ImportError
        If they are asked for without the ``anomalib`` extra (before anything runs).
    """
    out = Path(out)
    config = dataset if dataset is not None else GenerateConfig(train=0)
    if learned and config.train < 1:
        raise ValueError(f"learned models need training images, got train={config.train}")
    if learned:
        require("anomalib")  # before generating and evaluating anything
    options = run_options(run, workers=workers, scheduler=scheduler, progress=progress)
    warm = functools.partial(compile_evaluation, BASELINES)  # nothing once kernels are cached
    with warming_workers(warm):
        data = generate(out / "data", config, run=options)
    runs = []
    for method in BASELINES:
        folder = out / "results" / method
        result = evaluate(
            data,
            method,
            maps_dir=folder / "maps" if method == "mrad" else None,
            masks_dir=folder / "masks",  # every method's masks: the report compares them
            run=options,
        )
        write_evaluation(folder, result)
        runs.append(folder)
    skipped: dict[str, str] = {}
    for model in learned:
        method, folder = f"anomalib:{model}", out / "results" / f"anomalib_{model}"
        try:
            learned_run = RunOptions(threads=options.threads, quiet=options.quiet)
            write_evaluation(folder, evaluate(data, method, run=learned_run))
        except OfflineModelError as exc:
            _LOG.info("skipped %s: %s", method, exc)
            write_metrics(folder / "metrics.json", {"method": method, "unavailable": str(exc)})
            skipped[method] = str(exc)
        runs.append(folder)
    report = write_report(runs, out / "report")
    return Benchmark(data, tuple(runs), report, skipped)
