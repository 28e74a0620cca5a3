"""Small hand-made scenes with known anomalies, shared by the tests."""

from __future__ import annotations

import numpy as np


def flat_scene(
    shape: tuple[int, int] = (240, 320),
    value: tuple[int, int, int] = (110, 112, 118),
    noise: float = 2.0,
    seed: int = 0,
) -> np.ndarray:
    """A flat grey plate with Gaussian sensor noise, as uint8."""
    rng = np.random.default_rng(seed)
    img = np.empty((*shape, 3), np.float32)
    img[:] = value
    img += rng.normal(0, noise, img.shape)
    return np.clip(img, 0, 255).round().astype(np.uint8)


def add_blob(
    image: np.ndarray,
    center: tuple[int, int] = (120, 160),
    radius: int = 18,
    colour: tuple[int, int, int] = (235, 190, 70),
) -> tuple[np.ndarray, np.ndarray]:
    """Paint a filled disc; return (new image, boolean disc mask)."""
    yy, xx = np.mgrid[: image.shape[0], : image.shape[1]]
    disc = (yy - center[0]) ** 2 + (xx - center[1]) ** 2 <= radius**2
    out = image.copy()
    out[disc] = colour
    return out, disc


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a & b) / max(1, np.count_nonzero(a | b)))


def terrain_tiles(n=24, seed=0):
    """`n` 64-px tiles of a synthetic terrain frame, scaled to [0, 1] (completion-network tests)."""
    from spacead.simulate import make_planetary_frame

    image, _ = make_planetary_frame(512, 512, rng=seed, n_objects=0, margins=False)
    ys, xs = np.meshgrid(np.arange(0, 448, 64), np.arange(0, 448, 64), indexing="ij")
    tiles = [image[y : y + 64, x : x + 64] for y, x in zip(ys.ravel(), xs.ravel(), strict=True)]
    return (np.stack(tiles[:n]) / 255.0).astype(np.float32)
