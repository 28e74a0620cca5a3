"""Tiling of huge orbital frames: memory-mapped reading, tile grids, batches.

A tile is addressed by the frame pixel of its top-left corner ``(y, x)``, so scores
map back to the frame::

    from spacead.tiles import open_image, tile_coords, iter_tile_batches
    frame = open_image("ESP_028335_1755_RED.tif")        # numpy.memmap, not loaded
    coords = tile_coords(frame, size=256, stride=256)    # black margins skipped
    for yx, tiles in iter_tile_batches(frame, coords, out_size=128):
        ...
"""

from .._moved import forwarder
from ._grid import TileGrid, nodata_fraction, tile_coords
from ._io import ImageLike, Jp2Image, open_image, read_region, write_tiff
from ._reader import intensity_scale, iter_tile_batches, prepare_tile, sample_tiles, to_gray

__all__ = [
    "ImageLike",
    "Jp2Image",
    "TileGrid",
    "intensity_scale",
    "iter_tile_batches",
    "nodata_fraction",
    "open_image",
    "prepare_tile",
    "read_region",
    "sample_tiles",
    "tile_coords",
    "to_gray",
    "write_tiff",
]

# Moved to spacead.simulate with the other simulated data; forwarded for one release.
_MOVED = {
    name: "spacead.simulate"
    for name in ("OBJECT_KINDS", "PlantedObject", "make_planetary_frame", "plant_objects")
}
__getattr__ = forwarder(__name__, _MOVED)
