"""Scanning one frame: score its tiles, z-scores, flags, places and the output files."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from .._parallel import RunOptions, check_workers, run_options
from .._threads import get_threads
from ..models.inpaint import CompletionNet, TileCentre, load_checkpoint, resolve_device
from ..tiles import intensity_scale, nodata_fraction, open_image
from ._config import ScanConfig
from ._outputs import write_outputs
from ._result import ScanResult
from ._scoring import score_coords, score_distributed
from ._zscores import centre_valid, frame_stats, local_stats, lookup, neighbourhood, valid_coords

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
PathLike = str | os.PathLike[str]
_log = logging.getLogger("spacead.survey")


def scan_config(config: ScanConfig | None = None, **settings: Any) -> ScanConfig:
    """`config` (default :class:`ScanConfig`) with the named fields changed."""
    return (config if config is not None else ScanConfig()).replace(**settings)


def scan_image(
    image: PathLike,
    *,
    model: PathLike,
    out_dir: PathLike,
    config: ScanConfig | None = None,
    progress: bool = True,
    workers: int | None = 1,
    scheduler: str | None = None,
    device: str | None = None,
    run: RunOptions | None = None,
    **settings: Any,
) -> ScanResult:
    """Score the tiles of a frame and flag those more than `k` σ above the mean.

    By default the whole frame is scored at a stride of one scored centre
    (:class:`ScanConfig`), each tile against its neighbours within 2048 px. With
    ``fine_scope="hits"`` a coarse pass scores tiles at `stride` and a fine pass
    re-scores the neighbourhood (± half a tile) of every coarse hit, with z-scores
    against the coarse statistics: about ``(stride / fine_stride)²`` fewer tiles,
    but objects off the coarse tiles' centres can be missed.

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
    config : ScanConfig, optional
        Which tiles are scored and how they are judged.
    progress : bool
        Show a progress bar (tiles/s) on stderr.
    workers : int, optional
        1 (default) scores in this process with torch's own threads; more runs that
        many worker processes sharing the cores (None: one per core).
    scheduler : str, optional
        Dask scheduler address (``tcp://host:8786``) or ``"local"``: tiles go to
        the cluster's workers in batches of 512, each worker reading its tiles from
        `image` itself (the path must be readable on every worker). Scores equal
        those of one process up to float rounding (torch's thread count changes the
        order of its sums).
    device : str, optional
        Where a single-process scan runs the network: ``"cpu"`` (default) or
        ``"cuda"``/``"cuda:N"``. Worker processes and Dask workers use their CPUs.
    run : RunOptions, optional
        ``workers``, ``scheduler``, ``progress`` and the compute threads in one
        value (give it or those keywords, not both).
    **settings
        Fields of :class:`ScanConfig` to change (``k=4``, ``fine_stride=16``, ...).

    Returns
    -------
    ScanResult
        Scores, z-scores and flags of the final pass.

    Raises
    ------
    ValueError
        If a setting is out of range (checked before the model or the frame is
        read), or the image or model cannot be read.
    """
    options = run_options(run, workers=workers, scheduler=scheduler, progress=progress,
                          defaults=(1, True))  # fmt: skip
    with options.thread_limit():
        return _scan(image, model, out_dir, scan_config(config, **settings), options, device)


def _network(
    model: PathLike, run: RunOptions, device: str | None
) -> tuple[CompletionNet, dict[str, Any]]:
    """The checkpoint's network on its device, and its metadata; the run's settings checked."""
    check_workers(run.workers)  # before anything is read
    if device is not None and (run.scheduler is not None or run.workers != 1):
        raise ValueError("device applies to single-process scans (workers=1, no scheduler)")
    dev = resolve_device(device)
    net, meta = load_checkpoint(model)
    setting = get_threads()  # --threads: torch's threads in this process
    if isinstance(setting, int) and run.scheduler is None and run.workers == 1:
        torch.set_num_threads(setting)
    net.to(dev)
    return net, meta


def _scan(
    image: PathLike,
    model: PathLike,
    out_dir: PathLike,
    cfg: ScanConfig,
    run: RunOptions,
    device: str | None,
) -> ScanResult:
    """:func:`scan_image` with its settings checked and its threads set."""
    workers, scheduler, progress = run.workers, run.scheduler, run.progress
    net, meta = _network(model, run, device)
    tile = int(meta["tile"])
    fine_stride = cfg.fine_step(tile)
    centre = TileCentre(tile).scored
    whole = fine_stride is not None and cfg.fine_scope == "frame"
    if whole and fine_stride is not None and fine_stride > centre:
        _log.info(
            "fine stride %d is wider than the %d-px scored centre of %d-px tiles: pixels "
            "between the centres are not scored",
            fine_stride, centre, tile,
        )  # fmt: skip
    frame = open_image(image)
    scale = intensity_scale(frame, nodata=cfg.nodata)
    # A whole-frame fine pass is its own reference (as in the article): it has about
    # (stride / fine_stride)² more tiles than the coarse pass to estimate the spread
    # from, so the coarse pass is not run at all. A fine pass around hits is judged
    # against the coarse pass that found them.
    first = fine_stride if whole and fine_stride is not None else cfg.stride
    coords = valid_coords(frame, tile, first, cfg.nodata)
    if len(coords) == 0:
        raise ValueError(f"image {str(image)!r} has no valid {tile}-px tile")

    def score_pass(c: I64, desc: str) -> tuple[F64, float]:
        if scheduler is None and workers == 1:
            return score_coords(
                net, frame, c, tile, scale, cfg.batch_size, progress, desc, cfg.nodata,
                cfg.score,
            )  # fmt: skip
        return score_distributed(
            image, model, c, tile, scale, cfg.batch_size, workers, scheduler, progress, desc,
            cfg.nodata, cfg.score,
        )  # fmt: skip

    scores, rate = score_pass(coords, "fine" if whole else "coarse")
    mean, std = frame_stats(scores)
    local = local_stats(coords, scores, cfg.window) if cfg.normalize == "local" else None

    def zscores(c: I64, s: F64) -> F64:
        if local is None:
            return (s - mean) / std
        m, sd = lookup(local, c)
        return (s - m) / np.maximum(sd, 0.25 * std)  # floor: a flat patch is not infinitely sure

    final_stride = first
    if fine_stride is not None and not whole:
        final_stride = fine_stride
        hits = coords[zscores(coords, scores) > cfg.k]
        shape = (int(frame.shape[0]), int(frame.shape[1]))
        extra = neighbourhood(hits, tile, fine_stride, shape)
        extra = extra[nodata_fraction(frame, extra, tile, nodata=cfg.nodata) <= 0.5]
        extra = extra[centre_valid(frame, extra, tile, cfg.nodata)]
        coords = np.unique(np.concatenate([coords, extra]), axis=0)
        scores, rate = score_pass(coords, "fine")
    z = zscores(coords, scores)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = ScanResult(
        coords, scores, z, z > cfg.k, tile, final_stride, float(cfg.k), mean, std, rate, out,
        cfg.score,
    )  # fmt: skip
    write_outputs(result, frame, cfg.max_crops)
    return result
