"""Image and dataset input/output: images, masks, the dataset layout, ``transforms.json``.

Also ALLO import and anomalib export. Simulated datasets are made by :mod:`spacead.simulate`.
"""

from .._moved import forwarder
from ._allo_import import AlloImport, import_allo, parse_allo_name
from ._check import check_dataset
from ._dataset import AlloDataset, DatasetError, Item, Problem, Sample, load_sample, read_manifest
from ._export import export_anomalib
from ._image_io import (
    MASK_PALETTE,
    ImageReadError,
    read_image,
    read_mask_file,
    write_image,
    write_mask,
)
from ._masks import anomaly_mask, read_mask, to_three_class
from ._transforms import (
    TRANSFORMS,
    FrameSpec,
    Transforms,
    TransformsError,
    parse_frame,
    read_frame,
    read_transforms,
    write_transforms,
)

__all__ = [
    "MASK_PALETTE",
    "TRANSFORMS",
    "AlloDataset",
    "AlloImport",
    "DatasetError",
    "FrameSpec",
    "ImageReadError",
    "Item",
    "Problem",
    "Sample",
    "Transforms",
    "TransformsError",
    "anomaly_mask",
    "check_dataset",
    "export_anomalib",
    "import_allo",
    "load_sample",
    "parse_allo_name",
    "parse_frame",
    "read_frame",
    "read_image",
    "read_manifest",
    "read_mask",
    "read_mask_file",
    "read_transforms",
    "to_three_class",
    "write_image",
    "write_mask",
    "write_transforms",
]

# Moved to spacead.simulate (the simulator is not input/output); forwarded for one release.
_MOVED = {
    name: "spacead.simulate"
    for name in (
        "GenerateConfig",
        "GenerateError",
        "ToyPair",
        "generate",
        "make_pair",
        "write_toy_dataset",
    )
}
# The mask labels are spacead.scene's (one name per concept); forwarded for one release.
_MOVED.update(dict.fromkeys(("ANOMALY", "BACKGROUND", "FOREGROUND"), "spacead.scene"))
__getattr__ = forwarder(__name__, _MOVED)
