"""References for every frame of a dataset's ``transforms.json`` (``spacead render``).

Frames are split into chunks rendered on a local process pool or a Dask
cluster, like ``spacead generate``; each chunk's pipeline (model, Embree scene)
is built once per process. Every reference is written atomically, then a small
record of its fit, pose correction and timing, which marks it done: a re-run
renders only what is missing or stale. A record keeps the key of everything its
reference was made from (the frame's entry in ``transforms.json``, the query
image's bytes, the model file's bytes and its sibling asset files, the
parameters, :data:`REFERENCE_VERSION`) and the reference file's own hash: a
frame is skipped only when both still match. The same :class:`RenderedReferences` makes the
references ``spacead evaluate --references render`` uses on the fly, so both
paths give the same images.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacead._fileio import atomic_write_bytes, lock_settings, write_csv
from spacead._parallel import default_workers, run_tasks
from spacead.data import (
    FrameSpec,
    ImageReadError,
    Problem,
    read_image,
    read_transforms,
    write_image,
)
from spacead.render import COMPONENTS

from ._pipeline import ReferenceParams, ReferencePipeline, ReferenceResult

SETTINGS = "render.json"
RECORDS = ".render"
# Bumped whenever the renderer, the fit or the tone curve changes what a reference looks like:
# references made by another version are stale. 2: the third round of light-path speed work.
REFERENCE_VERSION = 2
# Files beside a model that it may read (glTF buffers and textures, OBJ materials): their
# bytes are part of the model's key. GLB and .blend files are whole in themselves.
_ASSETS = {".bin", ".png", ".jpg", ".jpeg", ".webp", ".ktx2", ".mtl", ".tga", ".bmp"}
_CHUNK = 4
_CACHE = 2  # pipelines kept per process (one per model and parameter set in use)
_PIPELINES: OrderedDict[tuple[str, str, int | None], ReferencePipeline] = OrderedDict()


class RenderError(ValueError):
    """An output folder holds references made with other settings, or the model is missing."""


def cached_pipeline(cad: str, params: ReferenceParams, threads: int | None) -> ReferencePipeline:
    """The pipeline of a model and parameters in this process (built on first use)."""
    key = (cad, params.to_json(), threads)
    if key in _PIPELINES:
        _PIPELINES.move_to_end(key)
        return _PIPELINES[key]
    pipeline = ReferencePipeline(cad, params, threads=threads)
    _PIPELINES[key] = pipeline
    while len(_PIPELINES) > _CACHE:
        _PIPELINES.popitem(last=False)
    return pipeline


@dataclass(frozen=True)
class RenderedReferences:
    """Makes the reference of a frame in whatever process calls it (picklable).

    Attributes
    ----------
    cad : str
        The station model file.
    params : ReferenceParams
    threads : int or None
        Render threads per process (1 on a pool of worker processes).
    """

    cad: str
    params: ReferenceParams
    threads: int | None = None

    def __call__(self, frame: FrameSpec, query: Any) -> ReferenceResult:
        """The reference of ``frame`` for its camera image ``query``."""
        return cached_pipeline(self.cad, self.params, self.threads).reference(query, frame)


def reference_path(file_path: str) -> str:
    """Where a frame's reference goes: its ``images`` folder becomes ``references``.

    Examples
    --------
    >>> reference_path("test/Camera3/images/000012.png")
    'test/Camera3/references/000012.png'
    >>> reference_path("frames/f1.jpg")
    'frames/references/f1.png'
    """
    parts = file_path.split("/")
    stem = Path(parts[-1]).stem + ".png"
    if "images" in parts[:-1]:
        i = len(parts) - 1 - parts[:-1][::-1].index("images") - 1
        return "/".join([*parts[:i], "references", *parts[i + 1 : -1], stem])
    return "/".join([*parts[:-1], "references", stem])


def _record_path(out: Path, file_path: str) -> Path:
    return out / RECORDS / (reference_path(file_path) + ".json")


def _render_chunk(
    root: Path, out: Path, frames: Sequence[FrameSpec], source: RenderedReferences, model: str
) -> list[dict[str, Any]]:
    """Render and write the references of some frames; return their records."""
    records = []
    for frame in frames:
        try:
            query = read_image(root / frame.file_path)
            key = _inputs_key(root, frame, model, source.params)
            result = source(frame, query)
        except (ImageReadError, OSError, ValueError) as exc:
            records.append({"file_path": frame.file_path, "problem": str(exc)})
            continue
        target = reference_path(frame.file_path)
        write_image(out / target, result.image)
        record = {
            "file_path": frame.file_path,
            "reference": target,
            "inputs": key,
            "sha256": _sha256(out / target),
            **result.summary(),
        }
        atomic_write_bytes(_record_path(out, frame.file_path), json.dumps(record).encode())
        records.append(record)
    return records


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def model_key(cad: Path) -> str:
    """The hash of a model file and of the asset files beside it that it may read."""
    digest = hashlib.sha256(cad.read_bytes())
    if cad.suffix.lower() not in (".glb", ".blend"):
        for sibling in sorted(cad.parent.iterdir()):
            if sibling.suffix.lower() in _ASSETS and sibling.is_file():
                digest.update(sibling.name.encode() + b"\0" + sibling.read_bytes())
    return digest.hexdigest()


def _inputs_key(root: Path, frame: FrameSpec, model: str, params: ReferenceParams) -> str:
    """The hash of what a frame's reference is made from (see the module notes)."""
    made_of = {
        "frame": frame.to_dict(),
        "query": _sha256(root / frame.file_path),
        "model": model,
        "params": params.to_dict(),
        "version": REFERENCE_VERSION,
    }
    return hashlib.sha256(json.dumps(made_of, sort_keys=True).encode()).hexdigest()


