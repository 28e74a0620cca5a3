"""Tile addressing (top-left pixel ``(y, x)``) and no-data skipping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ._io import ImageLike

_NODATA_STEP = 8  # no-data fractions are estimated on every 8th row and column


def _positions(length: int, size: int, stride: int) -> npt.NDArray[np.int64]:
    if length < size:
        return np.zeros(0, dtype=np.int64)
    pos = np.arange(0, length - size + 1, stride, dtype=np.int64)
    if pos[-1] != length - size:  # one more tile flush with the far edge covers the frame
        pos = np.append(pos, length - size)
    return pos


@dataclass(frozen=True)
class TileGrid:
    """A regular grid of square tiles over a frame.

    Parameters
    ----------
    height, width : int
        Frame size in pixels.
    size : int
        Tile side in pixels.
    stride : int
        Step between tiles; a last row/column of tiles flush with the far edges is
        added when the stride does not divide the frame, so every pixel is covered.

    Examples
    --------
    >>> grid = TileGrid(600, 512, size=256, stride=256)
    >>> grid.coords().tolist()
    [[0, 0], [0, 256], [256, 0], [256, 256], [344, 0], [344, 256]]
    >>> len(grid)
    6
    """

    height: int
    width: int
    size: int = 256
    stride: int = 256

    def __post_init__(self) -> None:
        for name in ("height", "width", "size", "stride"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    def coords(self) -> npt.NDArray[np.int64]:
        """Top-left pixels of all tiles, row-major, shape (N, 2) as ``(y, x)``."""
        ys = _positions(self.height, self.size, self.stride)
        xs = _positions(self.width, self.size, self.stride)
        yy, xx = np.meshgrid(ys, xs, indexing="ij")
        return np.stack([yy.ravel(), xx.ravel()], axis=1)

    def __len__(self) -> int:
        ys = _positions(self.height, self.size, self.stride)
        xs = _positions(self.width, self.size, self.stride)
        return int(ys.size * xs.size)


def nodata_fraction(
    image: ImageLike, coords: npt.NDArray[np.int64], size: int, *, nodata: float = 0
) -> npt.NDArray[np.float64]:
    """Estimate the fraction of no-data pixels of each tile.

    The frame is sampled on every 8th row and column (a memory-mapped frame is read
    sparsely), then tile fractions come from a summed-area table of the sample.

    Parameters
    ----------
    image : ndarray or Jp2Image, shape (H, W) or (H, W, C)
        The frame.
    coords : ndarray of int64, shape (N, 2)
        Tile top-left pixels ``(y, x)``.
    size : int
        Tile side in pixels.
    nodata : float
        The no-data value; a pixel is no-data when all its channels equal it.

    Returns
    -------
    ndarray of float64, shape (N,)
        Fractions in [0, 1].
    """
    step = _NODATA_STEP
    sample: npt.NDArray[Any] = np.asarray(image[::step, ::step])
    empty = sample == nodata
    if empty.ndim == 3:
        empty = empty.all(axis=2)
    table = np.zeros((empty.shape[0] + 1, empty.shape[1] + 1), dtype=np.int64)
    table[1:, 1:] = empty.cumsum(0).cumsum(1)
    y0 = -(-coords[:, 0] // step)
    x0 = -(-coords[:, 1] // step)
    y1 = np.minimum(-(-(coords[:, 0] + size) // step), empty.shape[0])
    x1 = np.minimum(-(-(coords[:, 1] + size) // step), empty.shape[1])
    count = table[y1, x1] - table[y0, x1] - table[y1, x0] + table[y0, x0]
    area = np.maximum((y1 - y0) * (x1 - x0), 1)
    frac: npt.NDArray[np.float64] = count.astype(np.float64) / area
    return frac


def tile_coords(
    image: ImageLike,
    *,
    size: int = 256,
    stride: int = 256,
    skip_nodata: bool = True,
    nodata: float = 0,
    max_nodata: float = 0.5,
) -> npt.NDArray[np.int64]:
    """Top-left pixels of the tiles to process, skipping mostly no-data tiles.

    Parameters
    ----------
    image : ndarray or Jp2Image, shape (H, W) or (H, W, C)
        The frame (only read sparsely, to find no-data margins).
    size : int
        Tile side in pixels.
    stride : int
        Step between tiles in pixels.
    skip_nodata : bool
        Drop tiles whose no-data fraction exceeds `max_nodata` (the black margins
        of HiRISE frames).
    nodata : float
        The no-data pixel value.
    max_nodata : float
        Largest no-data fraction of a kept tile, in [0, 1].

    Returns
    -------
    ndarray of int64, shape (N, 2)
        ``(y, x)`` of each kept tile, row-major.

    Raises
    ------
    ValueError
        If `size` or `stride` is not a positive integer, the frame is smaller than a
        tile, or `max_nodata` is outside [0, 1].

    Examples
    --------
    >>> frame = np.zeros((512, 768), dtype=np.uint8)
    >>> frame[:, 256:] = 100
    >>> tile_coords(frame, size=256, stride=256).tolist()
    [[0, 256], [0, 512], [256, 256], [256, 512]]
    """
    if not 0.0 <= max_nodata <= 1.0:
        raise ValueError(f"max_nodata must be in [0, 1], got {max_nodata!r}")
    height, width = int(image.shape[0]), int(image.shape[1])
    grid = TileGrid(height, width, size=size, stride=stride)
    if height < size or width < size:
        raise ValueError(f"image of shape {image.shape[:2]} is smaller than one tile of {size}")
    coords = grid.coords()
    if skip_nodata and coords.size:
        coords = coords[nodata_fraction(image, coords, size, nodata=nodata) <= max_nodata]
    return coords
