"""Image-completion anomaly detection on huge orbital frames.

A feed-forward completion network (Haselmann et al., 2018) is trained on tiles of the
frames to search, with each tile's centre masked; tiles whose centre it cannot
complete (mean absolute error over the central 24 × 24) more than ``k`` standard
deviations above the mean are flagged::

    from spacead.detect.inpaint import train_inpainter, scan_image
    ckpt = train_inpainter(["frame.tif"], out="model.pt", epochs=10)
    result = scan_image("frame.tif", model=ckpt, out_dir="scan", fine_stride=16)

Paper: doi:10.1109/ICMLA.2018.00201.
"""

from ._detector import InpaintDetector, InpaintParams, train_inpaint_detector
from ._model import (
    CompletionNet,
    InpaintConfig,
    center_mask,
    corrupt,
    standardize,
    weighted_l1,
)
from ._scan import Place, ScanResult, group_places, heatmap, scan_image, score_tiles
from ._train import (
    load_checkpoint,
    load_training_tiles,
    resolve_device,
    save_checkpoint,
    set_determinism,
    train_inpainter,
    train_on_tiles,
)

__all__ = [
    "CompletionNet",
    "InpaintConfig",
    "InpaintDetector",
    "InpaintParams",
    "Place",
    "ScanResult",
    "center_mask",
    "corrupt",
    "group_places",
    "heatmap",
    "load_checkpoint",
    "load_training_tiles",
    "resolve_device",
    "save_checkpoint",
    "scan_image",
    "score_tiles",
    "set_determinism",
    "standardize",
    "train_inpaint_detector",
    "train_inpainter",
    "train_on_tiles",
    "weighted_l1",
]
