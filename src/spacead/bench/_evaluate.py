"""Run a detector over a dataset split and compute the ALLO benchmark metrics.

Items are split into chunks processed by a pool of worker processes; each
chunk returns a metrics accumulator (merged exactly, in any order) and its
prediction rows (sorted back into dataset order), so results do not depend on
the number of workers.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from .. import __version__
from .._extras import require
from .._fileio import atomic_write_bytes
from .._parallel import default_workers, run_tasks
from ..data import (
    TRANSFORMS,
    AlloDataset,
    FrameSpec,
    ImageReadError,
    Item,
    Problem,
    load_sample,
    read_transforms,
    write_image,
)
from ..data._masks import THRESHOLDED
from ..detect import (
    Detection,
    Detector,
    LearnedDetector,
    detector_spec,
    fit_detector,
    make_detector,
)
from ..metrics import BenchmarkAccumulator, Binning
from ._outputs import save_map

if TYPE_CHECKING:  # the reference pipeline renders
    from ..reference import ReferenceParams, RenderedReferences

# MRAD maps lie on [0, 255] in steps of 1/2 and are binned exactly by the default
# bins. RXD/PAD maps are squared Mahalanobis distances in [0, inf): the metrics
# are rank statistics, so they are accumulated as log1p(score) (a monotone map)
# over 65,536 bins up to log1p(1e7); equal to scikit-learn on the raw maps
# within 1e-3.
_LOG_BINNING = Binning.linear(0.0, math.log1p(1e7))
_BINNINGS: dict[str, Binning | None] = {
    "identity": None,
    "log1p": _LOG_BINNING,
    "symlog": Binning.linear(-math.log1p(1e7), math.log1p(1e7), n_bins=1 << 20),
}
_CHUNK = 8
REFERENCE_MODES = ("files", "render")


@dataclass(frozen=True)
class Prediction:
    """One row of ``predictions.csv``."""

    image: str
    label: int
    score: float
    predicted: int


@dataclass
class _ChunkResult:
    rows: list[tuple[int, Prediction]]
    accumulator: BenchmarkAccumulator
    problems: list[Problem] = field(default_factory=list)
    chunk: int = -1
    references: list[dict[str, Any]] = field(default_factory=list)  # rendered references' records
    thresholded_masks: int = 0  # grey-edged foreground masks read at half scale


class _Partials:
    """Finished chunks of an interrupted evaluation, kept in ``<out>/.partial``.

    Each chunk's accumulator is saved as plain arrays (``.npz``, no pickle) and
    its rows and problems as JSON, written last as the chunk's completion mark.
    A fingerprint of the run (method, parameters, split, items) guards against
    mixing runs: partials of another run are discarded.
    """

    def __init__(self, folder: Path, fingerprint: dict[str, Any]) -> None:
        self.folder = folder
        marker = folder / "run.json"
        text = json.dumps(fingerprint, sort_keys=True)
        if marker.is_file() and marker.read_text() != text:
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(marker, text.encode())

    def load(self, chunk: int, binning: Binning | None) -> _ChunkResult | None:
        meta = self.folder / f"{chunk:06d}.json"
        if not meta.is_file():
            return None
        record = json.loads(meta.read_text())
        acc = BenchmarkAccumulator(binning)
        with np.load(self.folder / f"{chunk:06d}.npz", allow_pickle=False) as state:
            acc.load_state_arrays(dict(state))
        rows = [(i, Prediction(**r)) for i, r in record["rows"]]
        problems = [Problem(**p) for p in record["problems"]]
        return _ChunkResult(
            rows, acc, problems, chunk, record.get("references", []),
            record.get("thresholded_masks", 0),
        )  # fmt: skip

    def save(self, part: _ChunkResult) -> None:
        buf = io.BytesIO()
        arrays: dict[str, Any] = part.accumulator.state_arrays()
        np.savez(buf, **arrays)
        atomic_write_bytes(self.folder / f"{part.chunk:06d}.npz", buf.getvalue())
        record = {
            "rows": [(i, dataclasses.asdict(r)) for i, r in part.rows],
            "problems": [dataclasses.asdict(p) for p in part.problems],
            "references": part.references,
            "thresholded_masks": part.thresholded_masks,
        }
        atomic_write_bytes(self.folder / f"{part.chunk:06d}.json", json.dumps(record).encode())

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def pixel_transform(method: str) -> str:
    """How a method's pixel scores are accumulated: ``identity``, ``log1p`` or ``symlog``.

    Its spec's :attr:`~spacead.detect.DetectorSpec.pixel_scores`: RXD/PAD maps are
    squared Mahalanobis distances (``log1p``); the learned methods' maps (inpaint,
    anomalib) have no fixed range or sign and often sit in a narrow band of values
    (``symlog``: sign(x)·log1p(|x|), over 2^20 bins, so that the band still spans
    tens of thousands of bins). Both are monotone, so the rank metrics are
    unchanged; they only set the binning resolution.
    """
    return detector_spec(method).pixel_scores


def _forward(transform: str, x: npt.NDArray[Any]) -> npt.NDArray[Any]:
    if transform == "log1p":
        return np.asarray(np.log1p(x))
    if transform == "symlog":
        return np.asarray(np.sign(x) * np.log1p(np.abs(x)))
    return x


def _inverse(transform: str, y: float) -> float:
    if transform == "log1p":
        return float(np.expm1(y))
    if transform == "symlog":
        return float(np.sign(y) * np.expm1(abs(y)))
    return y


def _binning(method: str) -> Binning | None:
    return _BINNINGS[pixel_transform(method)]


class _Stream:
    """A statistical detector that travels to worker processes by name and parameters.

    Each process builds its own stream detector (:func:`spacead.detect.make_detector`)
    on first use, so MRAD's buffers are allocated once per chunk, not per image.
    """

    def __init__(self, method: str, params: Any) -> None:
        # The spec travels too: a detector registered at run time in this process is
        # not in a spawned worker's registry.
        self.method, self.params, self.spec = method, params, detector_spec(method)
        self._detector: Detector | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"method": self.method, "params": self.params, "spec": self.spec,
                "_detector": None}  # fmt: skip

    def __call__(self, query: Any, reference: Any) -> Detection:
        if self._detector is None:
            self._detector = make_detector(self.method, self.params, spec=self.spec)
        return self._detector(query, reference)


def _run_chunk(
    method: str,
    detector: Detector,
    chunk: Sequence[tuple[int, Item]],
    maps_dir: Path | None,
    masks_dir: Path | None = None,
    chunk_id: int = -1,
    rendered: tuple[RenderedReferences, Sequence[FrameSpec]] | None = None,
) -> _ChunkResult:
    acc = BenchmarkAccumulator(_binning(method))
    result = _ChunkResult([], acc, chunk=chunk_id)
    transform = pixel_transform(method)
    for k, (index, item) in enumerate(chunk):
        try:
            sample = load_sample(item)
            reference = sample.reference
            if rendered is not None:  # the CAD model's reference, made for this frame now
                source, frames = rendered
                made = source(frames[k], sample.image)
                reference = made.image
                result.references.append({"image": item.relpath, **made.summary()})
            det = detector(sample.image, reference)
        except (ImageReadError, ValueError, TypeError) as exc:
            result.problems.append(Problem(item.relpath, str(exc)))
            continue
        acc.update(_forward(transform, det.score_map), sample.anomaly, det.image_score)
        result.thresholded_masks += sample.mask_encoding == THRESHOLDED
        row = Prediction(item.relpath, sample.label, float(det.image_score), int(det.is_anomalous))
        result.rows.append((index, row))
        if maps_dir is not None:
            save_map(maps_dir / item.camera / f"{item.name}.npy", det.score_map)
        if masks_dir is not None:
            write_image(
                masks_dir / item.camera / f"{item.name}.png", det.mask.astype(np.uint8) * 255
            )
    return result


def _chunks(items: Sequence[Item], size: int) -> Iterator[list[tuple[int, Item]]]:
    for start in range(0, len(items), size):
        yield [(i, items[i]) for i in range(start, min(start + size, len(items)))]


@dataclass(frozen=True)
class Evaluation:
    """Everything one evaluation produced.

    Attributes
    ----------
    metrics : dict
        The content of ``metrics.json`` (see :func:`evaluate`).
    predictions : list of Prediction
        One row per evaluated image, in dataset order.
    problems : list of Problem
        Every file that could not be used, and why.
    """

    metrics: dict[str, Any]
    predictions: list[Prediction]
    problems: list[Problem]


def evaluate(
    root: str | os.PathLike[str],
    method: str,
    *,
    split: str = "test",
    params: Any | None = None,
    maps_dir: str | os.PathLike[str] | None = None,
    masks_dir: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    strict: bool = False,
    progress: bool = True,
    resume_dir: str | os.PathLike[str] | None = None,
    references: str | None = None,
    reference_params: ReferenceParams | None = None,
) -> Evaluation:
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
        (:func:`spacead.baselines.train_inpaint_detector`), ``"anomalib:<model>"``
        that anomalib model (:func:`spacead.baselines.train_anomalib`; needs the
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
    Evaluation
        ``metrics`` holds ``method``, ``params``, ``split``, ``n_images``,
        ``n_anomalous``, ``image_auroc``, ``pixel_auroc``, ``pixel_ap``,
        ``pixel_fpr95``, ``pixel_f1_max``, ``pixel_f1_threshold`` (in score-map
        units), ``reasons`` for undefined metrics, the problems, timing and the
        pixel-score binning; for anomalib models also the training time per image,
        whether the backbone was pretrained and a note.

    Raises
    ------
    spacead.baselines.OfflineModelError
        If an anomalib model would need a download.
    """
    spec = detector_spec(method)
    if spec.extra is not None:
        require(spec.extra)
    params = spec.check_params(method, params)
    detector: Detector
    learned: LearnedDetector | None = None
    if spec.learned:
        if scheduler is not None:
            raise ValueError(f"{method} trains and runs in this process; drop --scheduler")
        learned = fit_detector(method, root, params, progress=progress)
        detector, n_workers, resume_dir = learned, 1, None  # the model lives in this process
    else:
        detector = _Stream(method, params)
        n_workers = default_workers() if workers is None else workers
    if n_workers < 1:
        raise ValueError(f"workers must be >= 1, got {n_workers}")
    mode = _reference_mode(Path(root), split, references) if spec.needs_reference else None
    dataset = AlloDataset(root, split, need_reference=mode == "files", strict=strict)
    rendered = None
    if mode == "render":
        rendered = _rendered_references(root, dataset, reference_params)
    maps = Path(maps_dir) if maps_dir is not None else None
    masks = Path(masks_dir) if masks_dir is not None else None
    acc = BenchmarkAccumulator(_binning(method))
    rows: list[tuple[int, Prediction]] = []
    problems = list(dataset.problems)
    start = time.perf_counter()
    bar = tqdm(
        total=len(dataset),
        unit="img",
        desc=f"evaluate {method}",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    )
    partials = None
    if resume_dir is not None:
        fingerprint = {
            "method": method,
            "params": params.to_dict(),
            "split": split,
            "items": [i.relpath for i in dataset.items],
            "chunk": _CHUNK,
            "references": mode,
            "reference_params": rendered[0].params.to_dict() if rendered else None,
        }
        partials = _Partials(Path(resume_dir), fingerprint)
    made: list[dict[str, Any]] = []
    thresholded = 0
    for part in _run(
        method, detector, dataset.items, maps, masks, n_workers, scheduler, partials, rendered
    ):
        acc.merge(part.accumulator)
        rows += part.rows
        made += part.references
        thresholded += part.thresholded_masks
        for problem in part.problems:
            dataset.report(problem)  # raises under strict
            problems.append(problem)
        bar.update(len(part.rows) + len(part.problems))
    bar.close()
    seconds = time.perf_counter() - start
    if partials is not None:
        partials.remove()
    rows.sort(key=lambda r: r[0])
    metrics = _metrics_record(acc, method, params, split, problems, seconds, n_workers, len(rows))
    metrics["root"] = str(Path(root).resolve())
    metrics["masks_thresholded"] = thresholded
    if mode is not None:
        metrics["references"] = _reference_record(mode, rendered, made)
    if learned is not None:
        metrics.update(learned.info())
    return Evaluation(metrics, [r for _, r in rows], problems)