def _up_to_date(
    root: Path, out: Path, frame: FrameSpec, model: str, params: ReferenceParams
) -> bool:
    """Whether a frame's reference was made from today's inputs and is still as written."""
    record_file = _record_path(out, frame.file_path)
    if not record_file.is_file():
        return False
    try:
        record = json.loads(record_file.read_text())
        reference = out / record["reference"]
        return bool(
            record.get("inputs") == _inputs_key(root, frame, model, params)
            and reference.is_file()
            and record.get("sha256") == _sha256(reference)
        )
    except (OSError, ValueError, KeyError, TypeError):  # unreadable: made again
        return False


def _chunks(frames: Sequence[FrameSpec], size: int) -> Iterator[list[FrameSpec]]:
    for start in range(0, len(frames), size):
        yield list(frames[start : start + size])


@dataclass(frozen=True)
class RenderSummary:
    """What :func:`render_references` did.

    Attributes
    ----------
    out : Path
        The output root.
    rendered, skipped : int
        References made now, and found already done (resumed).
    problems : list of Problem
        Frames that could not be rendered, and why.
    stale : int
        Of ``rendered``, those that replaced a reference made from other inputs (a
        changed frame, image, model or spacead version) or changed since it was written.
    replaced : int
        Of ``rendered``, those that replaced a reference file spacead had not recorded
        making (e.g. one ``spacead generate`` wrote into the dataset).
    """

    out: Path
    rendered: int
    skipped: int
    problems: list[Problem]
    stale: int = 0
    replaced: int = 0


