"""Training the completion network on tiles of the frames to search."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..models.inpaint import (
    TrainConfig,
    fit_network,
    resolve_device,
    save_checkpoint,
)
from ..tiles import open_image, sample_tiles

PathLike = str | os.PathLike[str]
# Keyword names of train_inpainter before TrainConfig, and the fields they set.
_OLD_NAMES = {"stride": "train_stride"}


def train_config(config: TrainConfig | None = None, **settings: Any) -> TrainConfig:
    """`config` (default :class:`TrainConfig`, the ``cpu`` preset) with fields changed.

    ``stride`` is accepted for ``train_stride``.
    """
    base = config if config is not None else TrainConfig()
    return base.replace(**{_OLD_NAMES.get(k, k): v for k, v in settings.items()})


def train_inpainter(
    images: Sequence[PathLike],
    *,
    out: PathLike,
    config: TrainConfig | None = None,
    threads: int | None = None,
    progress: bool = True,
    device: str | None = None,
    **settings: Any,
) -> Path:
    """Train a completion network on the valid tiles of `images` and save it to `out`.

    As in the article, the frames to search can be the training data themselves: the
    few anomalous tiles barely influence the model.

    Parameters
    ----------
    images : sequence of path-like
        Frames (TIFF/BigTIFF, JPEG 2000, PNG/JPEG).
    out : path-like
        Checkpoint file to write (atomically).
    config : TrainConfig, optional
        Tiles, network and schedule; the ``cpu`` preset by default
        (``TrainConfig.preset("article")`` for the article's sizes, on a GPU).
    threads : int, optional
        Torch intra-op threads (default: spacead's thread setting).
    progress : bool
        Show a progress bar on stderr.
    device : str, optional
        ``"cpu"`` (default), ``"cuda"`` or ``"cuda:N"``.
    **settings
        Fields of :class:`TrainConfig` to change (``epochs=4``, ``tile=256``, ...).

    Returns
    -------
    pathlib.Path
        The checkpoint path.

    Raises
    ------
    ValueError
        If a setting is out of range or the device is not available (both checked
        before any frame is read), or no frame has a valid tile.
    """
    cfg = train_config(config, **settings)
    resolve_device(device)
    tiles = load_training_tiles(
        images,
        tile=cfg.tile,
        stride=cfg.train_stride,
        input_size=cfg.input_size,
        max_tiles=cfg.max_tiles,
        seed=cfg.seed,
    )
    model, losses = fit_network(tiles, cfg, threads=threads, progress=progress, device=device)
    meta = {
        "tile": cfg.tile,
        "stride": cfg.train_stride,
        "epochs": cfg.epochs,
        "batch_size": cfg.batch_size,
        "lr": cfg.lr,
        "seed": cfg.seed,
        "n_tiles": len(tiles),
        "losses": losses,
        "device": device or "cpu",
        "flip": cfg.flip,
        "images": [str(p) for p in images],
        "training": cfg.to_dict(),
    }
    return save_checkpoint(out, model, meta)


def load_training_tiles(
    images: Sequence[PathLike],
    *,
    tile: int,
    stride: int,
    input_size: int,
    max_tiles: int | None = None,
    seed: int = 0,
) -> Any:
    """The training tiles of frames, as :func:`train_inpainter` cuts them.

    The frames' valid tiles (:func:`spacead.tiles.sample_tiles`, 0 as no-data).
    """
    if not images:
        raise ValueError("images must name at least one image file, got none")
    return sample_tiles(
        (open_image(p) for p in images),
        size=tile,
        stride=stride,
        out_size=input_size,
        max_tiles=max_tiles,
        seed=seed,
        nodata=0,
    )
