"""Image and dataset input/output, and toy data for examples and tests."""

from ._allo_import import AlloImport, import_allo, parse_allo_name
from ._check import check_dataset
from ._dataset import AlloDataset, DatasetError, Item, Problem, Sample, load_sample, read_manifest
from ._export import export_anomalib
from ._generate import GenerateConfig, GenerateError, generate
from ._image_io import (
    MASK_PALETTE,
    ImageReadError,
    read_image,
    read_mask_file,
    write_image,
    write_mask,
)
from ._masks import ANOMALY, BACKGROUND, FOREGROUND, anomaly_mask, read_mask, to_three_class
from ._toy import ToyPair, make_pair, write_toy_dataset
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
    "ANOMALY",
    "BACKGROUND",
    "FOREGROUND",
    "MASK_PALETTE",
    "TRANSFORMS",
    "AlloDataset",
    "AlloImport",
    "DatasetError",
    "FrameSpec",
    "GenerateConfig",
    "GenerateError",
    "ImageReadError",
    "Item",
    "Problem",
    "Sample",
    "ToyPair",
    "Transforms",
    "TransformsError",
    "anomaly_mask",
    "check_dataset",
    "export_anomalib",
    "generate",
    "import_allo",
    "load_sample",
    "make_pair",
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
    "write_toy_dataset",
    "write_transforms",
]
