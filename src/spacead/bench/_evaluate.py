"""Run a detector over a dataset split and compute the ALLO benchmark metrics.

:func:`evaluate` prepares the detector and the items (:func:`_prepare`), runs
them in chunks (:mod:`._chunks`, here :func:`_collect`) and types what came back
(:func:`_result`) as an :class:`EvaluationResult`.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from .. import __version__
from .._extras import require
from .._parallel import RunOptions, default_workers, run_options
from ..data import TRANSFORMS, AlloDataset, FrameSpec, Item, Problem, read_transforms
from ..detect import Detector, DetectorParams, LearnedDetector, detector_spec, fit_detector
from ..metrics import BenchmarkAccumulator
from ._chunks import (
    _CHUNK,
    _binning,
    _inverse,
    _Partials,
    _run,
    _Stream,
    file_stamp,
    pixel_transform,
)
from ._result import EvaluationResult, Prediction

if TYPE_CHECKING:  # the reference pipeline renders
    from ..reference import ReferenceParams, RenderedReferences

REFERENCE_MODES = ("files", "render")
__all__ = [
    "REFERENCE_MODES",
    "Evaluation",
    "_Stream",
    "as_float_map",
    "evaluate",
    "pixel_transform",
]


@dataclass(frozen=True)
class Evaluation:
    """A ``metrics.json`` record with its predictions, for :func:`write_evaluation`.

    :func:`evaluate` returns the typed :class:`EvaluationResult`; this plain
    container writes any record (one a caller made up, say) the same way.

    Attributes
    ----------
    metrics : dict
        The content of ``metrics.json``.
    predictions : list of Prediction
        One row per evaluated image, in dataset order.
    problems : list of Problem
        Every file that could not be used, and why.
    """

    metrics: dict[str, Any]
    predictions: list[Prediction]
    problems: list[Problem]


@dataclass(frozen=True)
class _Setup:
    """What an evaluation runs: the detector, the items, where its outputs go."""

    root: Path
    method: str
    split: str
    params: DetectorParams  # the method's parameter class (its spec says which)
    detector: Detector
    learned: LearnedDetector | None
    workers: int
    run: RunOptions
    dataset: AlloDataset
    items: tuple[Item, ...]
    mode: str | None
    rendered: tuple[RenderedReferences, dict[str, FrameSpec]] | None
    maps: Path | None
    masks: Path | None
    resume: bool


@dataclass
class _Tally:
    """What the chunks brought back, merged."""

    accumulator: BenchmarkAccumulator
    problems: list[Problem]
    rows: list[tuple[int, Prediction]] = field(default_factory=list)
    made: list[dict[str, Any]] = field(default_factory=list)
    thresholded: int = 0
    seconds: float = 0.0


def evaluate(
    root: str | os.PathLike[str],
    method: str,
    *,
    split: str = "test",
    params: DetectorParams | None = None,
    maps_dir: str | os.PathLike[str] | None = None,
    masks_dir: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    strict: bool = False,
    progress: bool = True,
    resume_dir: str | os.PathLike[str] | None = None,
    references: str | None = None,
    reference_params: ReferenceParams | None = None,
    run: RunOptions | None = None,
    cad_outside: bool = False,
) -> EvaluationResult:
    """Evaluate a detector on one split of an ALLO-layout dataset.

    Parameters
    ----------
    root : path-like
        Dataset root (see :class:`spacead.data.AlloDataset`).
    method : str
        A registered detector (:func:`spacead.detect.detector_names`): ``"mrad"``,
        ``"pad"``, ``"rxd"``, or a learned one, first trained in this process on the
        normal images of the ``train`` split (:func:`spacead.detect.fit_detector`):
        ``"inpaint"`` the completion network
        (:func:`spacead.models.inpaint.train_inpaint_detector`), ``"anomalib:<model>"``
        that anomalib model (:func:`spacead.models.anomalib.train_anomalib`; needs the
        ``anomalib`` extra).
    split : str
        Split to evaluate.
    params : optional
        The method's parameters (its spec's parameter class); its defaults if omitted.
    maps_dir : path-like, optional
        Save every pixel score map as ``<maps_dir>/<Camera k>/<name>.npy`` (float32).
    masks_dir : path-like, optional
        Save every predicted mask as ``<masks_dir>/<Camera k>/<name>.png`` (0/255).
    workers : int, optional
        Worker processes (default: one per core); 1 runs in this process.
    scheduler : str, optional
        Dask scheduler address, or ``"local"`` for a local Dask cluster (see
        :func:`spacead._parallel.run_tasks`); results are identical either way.
    strict : bool
        Raise on the first unusable file instead of reporting it.
    progress : bool
        Show a progress bar (images/s) on stderr.
    run : RunOptions, optional
        ``workers``, ``scheduler`` and ``progress`` in one value, and the compute
        threads; give it or those keywords, not both.
    cad_outside : bool
        Render from a ``cad`` model outside ``root``
        (:func:`spacead.data.read_transforms`).
    resume_dir : path-like, optional
        Keep finished chunks here while running; an interrupted run with the
        same settings resumes from them. Removed when the evaluation completes.
    references : {"files", "render"}, optional
        For MRAD and PAD: the split's ``references/`` files, or references
        rendered now from the CAD model and poses of ``ROOT/transforms.json``
        (:class:`spacead.reference.ReferencePipeline`). Default: the files if
        the split has any, else rendered if ``transforms.json`` exists.
    reference_params : ReferenceParams, optional
        How rendered references are made.

    Returns
    -------
    EvaluationResult
        The metrics, the problems, timing and provenance, and the predictions;
        its ``extra`` holds the pixel-score binning and, for learned models, the
        training record (time per image, whether the backbone was pretrained, a
        note). ``to_dict()`` is the content of ``metrics.json``.

    Raises
    ------
    spacead.models.anomalib.OfflineModelError
        If an anomalib model would need a download.
    """
    options = run_options(run, workers=workers, scheduler=scheduler, progress=progress)
    with options.thread_limit():
        setup = _prepare(
            Path(root),
            method,
            split,
            params,
            options,
            strict=strict,
            references=references,
            reference_params=reference_params,
            maps=None if maps_dir is None else Path(maps_dir),
            masks=None if masks_dir is None else Path(masks_dir),
            cad_outside=cad_outside,
        )
        resume = None if resume_dir is None or not setup.resume else Path(resume_dir)
        return _result(setup, _collect(setup, resume))


def _detector(
    method: str, root: Path, params: DetectorParams | None, run: RunOptions
) -> tuple[DetectorParams, Detector, LearnedDetector | None, int]:
    """The checked parameters, the detector (trained first if learned) and the workers."""
    spec = detector_spec(method)
    if spec.extra is not None:
        require(spec.extra)
    params = spec.check_params(method, params)
    if spec.learned:
        if run.scheduler is not None:
            raise ValueError(f"{method} trains and runs in this process; drop --scheduler")
        learned = fit_detector(method, root, params, progress=run.progress)
        return params, learned, learned, 1  # the model lives in this process
    n_workers = default_workers() if run.workers is None else run.workers
    if n_workers < 1:
        raise ValueError(f"workers must be >= 1, got {n_workers}")
    return params, _Stream(method, params), None, n_workers


def _prepare(
    root: Path,
    method: str,
    split: str,
    params: DetectorParams | None,
    run: RunOptions,
    *,
    strict: bool,
    references: str | None,
    reference_params: ReferenceParams | None,
    maps: Path | None,
    masks: Path | None,
    cad_outside: bool = False,
) -> _Setup:
    """The detector, and the items to run it on (those with a frame, when rendering)."""
    params, detector, learned, n_workers = _detector(method, root, params, run)
    spec = detector_spec(method)
    mode = _reference_mode(root, split, references) if spec.needs_reference else None
    dataset = AlloDataset(root, split, need_reference=mode == "files", strict=strict)
    items, rendered = list(dataset.items), None
    if mode == "render":
        source, frames, items = _rendered_references(root, dataset, reference_params, cad_outside)
        rendered = (source, frames)
    return _Setup(
        root,
        method,
        split,
        params,
        detector,
        learned,
        n_workers,
        run,
        dataset,
        tuple(items),
        mode,
        rendered,
        maps,
        masks,
        resume=learned is None,
    )


def _partials(setup: _Setup, folder: Path) -> _Partials:
    """Finished chunks of an earlier run with the same settings, kept in `folder`."""
    fingerprint = {
        "method": setup.method,
        "params": setup.params.to_dict(),
        "split": setup.split,
        "items": [i.relpath for i in setup.items],
        "chunk": _CHUNK,
        "references": setup.mode,
        "reference_params": setup.rendered[0].params.to_dict() if setup.rendered else None,
        "cad": file_stamp(setup.rendered[0].cad) if setup.rendered else None,
        "spacead": __version__,
    }
    return _Partials(folder, fingerprint)


def _collect(setup: _Setup, resume: Path | None) -> _Tally:
    """Run every chunk (resuming from `resume`), merge what they return, time it."""
    tally = _Tally(BenchmarkAccumulator(_binning(setup.method)), list(setup.dataset.problems))
    start = time.perf_counter()
    bar = tqdm(
        total=len(setup.items),
        unit="img",
        desc=f"evaluate {setup.method}",
        file=sys.stderr,
        disable=not setup.run.progress,
        dynamic_ncols=True,
    )
    partials = _partials(setup, resume) if resume is not None else None
    parts = _run(
        setup.method,
        setup.detector,
        setup.items,
        setup.maps,
        setup.masks,
        setup.workers,
        setup.run.scheduler,
        partials,
        setup.rendered,
    )
    for part in parts:
        tally.accumulator.merge(part.accumulator)
        tally.rows += part.rows
        tally.made += part.references
        tally.thresholded += part.thresholded_masks
        for problem in part.problems:
            setup.dataset.report(problem)  # raises under strict
            tally.problems.append(problem)
        bar.update(len(part.rows) + len(part.problems))
    bar.close()
    tally.seconds = time.perf_counter() - start
    if partials is not None:
        partials.remove()
    tally.rows.sort(key=lambda r: r[0])
    return tally


def _result(setup: _Setup, tally: _Tally) -> EvaluationResult:
    """The typed result: the accumulated metrics, then provenance and timing."""
    acc, n_done, seconds = tally.accumulator, len(tally.rows), tally.seconds
    result = EvaluationResult.from_dict(acc.compute().to_dict() if n_done else _empty_metrics())
    transform = pixel_transform(setup.method)
    if transform != "identity" and result.pixel_f1_threshold is not None:
        threshold = _inverse(transform, result.pixel_f1_threshold)
        result = dataclasses.replace(
            result, pixel_f1_threshold=threshold, pixel_score_transform=transform
        )
    result = dataclasses.replace(
        result,
        method=setup.method,
        params=setup.params.to_dict(),
        split=setup.split,
        curves=acc.curves() if n_done else None,
        problems=tuple(tally.problems),
        seconds=round(seconds, 3),
        images_per_second=round(n_done / seconds, 3) if seconds > 0 else None,
        workers=setup.workers,
        spacead_version=__version__,
        root=str(setup.root.resolve()),
        masks_thresholded=tally.thresholded,
        references=None if setup.mode is None else _reference_record(setup, tally.made),
        predictions=tuple(r for _, r in tally.rows),
    )
    return result if setup.learned is None else result.merged(setup.learned.info())


def _reference_mode(root: Path, split: str, references: str | None) -> str:
    """``files`` or ``render``: as asked, else files if the split has any, else render."""
    if references is not None:
        if references not in REFERENCE_MODES:
            raise ValueError(
                f"references must be one of {', '.join(REFERENCE_MODES)}, got {references!r}"
            )
        return references
    has_files = any((root / split).glob("*/references/*"))
    return "render" if not has_files and (root / TRANSFORMS).is_file() else "files"


def _rendered_references(
    root: str | os.PathLike[str],
    dataset: AlloDataset,
    params: ReferenceParams | None,
    cad_outside: bool = False,
) -> tuple[RenderedReferences, dict[str, FrameSpec], list[Item]]:
    """The reference source, its frames and the items that have one (the others: problems)."""
    from ..reference import ReferenceParams, RenderedReferences

    transforms = read_transforms(root, cad_outside=cad_outside)
    if transforms.cad is None or not transforms.cad.is_file():
        raise ValueError(
            f"rendering references needs the CAD model named by {TRANSFORMS} 'cad'; "
            f"got {None if transforms.cad is None else str(transforms.cad)!r}"
        )
    frames = transforms.by_path()
    keep = []
    for item in dataset.items:
        if item.relpath in frames:
            keep.append(item)
        else:
            dataset.report(
                Problem(item.relpath, f"no frame in {TRANSFORMS} to render its reference")
            )
    source = RenderedReferences(str(transforms.cad), params or ReferenceParams())
    return source, frames, keep


def _reference_record(setup: _Setup, made: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``references`` record of ``metrics.json``.

    Where the references came from; for rendered ones also their parameters,
    the pose corrections and the time per reference.
    """
    record: dict[str, Any] = {"mode": setup.mode}
    rendered = setup.rendered
    if rendered is None:
        return record
    record["params"] = rendered[0].params.to_dict()
    record["cad"] = rendered[0].cad
    if made:
        pose = [m["pose_correction"] for m in made]
        ms = [m["reference_ms"]["total"] for m in made]
        record.update(
            n=len(made),
            ms_median=round(float(np.median(ms)), 2),
            ms_p95=round(float(np.percentile(ms, 95)), 2),
            pose_refined=int(sum(p["applied"] for p in pose)),
            translation_m_median=round(
                float(np.median([p["translation_norm_m"] for p in pose])), 5
            ),
            rotation_deg_median=round(float(np.median([p["rotation_deg"] for p in pose])), 5),
        )
    return record


def _empty_metrics() -> dict[str, Any]:
    names = (
        "image_auroc",
        "pixel_auroc",
        "pixel_ap",
        "pixel_fpr95",
        "pixel_f1_max",
        "pixel_f1_threshold",
        "pixel_aupro",
    )
    return {
        "n_images": 0,
        "n_anomalous": 0,
        **dict.fromkeys(names),
        "reasons": dict.fromkeys(names, "no image could be evaluated"),
    }


def as_float_map(x: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """A score map as float32 (what ``maps/*.npy`` hold)."""
    return np.asarray(x, dtype=np.float32)
