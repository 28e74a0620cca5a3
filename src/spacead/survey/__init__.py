"""Surveys of huge orbital frames with the image-completion detector (HiRISE workflow).

The completion network (:mod:`spacead.models.inpaint`) is trained on tiles of the
frames to search, with each tile's centre masked; tiles whose centre it cannot
complete more than ``k`` standard deviations above their neighbours' are flagged and
grouped into ranked places to review::

    from spacead.survey import train_inpainter, scan_image
    ckpt = train_inpainter(["frame.tif"], out="model.pt")      # the CPU preset
    result = scan_image("frame.tif", model=ckpt, out_dir="scan")
    result.places[:10]                                          # best places first

Training takes a :class:`~spacead.models.inpaint.TrainConfig`, scanning a
:class:`ScanConfig`; the ``spacead inpaint train|scan`` commands build the same
objects from their flags. This package sits above :mod:`spacead.tiles` (reading and
cutting frames) and :mod:`spacead.models.inpaint` (the network).

Paper: doi:10.1109/ICMLA.2018.00201.
"""

from .._moved import forwarder
from ._config import ScanConfig
from ._outputs import heatmap
from ._places import Place, group_places
from ._result import ScanResult
from ._scan import scan_config, scan_image
from ._train import load_training_tiles, train_config, train_inpainter
from ._zscores import local_stats

__all__ = [
    "Place",
    "ScanConfig",
    "ScanResult",
    "group_places",
    "heatmap",
    "load_training_tiles",
    "local_stats",
    "scan_config",
    "scan_image",
    "train_config",
    "train_inpainter",
]

# The network's settings live with the network (one name per concept); forwarded for one release.
__getattr__ = forwarder(
    __name__, dict.fromkeys(("PRESETS", "TrainConfig"), "spacead.models.inpaint")
)
