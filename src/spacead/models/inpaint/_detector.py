"""The completion network as a per-image detector: ``spacead evaluate --method inpaint``.

A learned baseline that needs no pretrained weights: the network is trained on tiles of
the normal training images, then every pixel of a test image lies in the scored centre
of a tile whose completion error (:func:`~spacead.models.inpaint.score_tiles`) becomes
the pixel map.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ..._validate import as_rgb, check_positive
from ...data import AlloDataset, load_sample
from ...detect import Detection, TrainingRecord
from ...tiles import iter_tile_batches, sample_tiles, to_gray
from ._config import TrainConfig
from ._model import CompletionNet, TileCentre
from ._presets import PRESETS
from ._score import Statistic, score_tiles
from ._train import fit_network

F64 = npt.NDArray[np.float64]


_CAMERA = PRESETS["camera"]


@dataclass(frozen=True)
class InpaintParams(TrainConfig):
    """Training (:class:`~spacead.models.inpaint.TrainConfig`) and scoring on camera images.

    The training fields default to the ``camera`` preset (64-px tiles, 3 epochs):
    camera images are a few hundred pixels across, orbital frames tens of thousands.

    Parameters
    ----------
    tile, input_size, width, epochs, batch_size, lr, train_stride, max_tiles, flip, seed
        As in :class:`~spacead.models.inpaint.TrainConfig`.
    stride : int
        Step between scored tiles; 0 (default) is the scored centre side, so the
        centres tile the image.
    score : {"peak", "mae"}
        Tile statistic (see :func:`~spacead.models.inpaint.score_tiles`).
    k : float
        A pixel is anomalous above mean + k σ of the training tiles' scores.
    """

    method: ClassVar[str] = "inpaint"
    tile: int = _CAMERA["tile"]
    input_size: int = _CAMERA["input_size"]
    width: int = _CAMERA["width"]
    epochs: int = _CAMERA["epochs"]
    batch_size: int = _CAMERA["batch_size"]
    lr: float = _CAMERA["lr"]
    train_stride: int = _CAMERA["train_stride"]
    max_tiles: int | None = _CAMERA["max_tiles"]
    flip: bool = _CAMERA["flip"]
    seed: int = _CAMERA["seed"]
    stride: int = 0
    score: Statistic = "mae"
    k: float = 3.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive(self.stride, "stride", allow_zero=True)
        check_positive(self.k, "k")
        if self.score not in ("peak", "mae"):
            raise ValueError(f"score must be 'peak' or 'mae', got {self.score!r}")

    @property
    def centre(self) -> int:
        """Side in image pixels of a tile's scored centre."""
        return TileCentre(self.tile).scored


def _gray(image: npt.ArrayLike) -> npt.NDArray[np.float32]:
    rgb = as_rgb(image, "image")
    scale = 65535.0 if rgb.dtype == np.uint16 else 255.0
    gray: npt.NDArray[np.float32] = to_gray(rgb) / np.float32(scale)
    return gray


