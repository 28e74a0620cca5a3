"""How the completion network is trained: one configuration, with named presets.

The same :class:`TrainConfig` trains the network on orbital frames
(:func:`spacead.survey.train_inpainter`, ``spacead inpaint train``) and on a dataset's
camera images (:class:`spacead.models.inpaint.InpaintParams`, ``evaluate --method inpaint``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from ..._validate import check_count, check_positive
from ...detect import Params
from ._model import InpaintConfig
from ._presets import PRESETS


@dataclass(frozen=True)
class TrainConfig(Params):
    """Training of the completion network on tiles; the defaults are the ``cpu`` preset.

    Parameters
    ----------
    tile : int
        Tile side in image pixels; tiles are resized to `input_size`. The masked
        centre is a quarter of the tile, the scored centre 3/16
        (:class:`~spacead.models.inpaint.TileCentre`).
    input_size : int
        Network input side.
    width : int
        Network width (channels of the first layer).
    epochs : int
        Passes over the tiles.
    batch_size : int
        Tiles per optimiser step (Adam).
    lr : float
        Adam's learning rate.
    train_stride : int
        Step between training tiles in image pixels.
    max_tiles : int or None
        Train on a random subset of at most this many tiles (None: every tile).
    flip : bool
        Random horizontal and vertical flips. A flip mirrors the Sun's direction, so
        on the tiles of one frame (one illumination) the network also learns
        shading lit from the wrong side; the ``cpu`` preset trains without.
    seed : int
        Seed of the tile subset, the weights, the shuffling and the flips.

    Examples
    --------
    >>> TrainConfig().tile, TrainConfig.preset("article").tile
    (128, 256)
    >>> TrainConfig.preset("article", epochs=50).epochs
    50
    """

    method: ClassVar[str] = "inpaint training"
    tile: int = PRESETS["cpu"]["tile"]
    input_size: int = PRESETS["cpu"]["input_size"]
    width: int = PRESETS["cpu"]["width"]
    epochs: int = PRESETS["cpu"]["epochs"]
    batch_size: int = PRESETS["cpu"]["batch_size"]
    lr: float = PRESETS["cpu"]["lr"]
    train_stride: int = PRESETS["cpu"]["train_stride"]
    max_tiles: int | None = PRESETS["cpu"]["max_tiles"]
    flip: bool = PRESETS["cpu"]["flip"]
    seed: int = PRESETS["cpu"]["seed"]

    def __post_init__(self) -> None:
        for name in ("tile", "input_size", "width", "epochs", "batch_size", "train_stride"):
            check_count(getattr(self, name), name)
        if self.max_tiles is not None:
            check_count(self.max_tiles, "max_tiles")
        check_positive(self.lr, "lr")
        if not isinstance(self.flip, bool):
            raise ValueError(f"flip must be True or False, got {self.flip!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        self.network()  # validates the network sizes

    @classmethod
    def preset(cls, name: str, **changes: Any) -> Self:
        """A preset (``"cpu"``, ``"article"``, ``"camera"``) with some fields changed.

        Raises
        ------
        ValueError
            If the preset or a field is unknown.
        """
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; valid presets: {', '.join(PRESETS)}")
        return cls.from_dict({**PRESETS[name], **changes})

    def training(self) -> TrainConfig:
        """Just the training fields (drops what a subclass adds for scoring)."""
        names = {f.name for f in dataclasses.fields(TrainConfig)}
        return TrainConfig(**{k: v for k, v in self.to_dict().items() if k in names})

    def network(self) -> InpaintConfig:
        """The network this trains: the article's proportions at `input_size`."""
        return InpaintConfig.scaled(self.width, self.input_size)
