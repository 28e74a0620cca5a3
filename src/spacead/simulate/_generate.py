"""Generate an ALLO-style dataset: simulated queries, exact masks and reference renders.

Besides the images, masks and references, a dataset holds ``station.glb`` (the
station with its glTF materials) and ``transforms.json`` (each test frame's
reported pose, intrinsics and lights), so anyone can render its references again.

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
from typing import Any, Literal, get_args

import numpy as np

from .._fileio import atomic_write_bytes, lock_settings
from .._parallel import RunOptions, run_options
from .._validate import check_fraction, check_positive
from ._image_io import write_image, write_mask
from ._transforms import TRANSFORMS, FrameSpec

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
    import itertools

    variants = [
        tuple(zip(config.modes, values, strict=True))
        for values in itertools.product(*(MODE_VALUES[m] for m in config.modes))
    ]
    return [Job("train", i) for i in range(config.train)] + [
        Job("test", i, v) for i in range(config.test) for v in variants
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


def _place(
    world: _World,
    camera: Any,
    rng: np.random.Generator,
    depth: float | None = None,
    scale: float | None = None,
    colour: str | None = None,
) -> tuple[Any, str, float]:
    """A hazard of a random kind at a random depth offset, or (None, "", 0) if none fits.

    ``depth`` fixes the offset (the depth mode); the random one is still drawn,
    so that every depth variant of an index holds the same hazard.
    """
    from ..scene import DEPTH_OFFSETS, HAZARD_KINDS, depth_variants, make_hazard, place_hazard

    for _ in range(6):
        kind = str(HAZARD_KINDS[int(rng.integers(len(HAZARD_KINDS)))])
        offset = float(DEPTH_OFFSETS[int(rng.integers(len(DEPTH_OFFSETS)))])
        if depth is not None:
            offset = depth
        hazard = make_hazard(kind, rng=rng)
        largest = max(MODE_VALUES["scale"])
        if scale is not None:  # placed at its largest size, so every scale shares the spot
            hazard = _scaled(hazard, largest / _NOMINAL_SCALE)
        if colour is not None:
            hazard = dataclasses.replace(hazard, material=f"{colour}_paint")
        # With the depth mode every depth must fit, so all variants draw the same placement.
        needed = DEPTH_OFFSETS if depth is not None else (0.0, offset)
        placed = place_hazard(hazard, camera, world.station, rng=rng, depth_offsets=needed)
        if placed is None:
            continue
        if offset != 0.0:  # moved at the largest size too: the same outcome for every scale
            (placed,) = depth_variants(placed, camera, world.station, offsets=(offset,))
        if placed is not None:
            if scale is not None and scale != largest:
                placed = _scaled(placed, scale / largest)
            return placed, kind, offset
    return None, "", 0.0


def _scaled(part: Any, factor: float) -> Any:
    """The part scaled by ``factor`` about the centre of its bounding box."""
    mesh = part.mesh.copy()
    centre = mesh.bounds.mean(axis=0)
    transform = np.eye(4)
    transform[:3, :3] *= factor
    transform[:3, 3] = centre * (1.0 - factor)  # x -> c + factor (x - c)
    mesh.apply_transform(transform)
    return dataclasses.replace(part, mesh=mesh)


def _render(renderer: Any, root: Path, scene: Any, camera: Any, rng: np.random.Generator) -> Any:
    """Render one image: the ray caster draws the scene as it is.

    Cycles path-traces ``station.glb`` as Blender imports it, plus the scene's
    hazard, bodies and lights: the sim-to-real setting, the CAD model a user
    would export, rendered with the materials Blender reads from it.
    """
    from ..render import CyclesRenderer

    if not isinstance(renderer, CyclesRenderer):
        return renderer.render(scene, camera, rng=rng)
    from ..scene import ANOMALY

    return renderer.render_model(
        root / STATION_GLB,
        camera,
        **_frame_lights(scene),
        extra_parts=tuple(p for p in scene.parts if p.label == ANOMALY),
        rng=rng,
    )


def _frame_lights(scene: Any) -> dict[str, Any]:
    """A scene's lights and bodies as :meth:`ReferenceRenderer.render` takes them."""
    from ..render import SPOT_POWER_PER_INTENSITY, RaycastRenderer, Sphere, Spotlight
    from ..scene import MATERIALS

    light, defaults = scene.lighting, RaycastRenderer()
    spot = Spotlight(
        light.spotlight_intensity * SPOT_POWER_PER_INTENSITY,
        defaults.spot_size_deg,
        defaults.spot_blend,
    )
    bodies = tuple(
        Sphere(b.name, _xyz(b.center), float(b.radius), MATERIALS[b.material].albedo)
        for b in scene.bodies
    )
    return {
        "sun_direction": np.asarray(light.sun_direction, np.float64),
        "sun_strength": float(light.sun_irradiance),
        "spotlight": spot,
        "bodies": bodies,
        "ambient": float(light.ambient),
    }


