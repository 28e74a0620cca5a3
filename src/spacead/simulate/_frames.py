"""One simulated image: its scene, its renders, its files and its manifest row.

Every image is a pure function of ``(seed, split, index)``: its random stream
is ``SeedSequence([seed, split, index])`` and the draws happen in one fixed
order, so the same seed gives byte-identical files whatever the number of
workers or the order they run in.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.spatial.transform import Rotation

from .._fileio import atomic_write_bytes
from ..data import FrameSpec, write_image, write_mask
from ..render import (
    SPOT_POWER_PER_INTENSITY,
    CyclesRenderer,
    RaycastRenderer,
    SensorModel,
    Sphere,
    Spotlight,
)
from ..scene import (
    ANOMALY,
    DEPTH_OFFSETS,
    HAZARD_KINDS,
    Camera,
    Intrinsics,
    Part,
    RenderResult,
    Scene,
    SkyGeometry,
    base_poses,
    build_station,
    depth_variants,
    make_hazard,
    make_scene,
    perturb,
    place_hazard,
    sky_geometry,
)
from ._config import _NOMINAL_SCALE, MODE_VALUES, SPLITS, STATION_GLB, GenerateConfig, Job

AnyRenderer = RaycastRenderer | CyclesRenderer


@dataclass(frozen=True)
class World:
    """Per-process state built once per configuration: station, base poses and renderers."""

    config: GenerateConfig
    station: tuple[Part, ...]
    poses: tuple[Camera, ...]
    renderer: AnyRenderer
    reference_renderer: AnyRenderer


@functools.lru_cache(maxsize=1)
def world(config: GenerateConfig) -> World:
    """The :class:`World` of ``config``, built once per process (workers render many chunks)."""
    station = build_station()
    ref_sensor = SensorModel() if config.reference_noise else SensorModel(read_noise=0.0)
    ref_kind = config.reference_renderer or config.renderer
    return World(
        config,
        station,
        tuple(base_poses(station, width=config.width, height=config.height)),
        _make_renderer(config.renderer, SensorModel(), config.samples),
        _make_renderer(ref_kind, ref_sensor, config.samples),
    )


def _make_renderer(kind: str, sensor: SensorModel, samples: int) -> AnyRenderer:
    if kind == "cycles":
        return CyclesRenderer(samples=samples, sensor=sensor)
    return RaycastRenderer(sensor=sensor)


def _place(
    world: World,
    camera: Camera,
    rng: np.random.Generator,
    depth: float | None = None,
    scale: float | None = None,
    colour: str | None = None,
) -> tuple[Part | None, str, float]:
    """A hazard of a random kind at a random depth offset, or (None, "", 0) if none fits.

    ``depth`` fixes the offset (the depth mode); the random one is still drawn,
    so that every depth variant of an index holds the same hazard.
    """
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


def _scaled(part: Part, factor: float) -> Part:
    """The part scaled by ``factor`` about the centre of its bounding box."""
    mesh = part.mesh.copy()
    centre = mesh.bounds.mean(axis=0)
    transform = np.eye(4)
    transform[:3, :3] *= factor
    transform[:3, 3] = centre * (1.0 - factor)  # x -> c + factor (x - c)
    mesh.apply_transform(transform)
    return dataclasses.replace(part, mesh=mesh)


def _render(
    renderer: AnyRenderer, root: Path, scene: Scene, camera: Camera, rng: np.random.Generator
) -> RenderResult:
    """Render one image: the ray caster draws the scene as it is.

    Cycles path-traces ``station.glb`` as Blender imports it, plus the scene's
    hazard, bodies and lights: the sim-to-real setting, the CAD model a user
    would export, rendered with the materials Blender reads from it.
    """
    if not isinstance(renderer, CyclesRenderer):
        return renderer.render(scene, camera, rng=rng)
    return renderer.render_model(
        root / STATION_GLB,
        camera,
        **_frame_lights(scene),
        extra_parts=tuple(p for p in scene.parts if p.label == ANOMALY),
        rng=rng,
    )


def _frame_lights(scene: Scene) -> dict[str, Any]:
    """A scene's lights and bodies as :meth:`ReferenceRenderer.render` takes them."""
    light, defaults = scene.lighting, RaycastRenderer()
    spot = Spotlight(
        light.spotlight_intensity * SPOT_POWER_PER_INTENSITY,
        defaults.spot_size_deg,
        defaults.spot_blend,
    )
    bodies = tuple(Sphere.from_body(b) for b in scene.bodies)
    return {
        "sun_direction": np.asarray(light.sun_direction, np.float64),
        "sun_strength": float(light.sun_irradiance),
        "spotlight": spot,
        "bodies": bodies,
        "ambient": float(light.ambient),
    }


