"""Training presets of the completion network (:class:`spacead.models.inpaint.TrainConfig`).

Plain values, importable without torch, so that ``spacead inpaint train --help`` can
show them.
"""

from __future__ import annotations

from typing import Any

# The presets' values; TrainConfig's defaults are "cpu". Measured in docs/inpaint-experiments.md.
PRESETS: dict[str, dict[str, Any]] = {
    # Fits a 2-core CPU: ~12 min on 8,000 tiles of a 4096-px frame; the README's
    # acceptance figures (synthetic frames) and real-terrain checks use it.
    "cpu": {
        "tile": 128,
        "input_size": 64,
        "width": 8,
        "epochs": 12,
        "batch_size": 32,
        "lr": 2e-3,
        "train_stride": 32,
        "max_tiles": 8000,
        "flip": False,
        "seed": 0,
    },
    # The article's sizes (256-px tiles resized to 128, width 32): a GPU's job
    # (about 17 h per 10 epochs of 20,000 tiles on 2 CPU cores).
    "article": {
        "tile": 256,
        "input_size": 128,
        "width": 32,
        "epochs": 10,
        "batch_size": 16,
        "lr": 1e-3,
        "train_stride": 256,
        "max_tiles": 20000,
        "flip": True,
        "seed": 0,
    },
    # Camera images of a dataset (480 × 270 and up): 64-px tiles, a few epochs.
    "camera": {
        "tile": 64,
        "input_size": 64,
        "width": 8,
        "epochs": 3,
        "batch_size": 16,
        "lr": 1e-3,
        "train_stride": 32,
        "max_tiles": 4000,
        "flip": True,
        "seed": 0,
    },
}
