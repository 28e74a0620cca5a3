"""A scan's files: tiles.csv, detections.csv, summary.json, heatmap.png, hits/."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .._fileio import atomic_write_bytes, write_csv
from ..data import write_image
from ..models.inpaint import TileCentre
from ..tiles import ImageLike, intensity_scale, read_region
from ._result import ScanResult


def write_outputs(result: ScanResult, frame: ImageLike, max_crops: int) -> None:
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
    try:  # JSON has no NaN: a non-finite figure is an error, never an unreadable file
        summary = json.dumps(result.summary(), indent=2, allow_nan=False) + "\n"
    except ValueError:
        raise ValueError(
            f"{str(out / 'summary.json')!r} not written: the scan's summary holds NaN or "
            "infinite values"
        ) from None
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
    half = max(result.stride, TileCentre(result.tile).scored, f) // 2
    for (y, x), z in zip(result.coords, result.z, strict=True):
        cy, cx = (y + result.tile // 2), (x + result.tile // 2)
        ys = slice((cy - half) // f, (cy + half) // f + 1)
        xs = slice((cx - half) // f, (cx + half) // f + 1)
        heat[ys, xs] = np.maximum(heat[ys, xs], z)
    norm = np.clip((heat + 1) / (2 * result.k + 1), 0, 1)
    rgb = mpl.colormaps["inferno"](np.nan_to_num(norm, neginf=0.0))[..., :3]
    rgb[~np.isfinite(heat)] = 0
    return (rgb * 255).astype(np.uint8)
