"""The image-completion network, its training, and the per-image detector (the ``inpaint`` extra).

A feed-forward completion network (Haselmann et al., 2018) completes each tile's
masked centre; its error over the scored centre is the tile's score
(:func:`score_tiles`). Training on tiles (:func:`train_on_tiles`,
:class:`TrainConfig` with :data:`PRESETS`) and checkpoints are here, and so is
the detector ``spacead evaluate --method inpaint`` (:class:`InpaintDetector`,
trained on the normal camera images of a dataset by
:func:`train_inpaint_detector`). :mod:`spacead.survey` scans huge orbital
frames with the same network. Importing this package does not import torch; its
names (but :data:`PRESETS`) do, on first use.

Paper: doi:10.1109/ICMLA.2018.00201.
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._presets import PRESETS

if TYPE_CHECKING:
    from ._config import TrainConfig
    from ._detector import InpaintDetector, InpaintParams, train_inpaint_detector
    from ._model import (
        CompletionNet,
        InpaintConfig,
        TileCentre,
        center_mask,
        corrupt,
        standardize,
        weighted_l1,
    )
    from ._score import Statistic, score_tiles
    from ._train import (
        fit_network,
        load_checkpoint,
        resolve_device,
        save_checkpoint,
        set_determinism,
        train_on_tiles,
    )

# Everything else needs torch: loaded on first use (PEP 562), so that the command line
# (its help, the presets of ``inpaint train``) and a base install never import it.
_LAZY = {
    "TrainConfig": "._config",
    "InpaintDetector": "._detector",
    "InpaintParams": "._detector",
    "train_inpaint_detector": "._detector",
    "CompletionNet": "._model",
    "InpaintConfig": "._model",
    "TileCentre": "._model",
    "center_mask": "._model",
    "corrupt": "._model",
    "standardize": "._model",
    "weighted_l1": "._model",
    "Statistic": "._score",
    "score_tiles": "._score",
    "fit_network": "._train",
    "load_checkpoint": "._train",
    "resolve_device": "._train",
    "save_checkpoint": "._train",
    "set_determinism": "._train",
    "train_on_tiles": "._train",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "PRESETS",
    "CompletionNet",
    "InpaintConfig",
    "InpaintDetector",
    "InpaintParams",
    "Statistic",
    "TileCentre",
    "TrainConfig",
    "center_mask",
    "corrupt",
    "fit_network",
    "load_checkpoint",
    "resolve_device",
    "save_checkpoint",
    "score_tiles",
    "set_determinism",
    "standardize",
    "train_inpaint_detector",
    "train_on_tiles",
    "weighted_l1",
]
