"""What every learned detector records about its training (``metrics.json``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TrainingRecord:
    """How long a learned detector trained, and on how many normal images.

    Examples
    --------
    >>> TrainingRecord(12.5, 50).info()
    {'train_seconds': 12.5, 'n_train_images': 50, 'train_seconds_per_image': 0.25}
    """

    seconds: float = 0.0
    n_images: int = 0

    def info(self) -> dict[str, Any]:
        """The training fields of ``metrics.json``."""
        return {
            "train_seconds": round(self.seconds, 3),
            "n_train_images": self.n_images,
            "train_seconds_per_image": round(self.seconds / max(self.n_images, 1), 4),
        }