def _run(
    method: str,
    detector: Detector,
    items: Sequence[Item],
    maps: Path | None,
    masks: Path | None,
    workers: int,
    scheduler: str | None = None,
    partials: _Partials | None = None,
    rendered: tuple[RenderedReferences, dict[str, FrameSpec]] | None = None,
) -> Iterator[_ChunkResult]:
    tasks = []
    for k, chunk in enumerate(_chunks(items, _CHUNK)):
        done = partials.load(k, _binning(method)) if partials is not None else None
        if done is not None:
            yield done
            continue
        frames = None
        if rendered is not None:  # only this chunk's frames travel with its task
            frames = (rendered[0], [rendered[1][item.relpath] for _, item in chunk])
        tasks.append((method, detector, chunk, maps, masks, k, frames))
    if scheduler is None and len(tasks) <= 1:
        workers = 1
    for part in run_tasks(_run_chunk, tasks, workers=workers, scheduler=scheduler):
        if partials is not None:
            partials.save(part)
        yield part


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
) -> tuple[RenderedReferences, dict[str, FrameSpec]]:
    """The reference source for ``dataset``; items without a frame become problems."""
    from ..reference import ReferenceParams, RenderedReferences

    transforms = read_transforms(root)
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
    dataset.items = keep
    source = RenderedReferences(str(transforms.cad), params or ReferenceParams())
    return source, frames


