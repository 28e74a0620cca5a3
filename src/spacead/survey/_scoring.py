"""Scoring a frame's tiles: in this process, on worker processes or on a Dask cluster."""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import numpy.typing as npt
import torch
from tqdm import tqdm

from .._parallel import default_workers, run_tasks
from .._threads import compute_threads
from ..models.inpaint import CompletionNet, Statistic, load_checkpoint, score_tiles
from ..tiles import ImageLike, iter_tile_batches, open_image

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
PathLike = str | os.PathLike[str]


def score_coords(
    model: CompletionNet,
    frame: ImageLike,
    coords: I64,
    tile: int,
    scale: float,
    batch_size: int,
    progress: bool,
    desc: str,
    nodata: float = 0,
    statistic: Statistic = "mae",
) -> tuple[F64, float]:
    scores = np.empty(len(coords), dtype=np.float64)
    bar = tqdm(total=len(coords), unit="tile", desc=desc, disable=not progress, file=sys.stderr)
    start, done = time.perf_counter(), 0
    batches = iter_tile_batches(
        frame,
        coords,
        size=tile,
        out_size=model.config.input_size,
        batch_size=batch_size,
        scale=scale,
        nodata=nodata,
    )
    for _, tiles in batches:
        scores[done : done + len(tiles)] = score_tiles(model, tiles, statistic)
        done += len(tiles)
        bar.update(len(tiles))
    bar.close()
    return scores, done / max(time.perf_counter() - start, 1e-9)


_CHUNK_TILES = 512  # tiles per distributed task: a few seconds of work on one core


def _score_chunk(
    image: str,
    model: str,
    coords: I64,
    tile: int,
    scale: float,
    batch_size: int,
    nodata: float,
    statistic: Statistic,
    index: int,
) -> tuple[int, F64]:  # pragma: no cover - runs in worker processes
    """Score one batch of tiles in a worker: it opens the frame (memory-mapped) itself."""
    torch.set_num_threads(compute_threads())  # the worker's share of the cores
    net, _ = load_checkpoint(model)
    scores, _ = score_coords(
        net, open_image(image), coords, tile, scale, batch_size, False, "", nodata, statistic
    )
    return index, scores


def score_distributed(
    image: PathLike,
    model: PathLike,
    coords: I64,
    tile: int,
    scale: float,
    batch_size: int,
    workers: int | None,
    scheduler: str | None,
    progress: bool,
    desc: str,
    nodata: float,
    statistic: Statistic,
) -> tuple[F64, float]:
    """Score tiles on worker processes or a Dask cluster, in chunks; same order as `coords`."""
    # Several chunks per worker balance the load; at most _CHUNK_TILES per task.
    n_workers = workers if workers is not None else default_workers()
    chunk = int(min(_CHUNK_TILES, max(32, -(-len(coords) // (4 * n_workers)))))
    tasks = [
        (
            str(image),
            str(model),
            coords[i : i + chunk],
            tile,
            scale,
            batch_size,
            nodata,
            statistic,
            i,
        )
        for i in range(0, len(coords), chunk)
    ]
    scores = np.empty(len(coords), dtype=np.float64)
    bar = tqdm(total=len(coords), unit="tile", desc=desc, disable=not progress, file=sys.stderr)
    start = time.perf_counter()
    for i, part in run_tasks(_score_chunk, tasks, workers=workers, scheduler=scheduler):
        scores[i : i + len(part)] = part
        bar.update(len(part))
    bar.close()
    return scores, len(coords) / max(time.perf_counter() - start, 1e-9)
