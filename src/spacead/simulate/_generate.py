"""Generate an ALLO-style dataset: simulated queries, exact masks and reference renders.

Besides the images, masks and references, a dataset holds ``station.glb`` (the
station with its glTF materials) and ``transforms.json`` (each test frame's
reported pose, intrinsics and lights), so anyone can render its references again.

Every image is a pure function of ``(seed, split, index)``: its random stream
is ``SeedSequence([seed, split, index])``, so the same seed gives
byte-identical files whatever the number of workers or the order they run in,
and a re-run on a partial output only renders what is missing. Files are
written atomically; an item's metadata file is written last, so it marks the
item complete.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .._extras import require
from .._fileio import atomic_write_bytes, lock_settings
from .._parallel import RunOptions, run_options, run_tasks
from ..data import TRANSFORMS, check_dataset
from ..scene import build_station, save_model
from ._config import STATION_GLB, GenerateConfig, GenerateError, Job, jobs
from ._frames import render_job, world


def _render_chunk(root: Path, chunk: Sequence[Job], config: GenerateConfig) -> int:
    for job in chunk:
        render_job(root, job, world(config))
    return len(chunk)


def _chunks(items: Sequence[Job], size: int) -> Iterator[list[Job]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def generate(
    out: str | os.PathLike[str],
    config: GenerateConfig | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    run: RunOptions | None = None,
) -> Path:
    """Write an ALLO-layout dataset to ``out``; resume if ``out`` holds a partial run.

    Parameters
    ----------
    out : path-like
        Output root: ``<split>/Camera<k>/{images,masks,references}/<name>.png``,
        ``manifest.csv`` and ``generate.json`` (the settings).
    config : GenerateConfig, optional
        What to make; defaults to ``GenerateConfig()``.
    workers : int, optional
        Worker processes (default: one per core); 1 renders in this process.
    scheduler : str, optional
        Dask scheduler address, or ``"local"`` for a local Dask cluster; the
        files are byte-identical either way, and a lost worker's images are
        re-rendered elsewhere.
    progress : bool
        Show a progress bar (images/s) on stderr.
    run : RunOptions, optional
        ``workers``, ``scheduler``, ``progress`` and the compute threads in one
        value (give it or those keywords, not both).

    Returns
    -------
    Path
        The dataset root.

    Raises
    ------
    GenerateError
        If ``out`` was generated with different settings (resuming would mix them).
    """
    options = run_options(run, workers=workers, scheduler=scheduler, progress=progress)
    if options.threads is not None:
        with options.thread_limit():
            return generate(out, config, run=dataclasses.replace(options, threads=None))
    workers, scheduler, progress = options.workers, options.scheduler, options.progress
    config = config or GenerateConfig()
    if "cycles" in (config.renderer, config.reference_renderer):
        require("blender")  # before the folder is locked to these settings
    root = Path(out)
    _check_settings(root, config)
    if not (root / STATION_GLB).is_file():
        save_model(build_station(), root / STATION_GLB)
    every = jobs(config)
    pending = [j for j in every if not _done(root, j)]
    total = len(every)
    bar = tqdm(
        total=total,
        initial=total - len(pending),
        unit="img",
        desc="generate",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    )
    tasks = [(root, chunk, config) for chunk in _chunks(pending, 4)]
    for done in run_tasks(_render_chunk, tasks, workers=workers, scheduler=scheduler):
        bar.update(done)
    bar.close()
    write_manifest(root, config)
    problems = check_dataset(root)
    if problems:
        shown = "; ".join(str(p) for p in problems[:5])
        raise GenerateError(f"integrity check of {str(root)!r} failed ({len(problems)}): {shown}")
    return root


def _done(root: Path, job: Job) -> bool:
    """Whether an earlier run finished ``job``: its record, and the files it names, are there.

    The record is written last; a file removed or emptied since (a cleaned-up folder, a
    disk that filled) makes the job run again, with the same bytes (its own seed).
    """
    meta = job.meta_path(root)
    if not meta.is_file():
        return False
    try:
        row = json.loads(meta.read_text())
    except (OSError, ValueError):
        return False
    if row.get("skipped"):
        return True
    image = root / str(row.get("image", ""))
    files = [image, image.parent.parent / "masks" / image.name]
    if job.split == "test":
        files.append(image.parent.parent / "references" / image.name)
    return all(f.is_file() and f.stat().st_size > 0 for f in files)


def _check_settings(root: Path, config: GenerateConfig) -> None:
    settings = dataclasses.asdict(config)
    if not config.modes:  # as before modes existed: older folders still resume
        del settings["modes"]
    else:
        settings["modes"] = list(config.modes)
    if not config.palette_masks:  # likewise
        del settings["palette_masks"]
    changed = lock_settings(root / "generate.json", settings)
    if changed:
        raise GenerateError(
            f"{str(root)!r} was generated with other settings ({', '.join(changed)} differ); "
            "use a new output folder or the same settings to resume"
        )


def write_transforms_json(root: Path, frames: list[dict[str, Any]]) -> Path:
    """``ROOT/transforms.json``: the test frames' reported poses and lights, and the model."""
    body = {"cad": STATION_GLB, "frames": frames}
    return atomic_write_bytes(root / TRANSFORMS, (json.dumps(body, indent=1) + "\n").encode())


def write_manifest(root: Path, config: GenerateConfig) -> Path:
    """Assemble ``manifest.csv`` and ``transforms.json`` from the per-image metadata."""
    rows = [json.loads(j.meta_path(root).read_text()) for j in jobs(config)]
    rows = [row for row in rows if "skipped" not in row]
    frames = [row.pop("frame") for row in rows if "frame" in row]
    write_transforms_json(root, frames)
    buf = io.StringIO()
    if rows:
        # The union of the rows' fields, in order: a folder resumed across spacead
        # versions holds rows with and without newer columns (left empty).
        fields = list(dict.fromkeys(k for row in rows for k in row))
        writer = csv.DictWriter(buf, fieldnames=fields, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    path = root / "manifest.csv"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(buf.getvalue())
    os.replace(tmp, path)
    return path
