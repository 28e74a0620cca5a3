"""Image and dataset input/output, and toy data for examples and tests."""

from ._check import check_dataset
from ._dataset import AlloDataset, DatasetError, Item, Problem, Sample, load_sample, read_manifest
from ._export import export_anomalib
from ._generate import GenerateConfig, GenerateError, generate
from ._image_io import ImageReadError, read_image, write_image
from ._masks import ANOMALY, BACKGROUND, FOREGROUND, anomaly_mask, to_three_class
from ._toy import ToyPair, make_pair, write_toy_dataset

__all__ = [
    "ANOMALY",
    "BACKGROUND",
    "FOREGROUND",
    "AlloDataset",
    "DatasetError",
    "GenerateConfig",
    "GenerateError",
    "ImageReadError",
    "Item",
    "Problem",
    "Sample",
    "ToyPair",
    "anomaly_mask",
    "check_dataset",
    "export_anomalib",
    "generate",
    "load_sample",
    "make_pair",
    "read_image",
    "read_manifest",
    "to_three_class",
    "write_image",
    "write_toy_dataset",
]
