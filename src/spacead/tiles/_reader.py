"""Streaming tiles out of a frame in batches, resized to a model's input."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from ._grid import tile_coords
from ._io import ImageLike, read_region

FloatBatch = npt.NDArray[np.float32]


def intensity_scale(image: ImageLike, *, nodata: float = 0) -> float:
    """The value that maps a frame's intensities to about [0, 1].

    ``uint8`` frames use 255. Other frames (e.g. 10-bit HiRISE data in ``uint16``)
    use the 99.9th percentile of a sparse sample of their valid pixels.

    Parameters
    ----------
    image : ndarray or Jp2Image
        The frame.
    nodata : float
        The no-data value, left out of the percentile.

    Returns
    -------
    float
        A positive scale.

    Examples
    --------
    >>> intensity_scale(np.zeros((4, 4), dtype=np.uint8))
    255.0
    """
    if np.dtype(image.dtype) == np.uint8:
        return 255.0
    step = max(1, int(max(image.shape[0], image.shape[1]) // 1024))
    sample = np.asarray(image[::step, ::step], dtype=np.float64)
    valid = sample[sample != nodata]
    if valid.size == 0 or not np.isfinite(valid).all():
        return 1.0
    return float(max(np.percentile(valid, 99.9), 1e-6))


def to_gray(tile: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """Average the channels of an (H, W, C) tile; (H, W) tiles pass through as float32."""
    arr = np.asarray(tile, dtype=np.float32)
    if arr.ndim == 3:
        arr = arr[..., :3].mean(axis=2, dtype=np.float32)
    return arr


def prepare_tile(
    tile: npt.NDArray[Any], *, out_size: int, scale: float, nodata: float | None = None
) -> npt.NDArray[np.float32]:
    """Convert a tile to gray, divide by `scale` and resize it to `out_size` square.

    With `nodata`, no-data pixels take the mean of the tile's valid pixels, so a
    frame's black margin reads as featureless ground instead of a sharp edge.
    """
    gray = to_gray(tile)
    if nodata is not None:
        invalid = gray == np.float32(nodata)
        if invalid.any() and not invalid.all():
            gray[invalid] = gray[~invalid].mean()
    gray = gray / np.float32(scale)
    if gray.shape != (out_size, out_size):
        gray = cv2.resize(gray, (out_size, out_size), interpolation=cv2.INTER_AREA)
    out: npt.NDArray[np.float32] = np.ascontiguousarray(gray, dtype=np.float32)
    return out


def iter_tile_batches(
    image: ImageLike,
    coords: npt.NDArray[np.int64],
    *,
    size: int = 256,
    out_size: int = 128,
    batch_size: int = 64,
    scale: float | None = None,
    nodata: float | None = None,
) -> Iterator[tuple[npt.NDArray[np.int64], FloatBatch]]:
    """Yield batches of tiles, gray, scaled to about [0, 1] and resized.

    Tiles that share a row are cut from one strip read of the frame, so a memory-mapped
    or JPEG 2000 frame is read strip by strip, never whole.

    Parameters
    ----------
    image : ndarray or Jp2Image, shape (H, W) or (H, W, C)
        The frame.
    coords : ndarray of int64, shape (N, 2)
        Top-left pixels ``(y, x)`` of the tiles, e.g. from :func:`tile_coords`.
    size : int
        Tile side in frame pixels.
    out_size : int
        Side of the yielded tiles (the model input).
    batch_size : int
        Tiles per batch (the last batch may be smaller).
    scale : float, optional
        Intensity divisor; :func:`intensity_scale` of the frame by default.
    nodata : float, optional
        No-data value to fill with each tile's valid mean (see :func:`prepare_tile`).

    Yields
    ------
    coords : ndarray of int64, shape (B, 2)
        The batch's tile addresses, in the order of `coords`.
    tiles : ndarray of float32, shape (B, out_size, out_size)
        The tiles.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    coords = np.asarray(coords, dtype=np.int64).reshape(-1, 2)
    s = intensity_scale(image) if scale is None else float(scale)
    buf_c: list[npt.NDArray[np.int64]] = []
    buf_t: list[npt.NDArray[np.float32]] = []
    start = 0
    while start < len(coords):
        y = int(coords[start, 0])
        stop = start
        while stop < len(coords) and coords[stop, 0] == y:
            stop += 1
        row = coords[start:stop]
        x0, x1 = int(row[:, 1].min()), int(row[:, 1].max()) + size
        strip = read_region(image, y, x0, size, x1 - x0)
        for cy, cx in row:
            tile = strip[:, cx - x0 : cx - x0 + size]
            buf_c.append(np.array([cy, cx], dtype=np.int64))
            buf_t.append(prepare_tile(tile, out_size=out_size, scale=s, nodata=nodata))
            if len(buf_t) == batch_size:
                yield np.stack(buf_c), np.stack(buf_t)
                buf_c, buf_t = [], []
        start = stop
    if buf_t:
        yield np.stack(buf_c), np.stack(buf_t)


def sample_tiles(
    frames: Iterable[ImageLike],
    *,
    size: int,
    stride: int,
    out_size: int,
    max_tiles: int | None = None,
    seed: int | np.random.Generator = 0,
    nodata: float | None = 0,
    scale: float | None = None,
) -> npt.NDArray[np.float32]:
    """Cut training tiles from frames: the grid of :func:`tile_coords`, gray, resized.

    Both ways of training the completion network (on orbital frames and on a
    dataset's camera images) cut their tiles here.

    Parameters
    ----------
    frames : iterable of ndarray or Jp2Image
        The frames (opened with :func:`open_image`, or arrays).
    size, stride : int
        Tile side and step in frame pixels; the grid ends with a tile flush with
        the far edges.
    out_size : int
        Side of the returned tiles.
    max_tiles : int, optional
        Keep a random subset of at most this many tiles, in frame order.
    seed : int or numpy.random.Generator
        Seed (or generator, which then advances) of that subset.
    nodata : float or None
        No-data value: tiles more than half no-data are skipped and no-data pixels
        take the tile's valid mean. None for images without no-data (camera
        frames, where black is space).
    scale : float, optional
        Intensity divisor (:func:`intensity_scale` of each frame by default).

    Returns
    -------
    ndarray of float32, shape (N, out_size, out_size)

    Raises
    ------
    ValueError
        If no frame is given, a frame is smaller than a tile, or no tile is valid.
    """
    chunks: list[FloatBatch] = []
    n_frames = 0
    for frame in frames:
        n_frames += 1
        coords = tile_coords(
            frame,
            size=size,
            stride=stride,
            skip_nodata=nodata is not None,
            nodata=0 if nodata is None else nodata,
        )
        batches = iter_tile_batches(
            frame, coords, size=size, out_size=out_size, scale=scale, nodata=nodata
        )
        chunks += [t for _, t in batches]
    if n_frames == 0:
        raise ValueError("no frame to cut training tiles from")
    if not chunks:
        raise ValueError(f"no valid {size}-px tile in the {n_frames} frame(s)")
    tiles = np.concatenate(chunks)
    if max_tiles is not None and len(tiles) > max_tiles:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        keep = np.sort(rng.choice(len(tiles), max_tiles, replace=False))
        tiles = tiles[keep]
    return tiles
