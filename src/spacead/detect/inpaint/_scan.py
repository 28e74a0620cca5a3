"""Scoring tiles by completion error and scanning a whole frame (3-sigma selection)."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch
from scipy.ndimage import uniform_filter
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from torch.nn import functional
from tqdm import tqdm

from spacead._fileio import atomic_write_bytes, write_csv
from spacead._parallel import default_workers, run_tasks
from spacead._threads import compute_threads, get_threads
from spacead.data import write_image
from spacead.tiles import (
    ImageLike,
    intensity_scale,
    iter_tile_batches,
    nodata_fraction,
    open_image,
    read_region,
    tile_coords,
)

from ._model import CompletionNet
from ._train import PathLike, load_checkpoint, resolve_device

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


Statistic = Literal["peak", "mae"]
_PEAK_WINDOW = 3  # input pixels: 6 frame pixels for 256 → 128 tiles


def score_tiles(
    model: CompletionNet, tiles: npt.NDArray[np.float32], statistic: Statistic = "mae"
) -> F64:
    r"""Completion error of each tile over its scored centre.

    Parameters
    ----------
    model : CompletionNet
        A trained network.
    tiles : ndarray of float32, shape (B, S, S)
        Tiles scaled to about [0, 1], ``S == model.config.input_size``.
    statistic : {"mae", "peak"}
        ``"mae"``: the mean of :math:`|X - \hat X|` over the central ``score_size``
        square (the article's score). ``"peak"``: the largest mean over any 3 × 3
        window of that square; a small object then counts fully instead of being
        averaged with the terrain around it.

    Returns
    -------
    ndarray of float64, shape (B,)
    """
    cfg = model.config
    s = cfg.input_size
    if tiles.ndim != 3 or tiles.shape[1:] != (s, s):
        raise ValueError(f"tiles must have shape (B, {s}, {s}), got {tiles.shape}")
    if statistic not in ("mae", "peak"):
        raise ValueError(f"statistic must be 'peak' or 'mae', got {statistic!r}")
    device = next(model.parameters()).device
    x = torch.from_numpy(np.ascontiguousarray(tiles, dtype=np.float32)).to(device)
    with torch.no_grad():
        out = model.complete(x)[0]
    lo = (s - cfg.score_size) // 2
    err = (out - x)[:, lo : lo + cfg.score_size, lo : lo + cfg.score_size].abs()
    if statistic == "mae":
        score = err.mean(dim=(1, 2))
    else:
        window = min(_PEAK_WINDOW, cfg.score_size)
        score = functional.avg_pool2d(err[:, None], window, stride=1).amax(dim=(1, 2, 3))
    result: F64 = score.double().cpu().numpy()
    return result


def _score_coords(
    model: CompletionNet, frame: ImageLike, coords: I64, tile: int, scale: float,
    batch_size: int, progress: bool, desc: str, nodata: float = 0,
    statistic: Statistic = "mae",
) -> tuple[F64, float]:  # fmt: skip
    scores = np.empty(len(coords), dtype=np.float64)
    bar = tqdm(total=len(coords), unit="tile", desc=desc, disable=not progress, file=sys.stderr)
    start, done = time.perf_counter(), 0
    batches = iter_tile_batches(
        frame, coords, size=tile, out_size=model.config.input_size, batch_size=batch_size,
        scale=scale, nodata=nodata,
    )  # fmt: skip
    for _, tiles in batches:
        scores[done : done + len(tiles)] = score_tiles(model, tiles, statistic)
        done += len(tiles)
        bar.update(len(tiles))
    bar.close()
    return scores, done / max(time.perf_counter() - start, 1e-9)


_CHUNK_TILES = 512  # tiles per distributed task: a few seconds of work on one core


def _score_chunk(
    image: str, model: str, coords: I64, tile: int, scale: float, batch_size: int,
    nodata: float, statistic: Statistic, index: int,
) -> tuple[int, F64]:  # pragma: no cover - runs in worker processes  # fmt: skip
    """Score one batch of tiles in a worker: it opens the frame (memory-mapped) itself."""
    torch.set_num_threads(compute_threads())  # the worker's share of the cores
    net, _ = load_checkpoint(model)
    scores, _ = _score_coords(
        net, open_image(image), coords, tile, scale, batch_size, False, "", nodata, statistic
    )
    return index, scores


def _score_distributed(
    image: PathLike, model: PathLike, coords: I64, tile: int, scale: float, batch_size: int,
    workers: int | None, scheduler: str | None, progress: bool, desc: str, nodata: float,
    statistic: Statistic,
) -> tuple[F64, float]:  # fmt: skip
    """Score tiles on worker processes or a Dask cluster, in chunks; same order as `coords`."""
    # Several chunks per worker balance the load; at most _CHUNK_TILES per task.
    n_workers = workers if workers is not None else default_workers()
    chunk = int(min(_CHUNK_TILES, max(32, -(-len(coords) // (4 * n_workers)))))
    tasks = [
        (str(image), str(model), coords[i : i + chunk], tile, scale, batch_size, nodata,
         statistic, i)
        for i in range(0, len(coords), chunk)
    ]  # fmt: skip
    scores = np.empty(len(coords), dtype=np.float64)
    bar = tqdm(total=len(coords), unit="tile", desc=desc, disable=not progress, file=sys.stderr)
    start = time.perf_counter()
    for i, part in run_tasks(_score_chunk, tasks, workers=workers, scheduler=scheduler):
        scores[i : i + len(part)] = part
        bar.update(len(part))
    bar.close()
    return scores, len(coords) / max(time.perf_counter() - start, 1e-9)


@dataclass(frozen=True)
class ScanResult:
    """Scores of the tiles of one frame and the 3-sigma selection.

    Attributes
    ----------
    coords : ndarray of int64, shape (N, 2)
        Top-left pixels ``(y, x)`` of the tiles of the final pass.
    scores, z : ndarray of float64, shape (N,)
        Tile scores and their z-scores ``(score - mean) / std`` against the frame's
        (or, with local normalisation, the neighbourhood's) scores.
    flagged : ndarray of bool, shape (N,)
        ``z > k``.
    tile, stride : int
        Tile side and the step of the final pass.
    k, mean, std : float
        Threshold and the statistics the z-scores use.
    tiles_per_second : float
        Scoring throughput over all passes.
    out_dir : pathlib.Path
        Where ``tiles.csv``, ``detections.csv``, ``heatmap.png``, ``hits/`` and
        ``summary.json`` are.
    score : str
        ``"peak"`` or ``"mae"`` (see :func:`score_tiles`).
    """

    coords: I64
    scores: F64
    z: F64
    flagged: npt.NDArray[np.bool_]
    tile: int
    stride: int
    k: float
    mean: float
    std: float
    tiles_per_second: float
    out_dir: Path
    score: str = "mae"

    @cached_property
    def places(self) -> list[Place]:
        """The flagged tiles grouped into places, highest z first (:func:`group_places`)."""
        return group_places(self)

    def summary(self) -> dict[str, Any]:
        """Counts and statistics as plain types (what ``summary.json`` holds)."""
        return {
            "n_tiles": len(self.coords), "n_flagged": int(self.flagged.sum()),
            "tile": self.tile, "stride": self.stride, "k": self.k,
            "mean": self.mean, "std": self.std,
            "threshold": self.mean + self.k * self.std,
            "n_places": len(self.places),
            "tiles_per_second": self.tiles_per_second, "score": self.score,
        }  # fmt: skip


@dataclass(frozen=True)
class Place:
    """A place: flagged tiles whose scored centres touch, grouped into one candidate.

    Attributes
    ----------
    y0, x0, y1, x1 : int
        Box ``[y0, y1) × [x0, x1)`` in frame pixels covering the scored centres of
        the place's flagged tiles (where the completion failed).
    y, x : int
        Centre of the place's highest-z tile.
    z, score : float
        Z-score and score of that tile.
    n_tiles : int
        Flagged tiles in the place.
    """

    y0: int
    x0: int
    y1: int
    x1: int
    y: int
    x: int
    z: float
    score: float
    n_tiles: int


def group_places(result: ScanResult) -> list[Place]:
    """Group the flagged tiles of a scan into places, highest z first.

    Two flagged tiles belong to one place when their centres are at most 1.5 steps of
    the final pass apart in both directions (neighbours on the grid, diagonals
    included), so an object that several overlapping tiles flag is reviewed once.

    Parameters
    ----------
    result : ScanResult
        A scan.

    Returns
    -------
    list of Place
        Sorted by decreasing z (ties by position).
    """
    idx = np.flatnonzero(result.flagged)
    if idx.size == 0:
        return []
    centres = result.coords[idx] + result.tile // 2
    pairs = cKDTree(centres).query_pairs(1.5 * result.stride, p=np.inf, output_type="ndarray")
    graph = coo_matrix(
        (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(idx), len(idx))
    )
    n, labels = connected_components(graph, directed=False)
    half = max(result.tile * 3 // 16, 1) // 2  # the scored centre's half side
    places = []
    for label in range(n):
        inside = labels == label
        members, c = idx[inside], centres[inside]
        best = int(np.argmax(result.z[members]))
        y, x = (int(v) for v in c[best])
        places.append(
            Place(
                int(c[:, 0].min()) - half, int(c[:, 1].min()) - half,
                int(c[:, 0].max()) + half, int(c[:, 1].max()) + half,
                y, x, float(result.z[members[best]]), float(result.scores[members[best]]),
                len(members),
            )
        )  # fmt: skip
    places.sort(key=lambda d: (-d.z, d.y, d.x))
    return places


def _neighbourhood(hits: I64, tile: int, fine: int, shape: tuple[int, int]) -> I64:
    """Fine-grid tiles whose top-left lies within half a tile of a coarse hit's."""
    offs = np.arange(-(tile // 2), tile // 2 + 1, fine, dtype=np.int64)
    dy, dx = np.meshgrid(offs, offs, indexing="ij")
    cand = (hits[:, None, :] + np.stack([dy.ravel(), dx.ravel()], 1)[None]).reshape(-1, 2)
    cand[:, 0] = np.clip(cand[:, 0], 0, shape[0] - tile)
    cand[:, 1] = np.clip(cand[:, 1], 0, shape[1] - tile)
    return np.unique(cand, axis=0)


def _write_outputs(result: ScanResult, frame: ImageLike, max_crops: int) -> None:
    out = result.out_dir
    write_csv(
        out / "tiles.csv",
        ["y", "x", "size", "score", "z", "flagged"],
        (
            [int(y), int(x), result.tile, f"{s:.6g}", f"{z:.4f}", int(f)]
            for (y, x), s, z, f in zip(
                result.coords, result.scores, result.z, result.flagged, strict=True
            )
        ),
    )
    write_csv(
        out / "detections.csv",
        ["rank", "y", "x", "y0", "x0", "y1", "x1", "z", "score", "n_tiles"],
        (
            [rank, d.y, d.x, d.y0, d.x0, d.y1, d.x1, f"{d.z:.4f}", f"{d.score:.6g}", d.n_tiles]
            for rank, d in enumerate(result.places, 1)
        ),
    )
    summary = json.dumps(result.summary(), indent=2) + "\n"
    atomic_write_bytes(out / "summary.json", summary.encode())
    write_image(out / "heatmap.png", heatmap(result, frame.shape[:2]))
    hits = out / "hits"
    hits.mkdir(exist_ok=True)
    order = np.argsort(-result.z[result.flagged], kind="stable")[:max_crops]
    for y, x in result.coords[result.flagged][order]:
        crop = read_region(frame, int(y), int(x), result.tile, result.tile)
        if crop.dtype != np.uint8:
            crop = np.clip(crop / intensity_scale(frame) * 255, 0, 255).astype(np.uint8)
        write_image(hits / f"y{int(y):06d}_x{int(x):06d}.png", crop)


def heatmap(result: ScanResult, shape: tuple[int, ...], max_side: int = 2048) -> Any:
    """RGB mosaic of tile z-scores over the frame, reduced so its long side <= `max_side`.

    Each tile paints a square of one stride (at least its scored centre) with the
    largest z-score that reaches it; uncovered pixels stay black.
    """
    import matplotlib as mpl

    f = max(1, int(np.ceil(max(shape[0], shape[1]) / max_side)))
    h, w = -(-int(shape[0]) // f), -(-int(shape[1]) // f)
    heat = np.full((h, w), -np.inf)
    half = max(result.stride, result.tile * 3 // 16, f) // 2
    for (y, x), z in zip(result.coords, result.z, strict=True):
        cy, cx = (y + result.tile // 2), (x + result.tile // 2)
        ys = slice((cy - half) // f, (cy + half) // f + 1)
        xs = slice((cx - half) // f, (cx + half) // f + 1)
        heat[ys, xs] = np.maximum(heat[ys, xs], z)
    norm = np.clip((heat + 1) / (2 * result.k + 1), 0, 1)
    rgb = mpl.colormaps["inferno"](np.nan_to_num(norm, neginf=0.0))[..., :3]
    rgb[~np.isfinite(heat)] = 0
    return (rgb * 255).astype(np.uint8)


def _centre_valid(frame: ImageLike, coords: I64, tile: int, nodata: float) -> Any:
    """Whether each tile's masked centre (a quarter tile) is free of no-data.

    A centre on the edge of the no-data margin cannot be completed and would be
    flagged for the margin, not for what lies on the ground.
    """
    centre = tile // 4
    offset = (tile - centre) // 2
    return nodata_fraction(frame, coords + offset, centre, nodata=nodata) == 0


def _valid_coords(frame: ImageLike, tile: int, stride: int, nodata: float) -> I64:
    """Tiles at most half no-data whose masked centre has none."""
    coords = tile_coords(frame, size=tile, stride=stride, nodata=nodata)
    kept: I64 = coords[_centre_valid(frame, coords, tile, nodata)]
    return kept


def local_stats(coords: I64, scores: F64, window: int) -> tuple[F64, F64, F64, F64]:
    """Mean and standard deviation of each tile's neighbours within ``window`` pixels.

    Computed on the (regular) grid of ``coords`` with box filters, leaving the
    tile itself out, so a planted object does not raise its own reference.
    Returns the grid's row and column coordinates with the mean and std grids,
    for :func:`_lookup`. Written by hand because no library filter ignores
    missing (no-data) tiles and the centre at once.
    """
    uy, iy = np.unique(coords[:, 0], return_inverse=True)
    ux, ix = np.unique(coords[:, 1], return_inverse=True)
    grids = np.zeros((3, len(uy), len(ux)))
    grids[0, iy, ix] = 1.0
    grids[1, iy, ix] = scores
    grids[2, iy, ix] = scores * scores
    step = float(np.median(np.diff(uy))) if len(uy) > 1 else float(window)
    size = 2 * max(1, round(window / (2 * step))) + 1
    sums = uniform_filter(grids, size=(1, size, size), mode="constant") * size * size - grids
    count = np.maximum(sums[0], 1.0)
    mean = sums[1] / count
    std = np.sqrt(np.maximum(sums[2] / count - mean * mean, 0.0))
    return uy.astype(np.float64), ux.astype(np.float64), mean, std


def _lookup(stats: tuple[F64, F64, F64, F64], coords: I64) -> tuple[F64, F64]:
    """Local mean and std at each tile, from the nearest cell of the coarse grid."""
    uy, ux, mean, std = stats
    iy = np.clip(np.searchsorted(uy, coords[:, 0]), 0, len(uy) - 1)
    ix = np.clip(np.searchsorted(ux, coords[:, 1]), 0, len(ux) - 1)
    return mean[iy, ix], std[iy, ix]


def _stats(scores: F64) -> tuple[float, float]:
    mean = float(scores.mean()) if scores.size else 0.0
    std = float(scores.std()) if scores.size > 1 else 0.0
    return mean, max(std, 1e-12)


def scan_image(
    image: PathLike,
    *,
    model: PathLike,
    out_dir: PathLike,
    stride: int = 256,
    fine_stride: int | None = 16,
    fine_scope: Literal["hits", "frame"] = "hits",
    k: float = 3.0,
    batch_size: int = 32,
    nodata: float = 0,
    max_crops: int = 1000,
    progress: bool = True,
    normalize: Literal["local", "frame"] = "local",
    window: int = 2048,
    score: Statistic = "mae",
    workers: int | None = 1,
    scheduler: str | None = None,
    device: str | None = None,
) -> ScanResult:
    """Score every valid tile of a frame and flag those more than `k` σ above the mean.

    The coarse pass scores tiles at `stride`, and the fine pass (`fine_stride`)
    re-scores the neighbourhood (± half a tile) of every coarse hit, with z-scores
    against the coarse statistics (``fine_scope="hits"``). With ``fine_scope="frame"``
    (as in the article) the whole frame is scored at `fine_stride` instead, against
    its own statistics, and no coarse pass runs. A tile is scored
    on its centre only, so objects off the centres of coarse tiles are found by the
    whole-frame fine pass, at the cost of ``(stride / fine_stride)²`` more tiles.

    Parameters
    ----------
    image : path-like
        The frame (TIFF/BigTIFF memory-mapped, JPEG 2000, PNG/JPEG).
    model : path-like
        A checkpoint from :func:`train_inpainter`; its tile size is used.
    out_dir : path-like
        Output folder (created): ``tiles.csv`` (``y,x,size,score,z,flagged`` of the
        final pass), ``detections.csv`` (flagged tiles grouped into places, highest
        z first: ``rank,y,x,y0,x0,y1,x1,z,score,n_tiles``, see
        :func:`group_places`), ``heatmap.png``, ``hits/y…_x….png`` and
        ``summary.json``.
    stride : int
        Coarse step in frame pixels (unused by a whole-frame fine pass).
    fine_stride : int or None
        Fine step, or None for the coarse pass only.
    fine_scope : {"hits", "frame"}
        What the fine pass covers.
    k : float
        Threshold in standard deviations above the mean.
    batch_size : int
        Tiles per forward pass.
    nodata : float
        No-data value; tiles more than half no-data are skipped, and the no-data
        pixels of the others take the tile's valid mean (as in training).
    max_crops : int
        Most crops written to ``hits/`` (highest z first).
    progress : bool
        Show a progress bar (tiles/s) on stderr.
    normalize : {"local", "frame"}
        ``"frame"`` is the article's rule, z against the whole frame's scores;
        ``"local"`` (default) compares each tile with its neighbours within
        ``window`` pixels, because the completion error follows the terrain (dunes
        score higher than plains). The neighbours come from the pass that is
        thresholded: the whole-frame fine pass itself, or the coarse pass when the
        fine pass covers only the hits' neighbourhoods.
    window : int
        Side in frame pixels of the local neighbourhood.
    score : {"peak", "mae"}
        Tile statistic (see :func:`score_tiles`): ``"mae"`` (default) is the
        article's mean error over the centre; ``"peak"`` its largest 3 × 3 local
        mean, which keeps objects smaller than the centre from being averaged away
        but has a heavier-tailed distribution.
    workers : int, optional
        1 (default) scores in this process with torch's own threads; more runs that
        many single-threaded worker processes (None: one per core).
    scheduler : str, optional
        Dask scheduler address (``tcp://host:8786``) or ``"local"``: tiles go to
        the cluster's workers in batches of 512, each worker reading its tiles from
        `image` itself (the path must be readable on every worker). Scores equal
        those of one process up to float rounding (torch's thread count changes the
        order of its sums).
    device : str, optional
        Where a single-process scan runs the network: ``"cpu"`` (default) or
        ``"cuda"``/``"cuda:N"``. Worker processes and Dask workers use their CPUs.

    Returns
    -------
    ScanResult
        Scores, z-scores and flags of the final pass.

    Raises
    ------
    ValueError
        If the image or model cannot be read, or an argument is out of range.
    """
    if fine_scope not in ("hits", "frame"):
        raise ValueError(f"fine_scope must be 'hits' or 'frame', got {fine_scope!r}")
    if fine_stride is not None and fine_stride < 1:
        raise ValueError(f"fine_stride must be a positive integer or None, got {fine_stride!r}")
    if not k > 0:
        raise ValueError(f"k must be positive, got {k!r}")
    if device is not None and (scheduler is not None or workers != 1):
        raise ValueError("device applies to single-process scans (workers=1, no scheduler)")
    net, meta = load_checkpoint(model)
    setting = get_threads()  # --threads: torch's threads in this process
    if isinstance(setting, int) and scheduler is None and workers == 1:
        torch.set_num_threads(setting)
    net.to(resolve_device(device))
    frame = open_image(image)
    tile = int(meta["tile"])
    scale = intensity_scale(frame, nodata=nodata)
    run = (net, frame)
    if normalize not in ("local", "frame"):
        raise ValueError(f"normalize must be 'local' or 'frame', got {normalize!r}")
    if score not in ("peak", "mae"):
        raise ValueError(f"score must be 'peak' or 'mae', got {score!r}")
    # A whole-frame fine pass is its own reference (as in the article): it has about
    # (stride / fine_stride)² more tiles than the coarse pass to estimate the spread
    # from, so the coarse pass is not run at all. A fine pass around hits is judged
    # against the coarse pass that found them.
    whole = fine_stride is not None and fine_scope == "frame"
    first = fine_stride if whole and fine_stride is not None else stride
    coords = _valid_coords(frame, tile, first, nodata)
    if len(coords) == 0:
        raise ValueError(f"image {str(image)!r} has no valid {tile}-px tile")

    def score_pass(c: I64, desc: str) -> tuple[F64, float]:
        if scheduler is None and workers == 1:
            return _score_coords(*run, c, tile, scale, batch_size, progress, desc, nodata, score)
        return _score_distributed(
            image, model, c, tile, scale, batch_size, workers, scheduler, progress, desc,
            nodata, score,
        )  # fmt: skip

    scores, rate = score_pass(coords, "fine" if whole else "coarse")
    mean, std = _stats(scores)
    local = local_stats(coords, scores, window) if normalize == "local" else None

    def zscores(c: I64, s: F64) -> F64:
        if local is None:
            return (s - mean) / std
        m, sd = _lookup(local, c)
        return (s - m) / np.maximum(sd, 0.25 * std)  # floor: a flat patch is not infinitely sure

    final_stride = first
    if fine_stride is not None and not whole:
        final_stride = fine_stride
        hits = coords[zscores(coords, scores) > k]
        shape = (int(frame.shape[0]), int(frame.shape[1]))
        extra = _neighbourhood(hits, tile, fine_stride, shape)
        extra = extra[nodata_fraction(frame, extra, tile, nodata=nodata) <= 0.5]
        extra = extra[_centre_valid(frame, extra, tile, nodata)]
        coords = np.unique(np.concatenate([coords, extra]), axis=0)
        scores, rate = score_pass(coords, "fine")
    z = zscores(coords, scores)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = ScanResult(
        coords, scores, z, z > k, tile, final_stride, float(k), mean, std, rate, out, score
    )
    _write_outputs(result, frame, max_crops)
    return result
