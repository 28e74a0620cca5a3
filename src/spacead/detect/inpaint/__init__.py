"""Moved to :mod:`spacead.models.inpaint` (the network) and :mod:`spacead.survey`.

Every name still imports from here, with a ``DeprecationWarning``, for one release.
"""

from ..._moved import forwarder

_MOVED = {
    "PRESETS": "spacead.models.inpaint",
    "CompletionNet": "spacead.models.inpaint",
    "InpaintConfig": "spacead.models.inpaint",
    "Statistic": "spacead.models.inpaint",
    "TileCentre": "spacead.models.inpaint",
    "TrainConfig": "spacead.models.inpaint",
    "center_mask": "spacead.models.inpaint",
    "corrupt": "spacead.models.inpaint",
    "fit_network": "spacead.models.inpaint",
    "load_checkpoint": "spacead.models.inpaint",
    "resolve_device": "spacead.models.inpaint",
    "save_checkpoint": "spacead.models.inpaint",
    "score_tiles": "spacead.models.inpaint",
    "set_determinism": "spacead.models.inpaint",
    "standardize": "spacead.models.inpaint",
    "train_on_tiles": "spacead.models.inpaint",
    "weighted_l1": "spacead.models.inpaint",
    "scan_image": "spacead.survey",
    "train_inpainter": "spacead.survey",
    "load_training_tiles": "spacead.survey",
    "group_places": "spacead.survey",
    "heatmap": "spacead.survey",
    "Place": "spacead.survey",
    "ScanResult": "spacead.survey",
    "InpaintDetector": "spacead.models.inpaint",
    "InpaintParams": "spacead.models.inpaint",
    "train_inpaint_detector": "spacead.models.inpaint",
}
__all__: list[str] = []
__getattr__ = forwarder(__name__, _MOVED)