def _xyz(v: Any) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


def _quaternion_fields(prefix: str, rotation: Any) -> dict[str, str]:
    """The camera-to-world rotation (OpenCV axes) as a unit quaternion (x, y, z, w)."""
    from scipy.spatial.transform import Rotation

    q = Rotation.from_matrix(rotation).as_quat(canonical=True)
    return {f"{prefix}_q{a}": f"{float(x):.9g}" for a, x in zip("xyzw", q, strict=True)}


def _intrinsic_fields(prefix: str, k: Any) -> dict[str, str]:
    """Image size and pinhole intrinsics (pixels; COLMAP's pixel-centre convention)."""
    values = {"w": k.width, "h": k.height, "fx": k.fx, "fy": k.fy, "cx": k.cx, "cy": k.cy}
    return {f"{prefix}_{name}": f"{float(v):.9g}" for name, v in values.items()}


def _vector_fields(prefix: str, v: Any) -> dict[str, str]:
    return {f"{prefix}_{a}": f"{float(x):.9g}" for a, x in zip("xyz", v, strict=True)}


def render_job(root: Path, job: Job, world: _World) -> dict[str, str]:
    """Render and write one image (with mask and, for test, reference); return its manifest row.

    The random draws happen in one fixed order (pose, day, hazard, scene, exposure,
    query, reference pose and lights, reference): the same seed gives the same bytes.
    """
    from ..scene import ANOMALY, make_scene, perturb, sky_geometry

    cfg = world.config
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, SPLITS[job.split], job.index]))
    camera = perturb(world.poses[job.pose_id - 1], rng)
    geometry = sky_geometry(int(rng.integers(365)))
    hazard, kind, offset = (None, "", 0.0)
    depth, scale, colour = (job.value(k, None) for k in ("depth", "scale", "colour"))
    if job.split == "test" and rng.random() < cfg.anomalous_fraction:
        hazard, kind, offset = _place(world, camera, rng, depth, scale, colour)
    first = (MODE_VALUES["depth"][0], MODE_VALUES["scale"][0], MODE_VALUES["colour"][0])
    if hazard is None and any(
        v is not None and v != f for v, f in zip((depth, scale, colour), first, strict=True)
    ):  # a normal image has no hazard to change: only its first variant of these is kept
        return _skip(root, job, "a normal image has no hazard to change")
    scene = make_scene(world.station, hazard, geometry, rng)
    strength = job.value("illumination", 1.0)
    if strength != 1.0:
        scene = dataclasses.replace(scene, lighting=dataclasses.replace(
            scene.lighting, sun_irradiance=scene.lighting.sun_irradiance * strength))  # fmt: skip
    query = _render(_query_renderer(world, rng), root, scene, camera, rng)
    base = root / job.split / job.camera
    write_image(base / "images" / f"{job.name}.png", query.image)
    write_mask(base / "masks" / f"{job.name}.png", query.mask, palette=cfg.palette_masks)
    row: dict[str, Any] = {
        "image": f"{job.split}/{job.camera}/images/{job.name}.png",
        "split": job.split,
        "camera": job.camera,
        "pose_id": str(job.pose_id),
        **_sky_fields(geometry),
        **_camera_fields(camera),
        "anomaly": kind,
        "depth_offset": f"{offset:g}",
        "anomalous_pixels": str(int(np.count_nonzero(query.mask == ANOMALY))),
        "seed": str(cfg.seed),
    }
    if cfg.modes:  # ALLO's names: {day}_{hazard}_{illum}_..._{depth}
        row["index"] = str(job.index)
        row["illumination"] = f"{strength:g}"
        row["scale"] = "" if scale is None or hazard is None else f"{scale:g}"
        row["colour"] = "" if colour is None or hazard is None else str(colour)
    if job.split == "test":
        frame = _write_reference(root, job, world, scene, camera, rng)
        row["frame"] = frame.to_dict()
    atomic_write_bytes(job.meta_path(root), json.dumps(row).encode())
    return row


def _query_renderer(world: _World, rng: np.random.Generator) -> Any:
    """The world's renderer, with the query's exposure jitter (drawn only when it is on)."""
    renderer = world.renderer
    jitter = world.config.query_exposure_jitter
    if jitter > 0:  # drawn only then: the default keeps its bytes
        exposure = renderer.sensor.exposure * float(np.exp(rng.uniform(-jitter, jitter)))
        renderer = dataclasses.replace(
            renderer, sensor=dataclasses.replace(renderer.sensor, exposure=exposure)
        )
    return renderer


