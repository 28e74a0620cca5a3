"""Scoring tiles by the network's completion error over their scored centre."""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import torch
from torch.nn import functional

from ._model import CompletionNet

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