def render_references(
    root: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    params: ReferenceParams | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    cad_outside: bool = False,
) -> RenderSummary:
    """Render the reference of every frame of ``ROOT/transforms.json``.

    Parameters
    ----------
    root : path-like
        Dataset root with ``transforms.json`` (its ``cad`` names the model)
        and the frames' images.
    out : path-like, optional
        Output root (default: ``root``); a frame ``.../images/<name>`` gets
        ``OUT/.../references/<name>.png``. ``OUT/render.json`` records the
        settings and ``OUT/references.csv`` one row per frame (photometric fit,
        pose correction, time).
    params : ReferenceParams, optional
        How references are made.
    workers, scheduler
        As :func:`spacead.simulate.generate`.
    progress : bool
        Show a progress bar on stderr.
    cad_outside : bool
        Accept a ``cad`` model outside ROOT (:func:`spacead.data.read_transforms`).

    Raises
    ------
    RenderError
        If ``transforms.json`` names no model or a missing one, or ``out`` holds
        references made with other settings.
    spacead.data.TransformsError
        If ``transforms.json`` is missing or malformed.
    """
    from tqdm import tqdm

    params = params or ReferenceParams()
    transforms = read_transforms(root, cad_outside=cad_outside)
    if transforms.cad is None:
        raise RenderError(f"{str(Path(root) / 'transforms.json')!r} names no cad model")
    if not transforms.cad.is_file():
        raise RenderError(
            f"CAD model {str(transforms.cad)!r} (transforms.json 'cad') does not exist"
        )
    target = Path(out) if out is not None else Path(root)
    _check_settings(target, str(transforms.cad), params)
    model = model_key(transforms.cad)
    pending = [
        f for f in transforms.frames if not _up_to_date(transforms.root, target, f, model, params)
    ]
    stale = sum(_record_path(target, f.file_path).is_file() for f in pending)
    replaced = sum(
        not _record_path(target, f.file_path).is_file()
        and (target / reference_path(f.file_path)).is_file()
        for f in pending
    )
    n_workers = default_workers() if workers is None else workers
    # Render threads follow spacead's thread setting, which worker processes fix to their share.
    source = RenderedReferences(str(transforms.cad), params)
    bar = tqdm(
        total=len(transforms.frames),
        initial=len(transforms.frames) - len(pending),
        unit="frame",
        desc="render",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    )
    tasks = [(transforms.root, target, chunk, source, model) for chunk in _chunks(pending, _CHUNK)]
    problems = []
    for records in run_tasks(_render_chunk, tasks, workers=n_workers, scheduler=scheduler):
        problems += [Problem(r["file_path"], r["problem"]) for r in records if "problem" in r]
        bar.update(len(records))
    bar.close()
    _write_table(target, transforms.frames)
    return RenderSummary(
        target,
        len(pending) - len(problems),
        len(transforms.frames) - len(pending),
        problems,
        stale,
        replaced,
    )


def _check_settings(out: Path, cad: str, params: ReferenceParams) -> None:
    changed = lock_settings(out / SETTINGS, {"cad": cad, "params": params.to_dict()})
    if changed:
        raise RenderError(
            f"{str(out)!r} holds references made with other settings ({', '.join(changed)} "
            f"differ, see {SETTINGS}); use another --out or the same settings to resume"
        )


def _write_table(out: Path, frames: Sequence[FrameSpec]) -> Path:
    rows = []
    for f in frames:
        record_file = _record_path(out, f.file_path)
        if not record_file.is_file():
            continue
        r = json.loads(record_file.read_text())
        pose, fit = r["pose_correction"], r["photometric"]
        scales = [_mean(fit["scales"].get(k)) for k in COMPONENTS]
        gains = " ".join(f"{k}={_mean(v)}" for k, v in fit.get("material_gains", {}).items())
        rows.append(
            [
                r["file_path"],
                r["reference"],
                int(pose["applied"]),
                pose["translation_norm_m"],
                pose["rotation_deg"],
                fit["residual"],
                fit["n_pixels"],
                *scales,
                gains,
                r["reference_ms"]["total"],
            ]
        )
    header = [
        "file_path",
        "reference",
        "pose_refined",
        "translation_m",
        "rotation_deg",
        "fit_residual",
        "fit_pixels",
        *(f"scale_{k}" for k in COMPONENTS),
        "material_gains",
        "ms",
    ]
    return write_csv(out / "references.csv", header, rows)


def _mean(values: list[float] | None) -> str:
    """The mean of a fitted RGB triple, for a table cell ("" where there is none)."""
    return "" if not values else f"{sum(values) / len(values):.4f}"