def _write_reference(
    root: Path, job: Job, world: _World, scene: Any, camera: Any, rng: np.random.Generator
) -> FrameSpec:
    """Render and write a test image's reference at the reported pose and lights: its frame."""
    from ..scene import ANOMALY, Scene, perturb

    cfg = world.config
    ref_camera = perturb(camera, rng, cfg.reference_position_sigma, cfg.reference_rotation_sigma)
    gain = 1.0 + cfg.reference_light_jitter * rng.uniform(-1.0, 1.0, size=2)
    light = dataclasses.replace(
        scene.lighting,
        sun_irradiance=scene.lighting.sun_irradiance * float(gain[0]),
        spotlight_intensity=scene.lighting.spotlight_intensity * float(gain[1]),
    )
    ref_scene = Scene(tuple(p for p in scene.parts if p.label != ANOMALY), light, scene.bodies)
    reference = _render(world.reference_renderer, root, ref_scene, ref_camera, rng)
    write_image(root / job.split / job.camera / "references" / f"{job.name}.png", reference.image)
    return _frame_spec(f"{job.split}/{job.camera}/images/{job.name}.png", ref_scene, ref_camera)


def _sky_fields(geometry: Any) -> dict[str, str]:
    """Manifest columns of the day: date, Sun, Earth and Moon directions."""
    return {
        "day": str(geometry.day),
        "date": geometry.date.isoformat(),
        **_vector_fields("sun", geometry.sun_direction),
        **_vector_fields("earth", geometry.earth_direction),
        **_vector_fields("moon", geometry.moon_direction),
    }


def _camera_fields(camera: Any) -> dict[str, str]:
    """Manifest columns of the camera: position, rotation quaternion, intrinsics."""
    return {
        **_vector_fields("cam", camera.position),
        **_quaternion_fields("cam", camera.rotation),
        **_intrinsic_fields("cam", camera.intrinsics),
    }


def _skip(root: Path, job: Job, reason: str) -> dict[str, str]:
    """Record that a variant is not rendered (its meta file marks it done)."""
    atomic_write_bytes(job.meta_path(root), json.dumps({"skipped": reason}).encode())
    return {}


def _frame_spec(file_path: str, scene: Any, camera: Any) -> FrameSpec:
    """The ``transforms.json`` frame of a test image: the reference's pose and lights.

    The reference is rendered at the pose the robot reports (the true pose plus
    the configured error) with the light levels it believes in, so those are
    what the frame records.
    """
    lights = _frame_lights(scene)
    del lights["ambient"]
    sun = lights.pop("sun_direction")
    return FrameSpec(file_path, camera, _xyz(sun), **lights)


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
    run: RunOptions | None = None,
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
    run : RunOptions, optional
        ``workers``, ``scheduler``, ``progress`` and the compute threads in one
        value (give it or those keywords, not both).

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

    options = run_options(run, workers=workers, scheduler=scheduler, progress=progress)
    if options.threads is not None:
        with options.thread_limit():
            return generate(out, config, run=dataclasses.replace(options, threads=None))
    workers, scheduler, progress = options.workers, options.scheduler, options.progress
    config = config or GenerateConfig()
    if "cycles" in (config.renderer, config.reference_renderer):
        from .._extras import require

        require("blender")  # before the folder is locked to these settings
    root = Path(out)
    _check_settings(root, config)
    if not (root / STATION_GLB).is_file():
        from ..scene import build_station, save_model

        save_model(build_station(), root / STATION_GLB)
    every = jobs(config)
    pending = [j for j in every if not j.meta_path(root).is_file()]
    total = len(every)
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
    settings = dataclasses.asdict(config)
    if not config.modes:  # as before modes existed: older folders still resume
        del settings["modes"]
    else:
        settings["modes"] = list(config.modes)
    if not config.palette_masks:  # likewise
        del settings["palette_masks"]
    changed = lock_settings(root / "generate.json", settings)
    if changed:
        raise GenerateError(
            f"{str(root)!r} was generated with other settings ({', '.join(changed)} differ); "
            "use a new output folder or the same settings to resume"
        )


def write_transforms_json(root: Path, frames: list[dict[str, Any]]) -> Path:
    """``ROOT/transforms.json``: the test frames' reported poses and lights, and the model."""
    body = {"cad": STATION_GLB, "frames": frames}
    return atomic_write_bytes(root / TRANSFORMS, (json.dumps(body, indent=1) + "\n").encode())


def write_manifest(root: Path, config: GenerateConfig) -> Path:
    """Assemble ``manifest.csv`` and ``transforms.json`` from the per-image metadata."""
    import csv
    import io

    rows = [json.loads(j.meta_path(root).read_text()) for j in jobs(config)]
    rows = [row for row in rows if "skipped" not in row]
    frames = [row.pop("frame") for row in rows if "frame" in row]
    write_transforms_json(root, frames)
    buf = io.StringIO()
    if rows:
        # The union of the rows' fields, in order: a folder resumed across spacead
        # versions holds rows with and without newer columns (left empty).
        fields = list(dict.fromkeys(k for row in rows for k in row))
        writer = csv.DictWriter(buf, fieldnames=fields, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    path = root / "manifest.csv"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(buf.getvalue())
    os.replace(tmp, path)
    return path
