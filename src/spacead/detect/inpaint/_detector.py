"""The completion network as a per-image detector: ``spacead evaluate --method inpaint``.

A learned baseline that needs no pretrained weights: the network is trained on tiles of
the normal training images, then every pixel of a test image lies in the scored centre
of a tile whose completion error (:func:`~spacead.detect.inpaint.score_tiles`) becomes
the pixel map.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt

from ..._validate import as_rgb, check_positive
from ...data import AlloDataset, load_sample
from ...tiles import iter_tile_batches, to_gray
from .._params import _Params
from .._types import Detection
from ._model import CompletionNet, InpaintConfig
from ._scan import F64, score_tiles
from ._train import train_on_tiles


@dataclass(frozen=True)
class InpaintParams(_Params):
    """Training and scoring of the completion network on camera images.

    Parameters
    ----------
    tile : int
        Tile side in image pixels; the scored centre is ``3 tile / 16`` (12 px for 64).
    input_size : int
        Network input side (tiles are resized to it).
    width : int
        Network width.
    epochs, batch_size : int
        Training passes and batch size.
    lr : float
        Adam learning rate.
    train_stride : int
        Step between training tiles.
    max_tiles : int
        Most training tiles (a random subset).
    stride : int
        Step between scored tiles; 0 (default) is the scored centre side, so the
        centres tile the image.
    score : {"peak", "mae"}
        Tile statistic (see :func:`~spacead.detect.inpaint.score_tiles`).
    k : float
        A pixel is anomalous above mean + k σ of the training tiles' scores.
    seed : int
        Seed of training.
    """

    method: ClassVar[str] = "inpaint"
    tile: int = 64
    input_size: int = 64
    width: int = 8
    epochs: int = 3
    batch_size: int = 16
    lr: float = 1e-3
    train_stride: int = 32
    max_tiles: int = 4000
    stride: int = 0
    score: Literal["peak", "mae"] = "mae"
    k: float = 3.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("tile", "input_size", "width", "epochs", "batch_size", "train_stride"):
            check_positive(getattr(self, name), name)
        check_positive(self.max_tiles, "max_tiles")
        check_positive(self.stride, "stride", allow_zero=True)
        check_positive(self.lr, "lr")
        check_positive(self.k, "k")
        if self.score not in ("peak", "mae"):
            raise ValueError(f"score must be 'peak' or 'mae', got {self.score!r}")
        InpaintConfig.scaled(self.width, self.input_size)  # validates the network sizes

    @property
    def centre(self) -> int:
        """Side in image pixels of a tile's scored centre."""
        return max(1, self.tile * 3 // 16)


def _gray(image: npt.ArrayLike) -> npt.NDArray[np.float32]:
    rgb = as_rgb(image, "image")
    scale = 65535.0 if rgb.dtype == np.uint16 else 255.0
    gray: npt.NDArray[np.float32] = to_gray(rgb) / np.float32(scale)
    return gray


class InpaintDetector:
    """A completion network trained on normal camera images, scoring every pixel.

    Pixel ``(y, x)``'s score is that of the tile whose scored centre covers it; the
    image is reflected at its borders so that every pixel has a tile. Build it with
    :func:`train_inpaint_detector`.
    """

    def __init__(self, model: CompletionNet, params: InpaintParams) -> None:
        self.model = model.eval()
        self.params = params
        self.mean = 0.0
        self.std = 1.0
        self.train_seconds = 0.0
        self.n_train = 0

    def _scores(self, tiles: npt.NDArray[np.float32]) -> F64:
        return score_tiles(self.model, tiles, self.params.score)

    def score_map(self, image: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Pixel map of tile scores at the image's size."""
        gray = _gray(image)
        h, w = gray.shape
        p, c = self.params, self.params.centre
        step = p.stride or c
        ny, nx = -(-h // step), -(-w // step)
        before = (p.tile - c) // 2
        pad_y = (before, max(0, (ny - 1) * step + p.tile - before - h))
        pad_x = (before, max(0, (nx - 1) * step + p.tile - before - w))
        padded = np.pad(gray, (pad_y, pad_x), mode="reflect")
        ys, xs = np.meshgrid(np.arange(ny) * step, np.arange(nx) * step, indexing="ij")
        coords = np.stack([ys.ravel(), xs.ravel()], axis=1).astype(np.int64)
        scores = np.concatenate([
            self._scores(t)
            for _, t in iter_tile_batches(
                padded, coords, size=p.tile, out_size=p.input_size, batch_size=256, scale=1.0
            )
        ])  # fmt: skip
        grid = scores.reshape(ny, nx).astype(np.float32)
        # Tile (i, j)'s scored centre is centred on image pixel (i, j) * step + c / 2:
        # every pixel takes the score of the nearest tile centre.
        iy = np.clip(np.rint((np.arange(h) + 0.5 - c / 2) / step), 0, ny - 1).astype(np.intp)
        ix = np.clip(np.rint((np.arange(w) + 0.5 - c / 2) / step), 0, nx - 1).astype(np.intp)
        out: npt.NDArray[np.float32] = np.ascontiguousarray(grid[iy][:, ix])
        return out

    def __call__(self, image: npt.ArrayLike, reference: Any = None) -> Detection:
        """Detect anomalies in one image (the reference is not used)."""
        smap = self.score_map(image)
        threshold = self.mean + self.params.k * self.std
        mask = smap > threshold
        score = float(smap.max())
        return Detection(
            smap, mask, score, score > threshold, "inpaint", self.params.to_dict()
        )  # fmt: skip

    def info(self) -> dict[str, Any]:
        """What ``metrics.json`` records about training."""
        return {
            "train_tile_mean": self.mean,
            "train_tile_std": self.std,
            "train_seconds": round(self.train_seconds, 3),
            "n_train_images": self.n_train,
            "train_seconds_per_image": round(self.train_seconds / max(self.n_train, 1), 4),
        }


def train_inpaint_detector(
    root: str | os.PathLike[str],
    params: InpaintParams | None = None,
    *,
    split: str = "train",
    progress: bool = False,
) -> InpaintDetector:
    """Train the completion network on tiles of the normal images of `split`.

    Raises
    ------
    ValueError
        If the split has no normal image.
    """
    p = params or InpaintParams()
    start = time.perf_counter()
    chunks = []
    n_images = 0
    for item in AlloDataset(root, split, need_reference=False).items:
        sample = load_sample(item)
        if sample.label:
            continue
        gray = _gray(sample.image)
        n_images += 1
        h, w = gray.shape
        if min(h, w) < p.tile:
            raise ValueError(f"image {item.relpath} ({h}×{w}) is smaller than one {p.tile}-px tile")
        ys, xs = np.meshgrid(
            np.arange(0, h - p.tile + 1, p.train_stride),
            np.arange(0, w - p.tile + 1, p.train_stride),
            indexing="ij",
        )
        coords = np.stack([ys.ravel(), xs.ravel()], axis=1).astype(np.int64)
        batches = iter_tile_batches(gray, coords, size=p.tile, out_size=p.input_size, scale=1.0)
        chunks += [t for _, t in batches]
    if not chunks:
        raise ValueError(f"split {split!r} of {str(root)!r} has no normal image to train on")
    tiles = np.concatenate(chunks)
    rng = np.random.default_rng(p.seed)
    if len(tiles) > p.max_tiles:
        tiles = tiles[np.sort(rng.choice(len(tiles), p.max_tiles, replace=False))]
    config = InpaintConfig.scaled(p.width, p.input_size)
    model, _ = train_on_tiles(
        tiles, config, epochs=p.epochs, batch_size=p.batch_size, lr=p.lr, seed=p.seed,
        progress=progress,
    )  # fmt: skip
    detector = InpaintDetector(model, p)
    held = tiles[np.sort(rng.choice(len(tiles), min(len(tiles), 1000), replace=False))]
    scores = np.concatenate([detector._scores(held[i : i + 256]) for i in range(0, len(held), 256)])
    detector.mean, detector.std = float(scores.mean()), max(float(scores.std()), 1e-12)
    detector.train_seconds, detector.n_train = time.perf_counter() - start, n_images
    return detector
