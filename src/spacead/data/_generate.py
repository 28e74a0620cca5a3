"""Generate an ALLO-style dataset: simulated queries, exact masks and reference renders.

Every image is a pure function of ``(seed, split, index)``: its random stream
is ``SeedSequence([seed, split, index])``, so the same seed gives
byte-identical files whatever the number of workers or the order they run in,
and a re-run on a partial output only renders what is missing. Files are
written atomically; an item's metadata file is written last, so it marks the
item complete.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import check_fraction, check_positive
from ._image_io import write_image

SPLITS = {"train": 0, "test": 1}
RENDERERS = ("raycast", "cycles")
META_DIR = ".meta"


@dataclass(frozen=True)
class GenerateConfig:
    """What ``spacead generate`` makes.

    Attributes
    ----------
    train, test : int
        Number of train (all normal) and test images.
    anomalous_fraction : float
        Probability that a test image holds a hazard.
    width, height : int
        Image size (the paper: 1920 × 1080).
    seed : int
        Master seed; the same seed gives byte-identical output.
    reference_position_sigma, reference_rotation_sigma : float
        Pose error of the reference render (metres, radians): the domain gap.
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
    renderer: str = "raycast"
    reference_renderer: str | None = None
    samples: int = 64

    def __post_init__(self) -> None:
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
        check_fraction(self.anomalous_fraction, "anomalous_fraction")
        check_positive(self.reference_position_sigma, "reference_position_sigma", allow_zero=True)
        check_positive(self.reference_rotation_sigma, "reference_rotation_sigma", allow_zero=True)
        check_fraction(self.reference_light_jitter, "reference_light_jitter")


@dataclass(frozen=True)
class Job:
    """One image to render."""

    split: str
    index: int

    @property
    def pose_id(self) -> int:
        """1-based base pose: 1-40 for train, 41-50 for test (as the paper)."""
        return 1 + self.index % 40 if self.split == "train" else 41 + self.index % 10

    @property
    def camera(self) -> str:
        return f"Camera{self.pose_id}"

    @property
    def name(self) -> str:
        return f"{self.index:06d}"

    def meta_path(self, root: Path) -> Path:
        return root / META_DIR / self.split / f"{self.name}.json"


def jobs(config: GenerateConfig) -> list[Job]:
    """All images of a configuration, train first."""
    return [
        Job(s, i) for s, n in (("train", config.train), ("test", config.test)) for i in range(n)
    ]


@dataclass
class _World:
    """Per-process state built once: station, base poses and renderers."""

    config: GenerateConfig
    station: tuple[Any, ...] = field(default_factory=tuple)
    poses: tuple[Any, ...] = field(default_factory=tuple)
    renderer: Any = None
    reference_renderer: Any = None


_WORLD: _World | None = None


def _world(config: GenerateConfig) -> _World:
    global _WORLD
    if _WORLD is None or _WORLD.config != config:
        from ..render import SensorModel
        from ..scene import base_poses, build_station

        station = build_station()
        ref_sensor = SensorModel() if config.reference_noise else SensorModel(read_noise=0.0)
        ref_kind = config.reference_renderer or config.renderer
        _WORLD = _World(
            config,
            station,
            base_poses(station, width=config.width, height=config.height),
            _make_renderer(config.renderer, SensorModel(), config.samples),
            _make_renderer(ref_kind, ref_sensor, config.samples),
        )
    return _WORLD


def _make_renderer(kind: str, sensor: Any, samples: int) -> Any:
    from ..render import CyclesRenderer, RaycastRenderer

    if kind == "cycles":
        return CyclesRenderer(samples=samples, sensor=sensor)
    return RaycastRenderer(sensor=sensor)


def _place(world: _World, camera: Any, rng: np.random.Generator) -> tuple[Any, str, float]:
    """A hazard of a random kind at a random depth offset, or (None, "", 0) if none fits."""
    from ..scene import DEPTH_OFFSETS, HAZARD_KINDS, depth_variants, make_hazard, place_hazard

    for _ in range(6):
        kind = str(HAZARD_KINDS[int(rng.integers(len(HAZARD_KINDS)))])
        offset = float(DEPTH_OFFSETS[int(rng.integers(len(DEPTH_OFFSETS)))])
        hazard = make_hazard(kind, rng=rng)
        placed = place_hazard(hazard, camera, world.station, rng=rng, depth_offsets=(0.0, offset))
        if placed is None:
            continue
        if offset != 0.0:
            (placed,) = depth_variants(placed, camera, world.station, offsets=(offset,))
        if placed is not None:
            return placed, kind, offset
    return None, "", 0.0


def _vector_fields(prefix: str, v: Any) -> dict[str, str]:
    return {f"{prefix}_{a}": f"{float(x):.9g}" for a, x in zip("xyz", v, strict=True)}


