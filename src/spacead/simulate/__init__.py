"""Simulated data: ALLO-style station datasets, toy pairs, planetary frames.

``generate`` renders a station dataset in the layout of :mod:`spacead.data`
(queries, exact masks, references, ``transforms.json``, ``station.glb``);
``write_toy_dataset`` a tiny one for examples and tests; ``make_planetary_frame``
and ``plant_objects`` a HiRISE-like orbital frame with hardware planted in it,
for the survey's tests and benchmarks::

    from spacead.simulate import GenerateConfig, generate
    generate("allo-sim", GenerateConfig(train=40, test=30))
"""

from ._config import MODES, RENDERERS, GenerateConfig, GenerateError
from ._generate import generate
from ._planetary import OBJECT_KINDS, PlantedObject, make_planetary_frame, plant_objects
from ._toy import ToyPair, make_pair, write_toy_dataset

__all__ = [
    "MODES",
    "OBJECT_KINDS",
    "RENDERERS",
    "GenerateConfig",
    "GenerateError",
    "PlantedObject",
    "ToyPair",
    "generate",
    "make_pair",
    "make_planetary_frame",
    "plant_objects",
    "write_toy_dataset",
]
