"""The image-completion network, its training, and the per-image detector (the ``inpaint`` extra).

A feed-forward completion network (Haselmann et al., 2018) completes each tile's
masked centre; its error over the scored centre is the tile's score
(:func:`score_tiles`). Training on tiles (:func:`train_on_tiles`,
:class:`TrainConfig` with :data:`PRESETS`) and checkpoints are here, and so is
the detector ``spacead evaluate --method inpaint`` (:class:`InpaintDetector`,
trained on the normal camera images of a dataset by
:func:`train_inpaint_detector`). :mod:`spacead.survey` scans huge orbital
frames with the same network. Importing this package imports torch.

Paper: doi:10.1109/ICMLA.2018.00201.
"""

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
from ._presets import PRESETS
from ._score import Statistic, score_tiles
from ._train import (
    fit_network,
    load_checkpoint,
    resolve_device,
    save_checkpoint,
    set_determinism,
    train_on_tiles,
)

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
