"""What ``spacead generate`` makes: its settings and the images they imply."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from .._limits import check_allocation
from .._validate import check_fraction, check_positive

# Peak memory of a frame while it is rendered, measured with /usr/bin/time: 1440 x 810
# takes 188 MB more than 480 x 270 (about 180 bytes a pixel); rounded up.
RENDER_BYTES_PER_PIXEL = 200

SPLITS = {"train": 0, "test": 1}
Renderer = Literal["raycast", "cycles"]
RENDERERS: tuple[Renderer, ...] = get_args(Renderer)
# ALLO's generation modes (its render_config.yaml): every placement rendered in each variant.
MODE_VALUES: dict[str, tuple[Any, ...]] = {
    "illumination": (1.0, 5.0, 10.0),  # Sun strength, relative to the nominal
    "depth": (0.0, -1.0, 1.0, -2.0, 2.0),  # metres along the viewing ray (+ = farther)
    "scale": (0.3, 0.5, 0.7),  # ALLO's object scales; 0.5 = the hazard's own size
    "colour": ("red", "blue", "yellow", "green"),  # the hazard painted in this colour
}
MODES = tuple(MODE_VALUES)
_NOMINAL_SCALE = 0.5
META_DIR = ".meta"
STATION_GLB = "station.glb"


@dataclass(frozen=True)
class GenerateConfig:
    """What ``spacead generate`` makes.

    Attributes
    ----------
    train : int
        Number of train images (all normal).
    test : int
        Number of test images.
    anomalous_fraction : float
        Probability that a test image holds a hazard.
    width : int
        Image width (the paper: 1920).
    height : int
        Image height (the paper: 1080).
    seed : int
        Master seed; the same seed gives byte-identical output.
    reference_position_sigma : float
        Position error in metres of the pose the references are rendered from
        (and ``transforms.json`` reports): the domain gap.
    reference_rotation_sigma : float
        Roll, pitch and yaw error of that pose in radians (0.005 rad is 0.29°).
    reference_light_jitter : float
        Relative random change of Sun and spotlight intensity in the reference.
    reference_noise : bool
        Add sensor noise to the reference too (a CAD render has none by default).
    renderer : {"raycast", "cycles"}
        Renderer of the query images: the fast Embree ray caster, or Blender
        Cycles (needs ``bpy``; see the README).
    reference_renderer : {"raycast", "cycles"} or None
        Renderer of the references; None uses ``renderer``. ``"raycast"`` with
        Cycles queries is the sim-to-real setting: a "real" path-traced query
        against a cheap CAD render.
    samples : int
        Cycles samples per pixel.
    query_exposure_jitter : float
        Each query's sensor exposure is multiplied by ``exp(U(-j, j))``, like a
        camera's auto-exposure that the reference cannot know (0 = fixed).
    modes : tuple of {"illumination", "depth", "scale", "colour"}
        ALLO's generation modes: every test placement is rendered in each
        variant of these (illumination: Sun strength x1, x5, x10; depth: the
        hazard at 0, -1, +1, -2, +2 m along the viewing ray; scale: the hazard
        at 0.3, 0.5, 0.7 of ALLO's scale, 0.5 being its own size; colour: the
        hazard painted red, blue, yellow, green), each variant its own image
        ``<index>_i<strength>_d<offset>_s<scale>_c<colour>`` (the modes given)
        with the values in the manifest. A normal test image has no hazard to
        change: it gets the illumination variants only. Empty (default): one
        image per index.
    palette_masks : bool
        Write the 3-class masks as palette PNGs (values 0/1/2 shown black, grey
        and red in image viewers; see :func:`spacead.data.write_mask`). Off by
        default: OpenCV and ALLO's scripts read a palette PNG as its colours.
    """

    train: int = 40
    test: int = 200
    anomalous_fraction: float = 0.5
    width: int = 480
    height: int = 270
    seed: int = 0
    reference_position_sigma: float = 0.05
    reference_rotation_sigma: float = 0.005
    reference_light_jitter: float = 0.1
    reference_noise: bool = False
    renderer: Renderer = "raycast"
    reference_renderer: Renderer | None = None
    samples: int = 64
    query_exposure_jitter: float = 0.0
    modes: tuple[str, ...] = ()
    palette_masks: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "modes", tuple(self.modes))
        for mode in self.modes:
            if mode not in MODES:
                raise ValueError(f"unknown generation mode {mode!r}; modes: {', '.join(MODES)}")
        if len(set(self.modes)) != len(self.modes):
            raise ValueError(f"modes must not repeat, got {', '.join(self.modes)}")
        for name in ("renderer", "reference_renderer"):
            value = getattr(self, name)
            if value not in RENDERERS and not (name == "reference_renderer" and value is None):
                raise ValueError(f"{name} must be one of {', '.join(RENDERERS)}, got {value!r}")
        if self.samples < 1:
            raise ValueError(f"samples must be >= 1, got {self.samples!r}")
        for name in ("train", "test"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if self.width < 16 or self.height < 16:
            raise ValueError(
                f"image size must be at least 16 x 16, got {self.width} x {self.height}"
            )
        check_allocation(
            RENDER_BYTES_PER_PIXEL * self.width * self.height,
            f"rendering {self.width} x {self.height} frames",
        )
        check_fraction(self.anomalous_fraction, "anomalous_fraction")
        check_positive(self.reference_position_sigma, "reference_position_sigma", allow_zero=True)
        check_positive(self.reference_rotation_sigma, "reference_rotation_sigma", allow_zero=True)
        check_fraction(self.reference_light_jitter, "reference_light_jitter")
        check_positive(self.query_exposure_jitter, "query_exposure_jitter", allow_zero=True)


@dataclass(frozen=True)
class Job:
    """One image to render."""

    split: str
    index: int
    variant: tuple[tuple[str, Any], ...] = ()  # (mode, value) pairs; () without modes

    @property
    def pose_id(self) -> int:
        """1-based base pose: 1-40 for train, 41-50 for test (as the paper)."""
        return 1 + self.index % 40 if self.split == "train" else 41 + self.index % 10

    @property
    def camera(self) -> str:
        return f"Camera{self.pose_id}"

    @property
    def name(self) -> str:
        tags = "".join(
            f"_{mode[0]}{value:g}" if isinstance(value, float) else f"_{mode[0]}{value}"
            for mode, value in self.variant
        )
        return f"{self.index:06d}{tags}"

    def value(self, mode: str, default: Any) -> Any:
        """The image's value of a generation mode (``default`` when the mode is off)."""
        return dict(self.variant).get(mode, default)

    def meta_path(self, root: Path) -> Path:
        return root / META_DIR / self.split / f"{self.name}.json"


def jobs(config: GenerateConfig) -> list[Job]:
    """All images of a configuration, train first; test indices times their mode variants."""
    variants = [
        tuple(zip(config.modes, values, strict=True))
        for values in itertools.product(*(MODE_VALUES[m] for m in config.modes))
    ]
    return [Job("train", i) for i in range(config.train)] + [
        Job("test", i, v) for i in range(config.test) for v in variants
    ]


class GenerateError(ValueError):
    """An output folder holds a dataset generated with other settings."""
