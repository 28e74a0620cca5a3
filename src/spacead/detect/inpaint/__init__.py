"""The image-completion network and per-tile scoring (needs the ``inpaint`` extra: torch).

A feed-forward completion network (Haselmann et al., 2018) completes each tile's
masked centre; its error over the scored centre is the tile's score
(:func:`score_tiles`). Training on tiles (:func:`train_on_tiles`, :class:`TrainConfig`
with presets) and checkpoints are here too. What uses it:

- :mod:`spacead.survey`: scanning huge orbital frames (``spacead inpaint``);
- :class:`spacead.baselines.InpaintDetector`: a learned per-image detector on camera
  images (``spacead evaluate --method inpaint``).

Paper: doi:10.1109/ICMLA.2018.00201.
"""

from ..._moved import forwarder
from .._presets import PRESETS
from ._config import TrainConfig
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

__all__ = [
    "PRESETS",
    "CompletionNet",
    "InpaintConfig",
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
    "train_on_tiles",
    "weighted_l1",
]

# Names that moved: the frame survey to spacead.survey, the camera-image detector
# to spacead.baselines. Kept importable from here, with a DeprecationWarning.
_MOVED = {
    "scan_image": "spacead.survey",
    "train_inpainter": "spacead.survey",
    "load_training_tiles": "spacead.survey",
    "group_places": "spacead.survey",
    "heatmap": "spacead.survey",
    "Place": "spacead.survey",
    "ScanResult": "spacead.survey",
    "InpaintDetector": "spacead.baselines",
    "InpaintParams": "spacead.baselines",
    "train_inpaint_detector": "spacead.baselines",
}


__getattr__ = forwarder(__name__, _MOVED)