class InpaintDetector:
    """A completion network trained on normal camera images, scoring every pixel.

    Pixel ``(y, x)``'s score is that of the tile whose scored centre covers it; the
    image is reflected at its borders so that every pixel has a tile. A pixel is
    anomalous above ``mean + k std`` of the scores of held-out training tiles. Build
    it with :func:`train_inpaint_detector`.

    Parameters
    ----------
    model : CompletionNet
        The trained network.
    params : InpaintParams
    mean, std : float
        Score statistics of held-out training tiles.
    training : TrainingRecord
        Training time and the number of normal images trained on.
    """

    def __init__(
        self,
        model: CompletionNet,
        params: InpaintParams,
        *,
        mean: float = 0.0,
        std: float = 1.0,
        training: TrainingRecord | None = None,
    ) -> None:
        self.model = model.eval()
        self.params = params
        self.mean, self.std = float(mean), max(float(std), 1e-12)
        self.training = training if training is not None else TrainingRecord()

    @property
    def threshold(self) -> float:
        """Pixel score above which a pixel is anomalous: ``mean + k std``."""
        return self.mean + self.params.k * self.std

    def _scores(self, tiles: npt.NDArray[np.float32]) -> F64:
        return score_tiles(self.model, tiles, self.params.score)

    def score_map(self, image: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Pixel map of tile scores at the image's size."""
        gray = _gray(image)
        h, w = gray.shape
        p, c = self.params, self.params.centre
        step = p.stride or c
        ny, nx = -(-h // step), -(-w // step)
        before = TileCentre(p.tile).scored_offset
        pad_y = (before, max(0, (ny - 1) * step + p.tile - before - h))
        pad_x = (before, max(0, (nx - 1) * step + p.tile - before - w))
        padded = np.pad(gray, (pad_y, pad_x), mode="reflect")
        ys, xs = np.meshgrid(np.arange(ny) * step, np.arange(nx) * step, indexing="ij")
        coords = np.stack([ys.ravel(), xs.ravel()], axis=1).astype(np.int64)
        scores = np.concatenate(
            [
                self._scores(t)
                for _, t in iter_tile_batches(
                    padded, coords, size=p.tile, out_size=p.input_size, batch_size=256, scale=1.0
                )
            ]
        )
        grid = scores.reshape(ny, nx).astype(np.float32)
        # Tile (i, j)'s scored centre is centred on image pixel (i, j) * step + c / 2:
        # every pixel takes the score of the nearest tile centre.
        iy = np.clip(np.rint((np.arange(h) + 0.5 - c / 2) / step), 0, ny - 1).astype(np.intp)
        ix = np.clip(np.rint((np.arange(w) + 0.5 - c / 2) / step), 0, nx - 1).astype(np.intp)
        out: npt.NDArray[np.float32] = np.ascontiguousarray(grid[iy][:, ix])
        return out

    def __call__(self, query: npt.ArrayLike, reference: Any = None) -> Detection:
        """Detect anomalies in one image (the reference is not used)."""
        smap = self.score_map(query)
        threshold = self.threshold
        score = float(smap.max())
        return Detection(
            smap,
            smap > threshold,
            score,
            score > threshold,
            "inpaint",
            self.params.to_dict(),
            threshold=threshold,
        )

    def info(self) -> dict[str, Any]:
        """What ``metrics.json`` records about training."""
        return {
            "train_tile_mean": self.mean,
            "train_tile_std": self.std,
            **self.training.info(),
        }


def train_inpaint_detector(
    root: str | os.PathLike[str],
    params: InpaintParams | None = None,
    *,
    split: str = "train",
    progress: bool = False,
) -> InpaintDetector:
    """Train the completion network on tiles of the normal images of `split`.

    Tiles are cut as for orbital frames (:func:`spacead.tiles.sample_tiles`), without
    no-data (black is space in camera images).

    Raises
    ------
    ValueError
        If the split has no normal image, or an image is smaller than one tile.
    """
    p = params or InpaintParams()
    start = time.perf_counter()
    frames = []
    for item in AlloDataset(root, split, need_reference=False).items:
        sample = load_sample(item)
        if sample.label:
            continue
        gray = _gray(sample.image)
        if min(gray.shape) < p.tile:
            raise ValueError(
                f"image {item.relpath} ({gray.shape[0]}×{gray.shape[1]}) is smaller than one "
                f"{p.tile}-px tile"
            )
        frames.append(gray)
    if not frames:
        raise ValueError(f"split {split!r} of {str(root)!r} has no normal image to train on")
    # One generator draws the training subset, then the held-out tiles whose scores
    # set the threshold.
    rng = np.random.default_rng(p.seed)
    tiles = sample_tiles(
        frames,
        size=p.tile,
        stride=p.train_stride,
        out_size=p.input_size,
        max_tiles=p.max_tiles,
        seed=rng,
        nodata=None,
        scale=1.0,
    )
    model, _ = fit_network(tiles, p.training(), progress=progress)
    detector = InpaintDetector(model, p)
    held = tiles[np.sort(rng.choice(len(tiles), min(len(tiles), 1000), replace=False))]
    scores = np.concatenate([detector._scores(held[i : i + 256]) for i in range(0, len(held), 256)])
    return InpaintDetector(
        model,
        p,
        mean=float(scores.mean()),
        std=float(scores.std()),
        training=TrainingRecord(time.perf_counter() - start, len(frames)),
    )