def _xyz(v: npt.ArrayLike) -> tuple[float, float, float]:
    v = np.asarray(v, np.float64)
    return (float(v[0]), float(v[1]), float(v[2]))


def _quaternion_fields(prefix: str, rotation: npt.ArrayLike) -> dict[str, str]:
    """The camera-to-world rotation (OpenCV axes) as a unit quaternion (x, y, z, w)."""
    q = Rotation.from_matrix(rotation).as_quat(canonical=True)
    return {f"{prefix}_q{a}": f"{float(x):.9g}" for a, x in zip("xyzw", q, strict=True)}


def _intrinsic_fields(prefix: str, k: Intrinsics) -> dict[str, str]:
    """Image size and pinhole intrinsics (pixels; COLMAP's pixel-centre convention)."""
    values = {"w": k.width, "h": k.height, "fx": k.fx, "fy": k.fy, "cx": k.cx, "cy": k.cy}
    return {f"{prefix}_{name}": f"{float(v):.9g}" for name, v in values.items()}


def _vector_fields(prefix: str, v: npt.ArrayLike) -> dict[str, str]:
    values = np.asarray(v, np.float64).tolist()
    return {f"{prefix}_{a}": f"{x:.9g}" for a, x in zip("xyz", values, strict=True)}


def render_job(root: Path, job: Job, world: World) -> dict[str, Any]:
    """Render and write one image (with mask and, for test, reference); return its manifest row.

    The random draws happen in one fixed order (pose, day, hazard, scene, exposure,
    query, reference pose and lights, reference): the same seed gives the same bytes.
    """
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


def _query_renderer(world: World, rng: np.random.Generator) -> AnyRenderer:
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
    root: Path, job: Job, world: World, scene: Scene, camera: Camera, rng: np.random.Generator
) -> FrameSpec:
    """Render and write a test image's reference at the reported pose and lights: its frame."""
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


def _sky_fields(geometry: SkyGeometry) -> dict[str, str]:
    """Manifest columns of the day: date, Sun, Earth and Moon directions."""
    return {
        "day": str(geometry.day),
        "date": geometry.date.isoformat(),
        **_vector_fields("sun", geometry.sun_direction),
        **_vector_fields("earth", geometry.earth_direction),
        **_vector_fields("moon", geometry.moon_direction),
    }


def _camera_fields(camera: Camera) -> dict[str, str]:
    """Manifest columns of the camera: position, rotation quaternion, intrinsics."""
    return {
        **_vector_fields("cam", camera.position),
        **_quaternion_fields("cam", camera.rotation),
        **_intrinsic_fields("cam", camera.intrinsics),
    }


def _skip(root: Path, job: Job, reason: str) -> dict[str, Any]:
    """Record that a variant is not rendered (its meta file marks it done)."""
    atomic_write_bytes(job.meta_path(root), json.dumps({"skipped": reason}).encode())
    return {}


def _frame_spec(file_path: str, scene: Scene, camera: Camera) -> FrameSpec:
    """The ``transforms.json`` frame of a test image: the reference's pose and lights.

    The reference is rendered at the pose the robot reports (the true pose plus
    the configured error) with the light levels it believes in, so those are
    what the frame records.
    """
    lights = _frame_lights(scene)
    del lights["ambient"]
    sun = lights.pop("sun_direction")
    return FrameSpec(file_path, camera, _xyz(sun), **lights)
