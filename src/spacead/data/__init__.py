"""Image and dataset input/output, and toy data for examples and tests."""

from ._image_io import ImageReadError, read_image, write_image
from ._toy import ToyPair, make_pair

__all__ = ["ImageReadError", "ToyPair", "make_pair", "read_image", "write_image"]
