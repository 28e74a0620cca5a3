"""A small procedural station scene for examples, tests and speed benchmarks.

Not the ALLO simulator (that is :mod:`spacead.scene`): a 2-D stand-in with the
statistics that matter to the detectors — black space, sun-lit modules with
shading, gold MLI foil, dark solar arrays — plus a reference/query pair that
differs by sensor noise, an exposure gain, a pose shift and one hazard object.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from .._validate import check_fraction
from ..data import write_image

Image = npt.NDArray[np.uint8]

_WHITE = (222, 222, 215)
_GOLD = (205, 160, 62)
_GREY = (140, 142, 148)
_SOLAR = (28, 40, 92)
_HAZARDS = {
    "blanket": (235, 190, 70),
    "glove": (245, 245, 240),
    "cable": (20, 20, 20),
    "cubesat": (90, 90, 110),
}


@dataclass(frozen=True)
class ToyPair:
    """A query/reference pair with its ground truth.

    Attributes
    ----------
    query, reference : ndarray of uint8, shape (H, W, 3)
    mask : ndarray of uint8, shape (H, W)
        3-class mask of the query: 0 space, 1 station, 2 anomaly.
    """

    query: Image
    reference: Image
    mask: npt.NDArray[np.uint8]


def _station(h: int, w: int, rng: np.random.Generator) -> tuple[Image, npt.NDArray[np.uint8]]:
    img = np.zeros((h, w, 3), np.float32)
    fg = np.zeros((h, w), np.uint8)
    s = min(h, w)
    cy, cx = h * rng.uniform(0.4, 0.6), w * rng.uniform(0.4, 0.6)
    truss = (int(cx - 0.45 * w), int(cy - 0.02 * s), int(cx + 0.45 * w), int(cy + 0.02 * s))
    parts = [(truss, _GREY)]
    for k in range(3):
        x0 = int(cx + (k - 1) * 0.18 * w - 0.05 * w)
        y0 = int(cy - rng.uniform(0.1, 0.25) * s)
        parts.append(((x0, y0, x0 + int(0.1 * w), y0 + int(0.3 * s)), _WHITE if k != 1 else _GOLD))
    for side in (-1, 1):
        x0 = int(cx + side * 0.38 * w)
        parts.append(
            (
                (x0 - int(0.06 * w), int(cy - 0.3 * s), x0 + int(0.06 * w), int(cy - 0.05 * s)),
                _SOLAR,
            )
        )
        parts.append(
            (
                (x0 - int(0.06 * w), int(cy + 0.05 * s), x0 + int(0.06 * w), int(cy + 0.3 * s)),
                _SOLAR,
            )
        )
    yy = np.linspace(0.55, 1.0, h, dtype=np.float32)[:, None, None]
    for (x0, y0, x1, y1), colour in parts:
        cv2.rectangle(img, (x0, y0), (x1, y1), colour, -1)
        cv2.rectangle(fg, (x0, y0), (x1, y1), 1, -1)
    img *= yy  # sun from the bottom: a smooth shading gradient
    lines = np.zeros((h, w), np.uint8)
    step = max(4, s // 40)
    lines[::step, :] = 1
    lines[:, ::step] = 1
    solar = np.all(np.abs(img - np.array(_SOLAR, np.float32) * yy) < 40, axis=2) & (fg > 0)
    img[solar & (lines > 0)] *= 1.6  # array cell grid
    return np.clip(img, 0, 255).astype(np.uint8), fg


def make_pair(
    height: int = 270,
    width: int = 480,
    *,
    hazard: str | None = "blanket",
    size: float = 0.06,
    noise: float = 2.0,
    gain: float = 1.0,
    shift: int = 0,
    rng: int | np.random.Generator | None = None,
) -> ToyPair:
    """Make a station reference and a query with one hazard object.

    Parameters
    ----------
    height, width : int
        Image size.
    hazard : {"blanket", "glove", "cable", "cubesat"} or None
        Kind of hazard object drawn into the query (None: a normal query).
    size : float
        Hazard size as a fraction of the shorter side.
    noise : float
        Standard deviation of the query's Gaussian sensor noise (grey levels).
    gain : float
        Exposure of the reference relative to the query (the render's lighting error).
    shift : int
        Pose error: the reference is shifted by this many pixels right and down.
    rng : int, Generator or None
        Seed or generator; the same seed gives the same pair.
    """
    if hazard is not None and hazard not in _HAZARDS:
        raise ValueError(f"hazard must be one of {', '.join(_HAZARDS)} or None, got {hazard!r}")
    gen = np.random.default_rng(rng)
    scene, fg = _station(height, width, gen)
    reference = np.roll(scene, (shift, shift), axis=(0, 1)).astype(np.float32) * gain
    query = scene.astype(np.float32)
    mask = fg.copy()
    if hazard is not None:
        obj = np.zeros((height, width), np.uint8)
        r = max(2, int(size * min(height, width)))
        c = (int(gen.uniform(0.2, 0.8) * width), int(gen.uniform(0.2, 0.8) * height))
        if hazard == "cable":
            pts = np.array(
                [[c[0] + dx, c[1] + int(r * np.sin(dx / r))] for dx in range(-2 * r, 2 * r, 4)]
            )
            cv2.polylines(obj, [pts.astype(np.int32)], False, 1, max(2, r // 5))
        else:
            axes = (r, int(r * gen.uniform(0.5, 1.0)))
            cv2.ellipse(obj, c, axes, float(gen.uniform(0, 180)), 0, 360, 1, -1)
        query[obj > 0] = _HAZARDS[hazard]
        mask[obj > 0] = 2
    query += gen.normal(0.0, noise, query.shape).astype(np.float32)
    return ToyPair(
        query=np.clip(query, 0, 255).round().astype(np.uint8),
        reference=np.clip(reference, 0, 255).round().astype(np.uint8),
        mask=mask,
    )


def write_toy_dataset(
    root: str | os.PathLike[str],
    *,
    train: int = 8,
    test: int = 8,
    anomalous_fraction: float = 0.5,
    height: int = 135,
    width: int = 240,
    cameras: int = 2,
    rng: int | None = 0,
) -> Path:
    """Write a small dataset of toy pairs in the canonical ALLO layout.

    Train images are normal; test images are anomalous with probability
    ``anomalous_fraction`` and each has a reference. Meant for tests and demos;
    ``spacead generate`` makes the real simulated dataset.

    Returns
    -------
    Path
        The dataset root.
    """
    check_fraction(anomalous_fraction, "anomalous_fraction")
    out = Path(root)
    gen = np.random.default_rng(rng)
    rows = []
    for split, count in (("train", train), ("test", test)):
        for i in range(count):
            camera = f"Camera{i % cameras + 1}"
            anomalous = split == "test" and gen.random() < anomalous_fraction
            # Gold blankets only: white-on-white gloves are MRAD's known blind spot and
            # would make the toy metrics uninformative; the simulator has every kind.
            kind = "blanket" if anomalous else None
            seed = int(gen.integers(2**31))
            pair = make_pair(
                height,
                width,
                hazard=kind,
                size=float(gen.uniform(0.05, 0.1)),
                gain=float(gen.uniform(0.9, 1.1)),
                shift=int(gen.integers(0, 3)),
                rng=seed,
            )
            base = out / split / camera
            name = f"{i:05d}.png"
            write_image(base / "images" / name, pair.query)
            write_image(base / "masks" / name, pair.mask)
            if split == "test":
                write_image(base / "references" / name, pair.reference)
            rows.append(
                {
                    "image": f"{split}/{camera}/images/{name}",
                    "split": split,
                    "camera": camera,
                    "anomaly": kind or "",
                    "seed": str(seed),
                }
            )
    with (out / "manifest.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out