def _reference_record(
    mode: str, rendered: tuple[Any, Any] | None, made: list[dict[str, Any]]
) -> dict[str, Any]:
    """The ``references`` record of ``metrics.json``.

    Where the references came from; for rendered ones also their parameters,
    the pose corrections and the time per reference.
    """
    record: dict[str, Any] = {"mode": mode}
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


def _metrics_record(
    acc: BenchmarkAccumulator,
    method: str,
    params: Any,
    split: str,
    problems: list[Problem],
    seconds: float,
    workers: int,
    n_done: int,
) -> dict[str, Any]:
    values = acc.compute().to_dict() if n_done else _empty_metrics()
    values["curves"] = acc.curves() if n_done else None
    transform = pixel_transform(method)
    if transform != "identity" and values.get("pixel_f1_threshold") is not None:
        values["pixel_f1_threshold"] = _inverse(transform, values["pixel_f1_threshold"])
        values["pixel_score_transform"] = transform
    return {
        "method": method,
        "params": params.to_dict(),
        "split": split,
        **values,
        "problems": [{"path": p.path, "reason": p.reason} for p in problems],
        "seconds": round(seconds, 3),
        "images_per_second": round(n_done / seconds, 3) if seconds > 0 else None,
        "workers": workers,
        "spacead_version": __version__,
    }


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
