"""How a frame is scanned: one configuration shared by the CLI, the API and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from .._validate import check_count
from ..detect import Params
from ..models.inpaint import Statistic, TileCentre

FineStride = int | Literal["centre"] | None


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


@dataclass(frozen=True)
class ScanConfig(Params):
    """Which tiles of a frame are scored, and how they are judged.

    The defaults score the whole frame at a stride of one scored centre, so every
    pixel more than ``(tile - centre) / 2`` from the frame's edge (52 px for
    128-px tiles) lies in the scored centre of a tile.

    Parameters
    ----------
    stride : int
        Step of the coarse pass in frame pixels (only for ``fine_scope="hits"`` or
        no fine pass).
    fine_stride : int, "centre" or None
        Step of the fine pass: a number of frame pixels, ``"centre"`` (default) for
        the model's scored-centre side (24 px for 128-px tiles), or None for the
        coarse pass only.
    fine_scope : {"frame", "hits"}
        The fine pass covers the whole frame (default; no coarse pass runs) or only
        the neighbourhood (± half a tile) of the coarse pass's hits, which re-examines
        only where the coarse pass already saw something.
    k : float
        Flag tiles more than k standard deviations above the mean (the article's 3).
    normalize : {"local", "frame"}
        z against the tile's neighbours within `window` pixels (default; the
        completion error follows the terrain), or the whole frame (the article's).
    window : int
        Side in frame pixels of the local neighbourhood.
    score : {"mae", "peak"}
        Tile statistic (:func:`~spacead.models.inpaint.score_tiles`).
    batch_size : int
        Tiles per forward pass.
    nodata : float
        No-data value: tiles more than half no-data, or whose masked centre touches
        it, are skipped; no-data pixels of the others take the tile's valid mean.
    max_crops : int
        Most crops written to ``hits/`` (highest z first).
    """

    method: ClassVar[str] = "scan"
    stride: int = 256
    fine_stride: FineStride = "centre"
    fine_scope: Literal["frame", "hits"] = "frame"
    k: float = 3.0
    normalize: Literal["local", "frame"] = "local"
    window: int = 2048
    score: Statistic = "mae"
    batch_size: int = 32
    nodata: float = 0
    max_crops: int = 1000

    def __post_init__(self) -> None:
        for name in ("stride", "window", "batch_size"):
            check_count(getattr(self, name), name)
        check_count(self.max_crops, "max_crops", allow_zero=True)
        fine = self.fine_stride
        if fine is not None and fine != "centre" and not _is_count(fine):
            raise ValueError(
                f"fine_stride must be a positive integer, 'centre' or None, got {fine!r}"
            )
        if self.fine_scope not in ("hits", "frame"):
            raise ValueError(f"fine_scope must be 'hits' or 'frame', got {self.fine_scope!r}")
        if not self.k > 0:
            raise ValueError(f"k must be positive, got {self.k!r}")
        if self.normalize not in ("local", "frame"):
            raise ValueError(f"normalize must be 'local' or 'frame', got {self.normalize!r}")
        if self.score not in ("peak", "mae"):
            raise ValueError(f"score must be 'peak' or 'mae', got {self.score!r}")
        if isinstance(self.nodata, bool) or not isinstance(self.nodata, int | float):
            raise ValueError(f"nodata must be a number, got {self.nodata!r}")

    def fine_step(self, tile: int) -> int | None:
        """The fine pass's step for tiles of side `tile` (None: no fine pass)."""
        if self.fine_stride == "centre":
            return TileCentre(tile).scored
        return self.fine_stride