def render_job(root: Path, job: Job, world: _World) -> dict[str, str]:
    """Render and write one image (with mask and, for test, reference); return its manifest row."""
    from ..scene import ANOMALY, Scene, make_scene, perturb, sky_geometry

    cfg = world.config
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, SPLITS[job.split], job.index]))
    camera = perturb(world.poses[job.pose_id - 1], rng)
    geometry = sky_geometry(int(rng.integers(365)))
    hazard, kind, offset = (None, "", 0.0)
    if job.split == "test" and rng.random() < cfg.anomalous_fraction:
        hazard, kind, offset = _place(world, camera, rng)
    scene = make_scene(world.station, hazard, geometry, rng)
    query = world.renderer.render(scene, camera, rng=rng)
    base = root / job.split / job.camera
    write_image(base / "images" / f"{job.name}.png", query.image)
    write_image(base / "masks" / f"{job.name}.png", query.mask)
    if job.split == "test":
        ref_camera = perturb(
            camera, rng, cfg.reference_position_sigma, cfg.reference_rotation_sigma
        )
        gain = 1.0 + cfg.reference_light_jitter * rng.uniform(-1.0, 1.0, size=2)
        light = dataclasses.replace(
            scene.lighting,
            sun_irradiance=scene.lighting.sun_irradiance * float(gain[0]),
            spotlight_intensity=scene.lighting.spotlight_intensity * float(gain[1]),
        )
        parts = tuple(p for p in scene.parts if p.label != ANOMALY)
        reference = world.reference_renderer.render(
            Scene(parts, light, scene.bodies), ref_camera, rng=rng
        )
        write_image(base / "references" / f"{job.name}.png", reference.image)
    row = {
        "image": f"{job.split}/{job.camera}/images/{job.name}.png",
        "split": job.split,
        "camera": job.camera,
        "pose_id": str(job.pose_id),
        "day": str(geometry.day),
        "date": geometry.date.isoformat(),
        **_vector_fields("sun", geometry.sun_direction),
        **_vector_fields("earth", geometry.earth_direction),
        **_vector_fields("moon", geometry.moon_direction),
        **_vector_fields("cam", camera.position),
        "anomaly": kind,
        "depth_offset": f"{offset:g}",
        "anomalous_pixels": str(int(np.count_nonzero(query.mask == ANOMALY))),
        "seed": str(cfg.seed),
    }
    meta = job.meta_path(root)
    meta.parent.mkdir(parents=True, exist_ok=True)
    tmp = meta.with_suffix(".tmp")
    tmp.write_text(json.dumps(row))
    os.replace(tmp, meta)
    return row


def _render_chunk(root: Path, chunk: Sequence[Job], config: GenerateConfig) -> int:
    world = _world(config)
    for job in chunk:
        render_job(root, job, world)
    return len(chunk)


def _chunks(items: Sequence[Job], size: int) -> Iterator[list[Job]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class GenerateError(ValueError):
    """An output folder holds a dataset generated with other settings."""


def generate(
    out: str | os.PathLike[str],
    config: GenerateConfig | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
) -> Path:
    """Write an ALLO-layout dataset to ``out``; resume if ``out`` holds a partial run.

    Parameters
    ----------
    out : path-like
        Output root: ``<split>/Camera<k>/{images,masks,references}/<name>.png``,
        ``manifest.csv`` and ``generate.json`` (the settings).
    config : GenerateConfig, optional
        What to make; defaults to ``GenerateConfig()``.
    workers : int, optional
        Worker processes (default: one per core); 1 renders in this process.
    scheduler : str, optional
        Dask scheduler address, or ``"local"`` for a local Dask cluster; the
        files are byte-identical either way, and a lost worker's images are
        re-rendered elsewhere.
    progress : bool
        Show a progress bar (images/s) on stderr.

    Returns
    -------
    Path
        The dataset root.

    Raises
    ------
    GenerateError
        If ``out`` was generated with different settings (resuming would mix them).
    """
    import sys

    from tqdm import tqdm

    from .._parallel import run_tasks

    config = config or GenerateConfig()
    root = Path(out)
    _check_settings(root, config)
    pending = [j for j in jobs(config) if not j.meta_path(root).is_file()]
    total = config.train + config.test
    bar = tqdm(
        total=total,
        initial=total - len(pending),
        unit="img",
        desc="generate",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    )
    tasks = [(root, chunk, config) for chunk in _chunks(pending, 4)]
    for done in run_tasks(_render_chunk, tasks, workers=workers, scheduler=scheduler):
        bar.update(done)
    bar.close()
    write_manifest(root, config)
    from ._check import check_dataset

    problems = check_dataset(root)
    if problems:
        shown = "; ".join(str(p) for p in problems[:5])
        raise GenerateError(f"integrity check of {str(root)!r} failed ({len(problems)}): {shown}")
    return root


def _check_settings(root: Path, config: GenerateConfig) -> None:
    path = root / "generate.json"
    settings = dataclasses.asdict(config)
    if path.is_file():
        previous = json.loads(path.read_text())
        if previous != settings:
            changed = sorted(k for k in settings if previous.get(k) != settings[k])
            raise GenerateError(
                f"{str(root)!r} was generated with other settings ({', '.join(changed)} differ); "
                "use a new output folder or the same settings to resume"
            )
        return
    root.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def write_manifest(root: Path, config: GenerateConfig) -> Path:
    """Assemble ``manifest.csv`` from the per-image metadata, in generation order."""
    import csv
    import io

    rows = [json.loads(j.meta_path(root).read_text()) for j in jobs(config)]
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    path = root / "manifest.csv"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(buf.getvalue())
    os.replace(tmp, path)
    return path
