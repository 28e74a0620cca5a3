"""The chunks of an evaluation: each runs a detector over a few items, anywhere.

Items are split into chunks processed by a pool of worker processes; each
chunk returns a metrics accumulator (merged exactly, in any order) and its
prediction rows (sorted back into dataset order), so results do not depend on
the number of workers. Finished chunks can be kept on disk (:class:`_Partials`)
so that an interrupted evaluation resumes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .._fileio import atomic_write_bytes
from .._parallel import run_tasks
from ..data import FrameSpec, ImageReadError, Item, Problem, load_sample, write_image
from ..data._masks import THRESHOLDED
from ..detect import Detection, Detector, DetectorParams, detector_spec, make_detector
from ..metrics import BenchmarkAccumulator, Binning
from ._outputs import save_map
from ._result import Prediction

if TYPE_CHECKING:  # the reference pipeline renders
    from ..reference import RenderedReferences

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

    def load(self, chunk: int, binning: Binning | None, key: str = "") -> _ChunkResult | None:
        """A finished chunk, if kept and made from the same inputs (``key``)."""
        meta = self.folder / f"{chunk:06d}.json"
        if not meta.is_file():
            return None
        record = json.loads(meta.read_text())
        if record.get("key", "") != key:  # its files or frames changed since: score it again
            return None
        acc = BenchmarkAccumulator(binning)
        with np.load(self.folder / f"{chunk:06d}.npz", allow_pickle=False) as state:
            acc.load_state_arrays(dict(state))
        rows = [(i, Prediction(**r)) for i, r in record["rows"]]
        problems = [Problem(**p) for p in record["problems"]]
        return _ChunkResult(
            rows,
            acc,
            problems,
            chunk,
            record.get("references", []),
            record.get("thresholded_masks", 0),
        )

    def save(self, part: _ChunkResult, key: str = "") -> None:
        buf = io.BytesIO()
        arrays: dict[str, Any] = part.accumulator.state_arrays()
        np.savez(buf, **arrays)
        atomic_write_bytes(self.folder / f"{part.chunk:06d}.npz", buf.getvalue())
        record = {
            "rows": [(i, dataclasses.asdict(r)) for i, r in part.rows],
            "problems": [dataclasses.asdict(p) for p in part.problems],
            "references": part.references,
            "thresholded_masks": part.thresholded_masks,
            "key": key,
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

    def __init__(self, method: str, params: DetectorParams) -> None:
        # The spec travels too: a detector registered at run time in this process is
        # not in a spawned worker's registry.
        self.method, self.params, self.spec = method, params, detector_spec(method)
        self._detector: Detector | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"method": self.method, "params": self.params, "spec": self.spec, "_detector": None}

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
    tasks, keys = [], {}
    for k, chunk in enumerate(_chunks(items, _CHUNK)):
        frames = None
        if rendered is not None:  # only this chunk's frames travel with its task
            frames = (rendered[0], [rendered[1][item.relpath] for _, item in chunk])
        keys[k] = chunk_key([item for _, item in chunk], frames[1] if frames else None)
        done = partials.load(k, _binning(method), keys[k]) if partials is not None else None
        if done is not None:
            yield done
            continue
        tasks.append((method, detector, chunk, maps, masks, k, frames))
    if scheduler is None and len(tasks) <= 1:
        workers = 1
    for part in run_tasks(_run_chunk, tasks, workers=workers, scheduler=scheduler):
        if partials is not None:
            partials.save(part, keys[part.chunk])
        yield part


def file_stamp(path: str | Path) -> list[object] | None:
    """A file's path, size and modification time (None if it cannot be read)."""
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return [str(path), stat.st_size, stat.st_mtime_ns]


def chunk_key(items: Sequence[Item], frames: Sequence[FrameSpec] | None) -> str:
    """What a chunk's results were made from: its files as they are now, its frames.

    Each file's size and modification time (reading every file again to resume
    would cost as much as scoring it) and, where references are rendered, each
    frame's ``transforms.json`` entry: an edited image, mask, reference or pose
    makes the kept chunk stale, and it is scored again.
    """
    parts: list[Any] = [
        file_stamp(path) if path is not None else None
        for item in items
        for path in (item.image, item.mask, item.reference)
    ]
    if frames is not None:
        parts.append([f.to_dict() for f in frames])
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()
