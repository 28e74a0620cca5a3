"""MRAD on an independent station: Blender-built, Cycles-path-traced test data.

spacead's own renderer is judged against these data, so they share nothing with
spacead's procedural station, hazards, renderers or sensor model. The station
is a Gateway-like stack built in Blender for this benchmark
(``_independent_blender.py``): a gold-MLI habitation cylinder (with a crinkled
foil normal map), a silver-foil spherical node with a docking ring, a white
logistics module at 35 degrees with a gold cap, a gold refuelling module, an
octagonal silver-foil propulsion bus with thrusters and two 15 m solar wings
(cell-grid texture) on booms, an 18 m lattice truss of thin beams with four
white radiators and a dish, antennas and yellow handrails. It is saved as
``station.blend`` and exported with Blender's glTF exporter (+Y up, images
embedded) as ``station.glb``; every pose, Sun direction and body of
``transforms.json`` is in the glTF file's frame.

Each frame (480 x 270, 60 degree pinhole) is path-traced by Cycles (48
samples, adaptive, OpenImageDenoise, Blackman-Harris 1.5 px, 4 bounces) with a
Sun lamp (0.53 degrees), a camera spotlight, the Moon (seen from a near
rectilinear halo orbit: 3-45 degrees wide, sometimes behind the station,
sometimes behind the camera so that the foil reflects it) and the Earth, and in
about half of the frames one hazard (cubesat, thermal blanket, cable, hand
tool, glove, small satellite). The query gets an auto-exposure factor
exp(U(-0.4, 0.4)), shot and read noise and the sRGB curve; the reference is
rendered at the *reported* pose (true pose + 4.5 cm and 0.17 degrees per axis)
with the reported lights (+-10 %), without the hazard, noise or auto-exposure.

    python benchmarks/bench_independent.py make --out /work/data/independent --set dev --frames 32 --seed 101
    python benchmarks/bench_independent.py make --out /work/data/independent --set heldout --frames 32 --seed 202
    python benchmarks/bench_independent.py make --out /work/data/independent --set dev2 --regions dev2 --frames 24 --seed 303
    python benchmarks/bench_independent.py make --out /work/data/independent --set heldout2 --regions heldout --frames 40 --seed 404 --variants
    python benchmarks/bench_independent.py check /work/data/independent/dev
    python benchmarks/bench_independent.py run /work/data/independent/dev

``make`` writes ROOT = OUT/SET: the canonical layout (``test/Camera<k>/images``,
``masks``, ``references``), ``transforms.json`` (reported poses and lights),
``truth.json`` (true poses, lights, exposure, hazards), ``variants/<v>/``
(full dataset roots whose references are renders at the true pose with true
lights and one light-path setting: ``true_all``, ``direct``, ``glossy_only``,
``diffuse_only``; images and masks are hard links), and ``linear/`` (float32
radiance of each variant and of the query, before exposure, in spacead's units
-- a white Lambertian surface facing a unit Sun has radiance 1 --, the
true-pose no-hazard labels and a material-id map described by
``linear/materials.json``). It is resumable: a frame is done when
``frames/<name>.json`` exists; the log's last line is ``DONE ROOT`` once every
frame is. About 20-25 s per frame on 2 CPU cores (six Cycles renders: query,
reported-pose reference, four variants; plus one-sample label passes).

``check`` verifies the conventions against spacead: the GLB loads with the
expected bounds, ``read_transforms`` and ``AlloDataset`` accept the root, the
silhouette of spacead's reference renderer at the true pose matches Cycles'
mask (IoU > 0.98 required), and Cycles' direct light matches spacead's Sun and
spot units on rough dielectrics. ``run`` prints MRAD's metrics per row of
:data:`ROWS`. ``make`` does not import spacead (its sources may be mid-edit);
``check`` and ``run`` do.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import _independent_blender as ib  # noqa: E402

# ---- rows of `run`: name -> (root relative to the dataset root, spacead setting or None)
# None: the root's reference files (Cycles); a setting: references spacead renders.
# A spacead setting is ReferenceParams overrides plus, optionally, "paths": LightPaths overrides.
BASE = {"fit_materials": False, "psf_sigma": 0.0}  # the ablation's start: no gains, no blur
DIRECT = {"glossy": False, "diffuse": False, "soft_shadows": False, "antialias": False, "glints": 1,
          "multiscatter": False}  # fmt: skip
ROWS: dict[str, tuple[str, dict[str, Any] | None]] = {
    "Cycles at the reported pose": ("", None),
    "Cycles true pose, all paths (true_all)": ("variants/true_all", None),
    "Cycles true pose, direct light only (direct)": ("variants/direct", None),
    "Cycles true pose, glossy bounces only (glossy_only)": ("variants/glossy_only", None),
    "Cycles true pose, diffuse bounces only (diffuse_only)": (
        "variants/diffuse_only",
        None,
    ),
    "spacead, direct light only (as before)": ("", {**BASE, "quality": "direct"}),
    "spacead, + Sun disc and pixel filter at edges": (
        "", {**BASE, "paths": {**DIRECT, "soft_shadows": True, "antialias": True}},
    ),
    "spacead, + multiple scattering in the specular lobe": (
        "", {**BASE, "paths": {**DIRECT, "soft_shadows": True, "antialias": True,
                               "multiscatter": True}},
    ),
    "spacead, + glossy bounce": ("", {**BASE, "paths": {"diffuse": False, "glints": 1}}),
    "spacead, + diffuse bounce": ("", {**BASE, "paths": {"glints": 1}}),
    "spacead, + glints": ("", BASE),
    "spacead, + camera blur (psf_sigma 3)": ("", {**BASE, "psf_sigma": 3.0}),
    "spacead reference (defaults: + gain per material)": ("", {}),
    "spacead, quality=high": ("", {"quality": "high"}),
    "spacead, chained reflections (glossy_depth 2, diffuse_depth 2)": (
        "", {"paths": {"glossy_depth": 2, "diffuse_depth": 2}},
    ),
    "spacead, defaults without multiple scattering": ("", {"paths": {"multiscatter": False}}),
    "spacead, defaults at the true pose": ("", {"true_pose": True}),
}  # fmt: skip

# ---- light-path variants: name -> (max_bounces, diffuse_bounces, glossy_bounces)
VARIANTS: dict[str, tuple[int, int, int]] = {
    "true_all": (4, 4, 4),
    "direct": (0, 0, 0),
    "glossy_only": (4, 0, 4),
    "diffuse_only": (4, 4, 0),
}

WIDTH, HEIGHT = 480, 270
FOV_X_DEG = 60.0
FOCAL = 0.5 * WIDTH / math.tan(math.radians(FOV_X_DEG) / 2)
SAMPLES = 48
SUN_ANGLE_DEG = 0.53
BASE_EXPOSURE = 1.0  # sunlit white paint (albedo 0.8, facing the Sun) encodes to ~231 / 255
EXPOSURE_JITTER = 0.4  # auto-exposure factor exp(U(-0.4, 0.4)) on the query
FULL_WELL = 4000.0  # electrons at linear value 1 (shot noise)
READ_NOISE = 0.001  # linear units (about 3 of 255 in black after the sRGB curve)
POS_SIGMA_M = 0.045  # reported-pose error per axis
ROT_SIGMA_DEG = 0.17
LIGHT_ERROR = 0.10  # reported Sun strength and spot power: x (1 + U(-0.1, 0.1))
N_CAMERAS = 8
UNIT_MATERIALS = (3, 9, 6, 10)  # white paint, radiator, array back, Moon: rough dielectrics
MIN_HAZARD_PIXELS = math.ceil(0.001 * WIDTH * HEIGHT)
MOON_RADIUS = 1.7374e6
EARTH_RADIUS = 6.371e6
EARTH_DISTANCE = 3.844e8
MOON_COLOR = (0.12, 0.12, 0.115)
EARTH_COLOR = (0.22, 0.30, 0.45)

# viewpoint regions (azimuth, elevation in degrees about the station, Blender frame): the
# held-out set looks from between and beyond the development set's regions
REGIONS = {
    "dev": [(45.0 * k, 25.0 if k % 2 == 0 else -25.0) for k in range(N_CAMERAS)],
    "heldout": [(22.5 + 45.0 * k, -50.0 if k % 2 == 0 else 50.0) for k in range(N_CAMERAS)],
    # a second development set, from steeper views than "dev" (still none of the held-out ones)
    "dev2": [(10.0 + 45.0 * k, 40.0 if k % 2 == 0 else -40.0) for k in range(N_CAMERAS)],
}


def _gltf_to_blender() -> np.ndarray:
    from spacead.render._cycles_scene import _GLTF_TO_BLENDER

    return np.asarray(_GLTF_TO_BLENDER, np.float64)


G2B = np.array([[1.0, 0, 0, 0], [0, 0, -1.0, 0], [0, 1.0, 0, 0], [0, 0, 0, 1.0]])
B2G = np.linalg.inv(G2B)


# ============================================================================================
# small utilities
# ============================================================================================


def atomic_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def atomic_json(path: Path, obj: Any) -> None:
    atomic_bytes(path, (json.dumps(obj, indent=1) + "\n").encode())


def atomic_npy(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npy")
    np.save(tmp, arr)
    os.replace(tmp, path)


def write_png(path: Path, image: np.ndarray) -> None:
    """8-bit RGB or grey PNG, written atomically (as spacead.data.write_image/write_mask do)."""
    import cv2

    arr = np.ascontiguousarray(image)
    if arr.ndim == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", arr)
    if not ok:
        raise ValueError(f"cannot encode {path}")
    atomic_bytes(path, buf.tobytes())


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1 sRGB encoding of linear values, clipped to [0, 1], as 8-bit."""
    x = np.clip(linear, 0.0, 1.0)
    v = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    return np.clip(np.rint(v * 255.0), 0, 255).astype(np.uint8)


def sensor(linear: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """This benchmark's camera: shot + read noise on the exposed linear signal, then sRGB."""
    x = np.maximum(linear.astype(np.float64), 0.0)
    shot = rng.normal(size=x.shape) * np.sqrt(np.minimum(x, 2.0) / FULL_WELL)
    read = rng.normal(size=x.shape) * READ_NOISE
    return srgb_encode(x + shot + read)


def rodrigues(v: np.ndarray) -> np.ndarray:
    angle = float(np.linalg.norm(v))
    if angle < 1e-15:
        return np.eye(3)
    return ib.rot_axis(v / angle, angle)


def rotate_away(direction: np.ndarray, angle: float, rng: np.random.Generator) -> np.ndarray:
    """``direction`` turned by ``angle`` radians about a random perpendicular axis."""
    d = direction / np.linalg.norm(direction)
    axis = np.cross(d, rng.normal(size=3))
    return ib.rot_axis(axis, angle) @ d


def angle_between(a: np.ndarray, b: np.ndarray) -> float:
    c = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
    return math.acos(max(-1.0, min(1.0, float(c))))


def look_rotation(forward: np.ndarray, roll: float) -> np.ndarray:
    """Blender camera rotation (columns: right, up, back) looking along ``forward``."""
    f = forward / np.linalg.norm(forward)
    up_hint = np.array([0.0, 0.0, 1.0]) if abs(f[2]) < 0.95 else np.array([0.0, 1.0, 0.0])
    right = np.cross(f, up_hint)
    right /= np.linalg.norm(right)
    up = np.cross(right, f)
    c, s = math.cos(roll), math.sin(roll)
    r2, u2 = c * right + s * up, -s * right + c * up
    return np.column_stack([r2, u2, -f])


def to_gltf_matrix(c2w_blender: np.ndarray) -> np.ndarray:
    """Camera-to-world (OpenGL axes) in Blender's frame -> in the glTF file's frame."""
    return B2G @ c2w_blender


def to_gltf_vec(v: np.ndarray) -> list[float]:
    return (B2G[:3, :3] @ np.asarray(v, np.float64)).tolist()


def pixel_rays(step: int = 30) -> np.ndarray:
    """Camera-frame (Blender: -z forward, +y up) directions through a coarse pixel grid."""
    us = np.arange(step / 2, WIDTH, step)
    vs = np.arange(step / 2, HEIGHT, step)
    U, V = np.meshgrid(us, vs)
    d = np.stack([(U - WIDTH / 2) / FOCAL, -(V - HEIGHT / 2) / FOCAL, -np.ones_like(U)], -1)
    return (d / np.linalg.norm(d, axis=-1, keepdims=True)).reshape(-1, 3)


# ============================================================================================
# the station, built in a child process (a glTF export in a process that later loads numba
# kernels can deadlock at exit, see spacead.render._blend_export)
# ============================================================================================


def build_station_files(root: Path) -> None:
    bpy = ib.import_bpy()
    quiet_stdout = ib.quiet_stdout
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    t0 = time.perf_counter()
    info = ib.build_station(bpy, scene.collection)
    root.mkdir(parents=True, exist_ok=True)
    blend = root / "station.blend"
    glb = root / "station.glb"
    tmp_blend = root / ".station.tmp.blend"
    tmp_glb = root / ".station.tmp.glb"
    with quiet_stdout():
        bpy.ops.wm.save_as_mainfile(filepath=str(tmp_blend), compress=True, copy=True)
        result = bpy.ops.export_scene.gltf(
            filepath=str(tmp_glb),
            export_format="GLB",
            export_yup=True,
            export_apply=True,
            export_cameras=False,
            export_lights=False,
            export_image_format="AUTO",
            export_materials="EXPORT",
            export_normals=True,
            export_texcoords=True,
        )
    if "FINISHED" not in result:
        raise RuntimeError(f"glTF export failed: {result}")
    os.replace(tmp_blend, blend)
    os.replace(tmp_glb, glb)
    atomic_json(
        root / "station.json",
        {
            "objects": info.objects,
            "triangles": info.triangles,
            "interest_blender": info.interest,
            "bounds_blender": info.bounds,
            "blender": bpy.app.version_string,
            "build_s": round(time.perf_counter() - t0, 2),
        },
    )


def ensure_station(root: Path) -> dict[str, Any]:
    if not ((root / "station.glb").is_file() and (root / "station.json").is_file()):
        print(f"building the station into {root} ...", flush=True)
        cmd = [sys.executable, str(Path(__file__).resolve()), "_station", str(root)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0 or not (root / "station.glb").is_file():
            sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
            raise SystemExit("station build failed")
    info = json.loads((root / "station.json").read_text())
    info["glb"] = glb_summary(root / "station.glb")
    return info


def glb_summary(path: Path) -> dict[str, Any]:
    """What Blender's exporter wrote: extensions, materials and their textures."""
    data = path.read_bytes()
    length = int.from_bytes(data[12:16], "little")
    doc = json.loads(data[20 : 20 + length])
    mats = []
    for m in doc.get("materials", []):
        pbr = m.get("pbrMetallicRoughness", {})
        mats.append(
            {
                "name": m.get("name"),
                "baseColorFactor": pbr.get("baseColorFactor"),
                "metallicFactor": pbr.get("metallicFactor"),
                "roughnessFactor": pbr.get("roughnessFactor"),
                "baseColorTexture": "baseColorTexture" in pbr,
                "normalTexture": m.get("normalTexture"),
                "extensions": sorted(m.get("extensions", {})),
                "doubleSided": m.get("doubleSided", False),
            }
        )
    return {
        "extensionsUsed": doc.get("extensionsUsed", []),
        "extensionsRequired": doc.get("extensionsRequired", []),
        "meshes": len(doc.get("meshes", [])),
        "nodes": len(doc.get("nodes", [])),
        "images": [
            {"name": i.get("name"), "mimeType": i.get("mimeType")} for i in doc.get("images", [])
        ],
        "materials": mats,
        "bytes": len(data),
    }


# ============================================================================================
# per-frame parameters
# ============================================================================================


@dataclass
class Frame:
    index: int
    name: str
    camera: str
    c2w_true: np.ndarray  # Blender frame, OpenGL camera axes
    c2w_reported: np.ndarray
    sun: np.ndarray  # towards the Sun, Blender frame
    sun_mode: str
    sun_strength: float
    sun_strength_reported: float
    spot: tuple[float, float, float]  # power W, full angle deg, blend
    spot_power_reported: float
    bodies: list[tuple[str, np.ndarray, float, tuple[float, float, float]]]
    moon_mode: str
    exposure: float
    hazard: str | None
    hazard_size: float
    region: tuple[float, float]


class Geometry:
    """Ray queries against the station (mathutils BVH, Blender frame)."""

    def __init__(self, bpy: Any, objects: list[Any]) -> None:
        from mathutils.bvhtree import BVHTree

        verts, polys, offset = [], [], 0
        for obj in objects:
            mesh = obj.data
            co = np.empty(len(mesh.vertices) * 3, np.float64)
            mesh.vertices.foreach_get("co", co)
            world = np.asarray(obj.matrix_world, np.float64)
            co = co.reshape(-1, 3) @ world[:3, :3].T + world[:3, 3]
            mesh.calc_loop_triangles()
            idx = np.empty(len(mesh.loop_triangles) * 3, np.int64)
            mesh.loop_triangles.foreach_get("vertices", idx)
            verts.append(co)
            polys.append(idx.reshape(-1, 3) + offset)
            offset += len(co)
        v = np.concatenate(verts)
        p = np.concatenate(polys)
        self.bvh = BVHTree.FromPolygons(v.tolist(), p.tolist(), all_triangles=True)
        self.rays = pixel_rays()

    def nearest(self, point: np.ndarray) -> float:
        hit = self.bvh.find_nearest(point.tolist())
        return math.inf if hit[0] is None else float(hit[3])

    def cast(self, origin: np.ndarray, direction: np.ndarray) -> float:
        hit = self.bvh.ray_cast(origin.tolist(), direction.tolist())
        return math.inf if hit[0] is None else float(hit[3])

    def coverage(self, pos: np.ndarray, rot: np.ndarray) -> float:
        dirs = self.rays @ rot.T
        return float(np.mean([math.isfinite(self.cast(pos, d)) for d in dirs]))


def draw_frame(
    index: int, seed: int, regions: list[tuple[float, float]], geo: Geometry, interest: np.ndarray
) -> Frame:
    rng = np.random.default_rng([seed, index])
    cluster = index % N_CAMERAS
    az, el = regions[cluster]
    base_dir = np.array(
        [
            math.cos(math.radians(el)) * math.cos(math.radians(az)),
            math.cos(math.radians(el)) * math.sin(math.radians(az)),
            math.sin(math.radians(el)),
        ]
    )
    pos = rot = None
    for _ in range(2000):
        d = rotate_away(base_dir, math.radians(rng.uniform(0, 22)), rng)
        target = interest[rng.integers(len(interest))] + rng.normal(0, 1.5, 3)
        r = rng.uniform(11.0, 48.0)
        p = target + d * r
        gap = geo.nearest(p)
        if not 10.0 <= gap <= 40.0:
            continue
        fwd = target - p
        R = look_rotation(fwd, math.radians(rng.uniform(-90, 90)))
        cov = geo.coverage(p, R)
        if 0.3 <= cov <= 0.85:
            pos, rot = p, R
            break
    if pos is None:
        raise RuntimeError(f"frame {index}: no camera pose found in region {az, el}")
    c2w = np.eye(4)
    c2w[:3, :3], c2w[:3, 3] = rot, pos
    forward = -rot[:, 2]
    # reported pose: true + error (position per axis, rotation about camera axes)
    rep = np.eye(4)
    rep[:3, :3] = rot @ rodrigues(np.radians(rng.normal(0, ROT_SIGMA_DEG, 3)))
    rep[:3, 3] = pos + rng.normal(0, POS_SIGMA_M, 3)
    # the Sun: mostly lighting the side the camera sees, sometimes grazing or from behind
    to_cam = -forward
    sun_mode = str(rng.choice(["front", "grazing", "back"], p=[0.6, 0.25, 0.15]))
    lo, hi = {"front": (0, 65), "grazing": (65, 100), "back": (100, 160)}[sun_mode]
    sun = rotate_away(to_cam, math.radians(rng.uniform(lo, hi)), rng)
    # the Moon from a near rectilinear halo orbit (3,000 km to 70,000 km from its centre)
    moon_mode = str(rng.choice(["behind", "reflected", "elsewhere"], p=[0.4, 0.35, 0.25]))
    for _ in range(1000):
        dist = math.exp(rng.uniform(math.log(4.5e6), math.log(7.0e7)))
        half = math.asin(MOON_RADIUS / dist)
        if moon_mode == "behind":
            mdir = rotate_away(forward, math.radians(rng.uniform(0, 24)), rng)
        elif moon_mode == "reflected":
            mdir = rotate_away(-forward, math.radians(rng.uniform(5, 60)), rng)
        else:
            mdir = rng.normal(size=3)
            mdir /= np.linalg.norm(mdir)
        if angle_between(mdir, sun) > half + math.radians(10):
            break
    bodies = [("moon", mdir * dist, MOON_RADIUS, MOON_COLOR)]
    for _ in range(1000):
        if rng.random() < 0.25:
            edir = rotate_away(forward, math.radians(rng.uniform(0, 20)), rng)
        else:
            edir = rng.normal(size=3)
            edir /= np.linalg.norm(edir)
        if angle_between(edir, sun) > math.radians(5) and angle_between(edir, mdir) > half:
            break
    bodies.append(("earth", edir * EARTH_DISTANCE, EARTH_RADIUS, EARTH_COLOR))
    sun_strength = float(rng.uniform(0.9, 1.1))
    spot = (
        float(rng.uniform(400, 1500)),
        float(rng.uniform(60, 90)),
        float(rng.uniform(0.1, 0.3)),
    )
    hazard = str(rng.choice(ib.HAZARD_KINDS)) if rng.random() < 0.5 else None
    size = float(rng.uniform(*ib.HAZARD_SIZES[hazard])) if hazard else 0.0
    return Frame(
        index=index,
        name=f"f{index:04d}",
        camera=f"Camera{cluster + 1}",
        c2w_true=c2w,
        c2w_reported=rep,
        sun=sun,
        sun_mode=sun_mode,
        sun_strength=sun_strength,
        sun_strength_reported=sun_strength * (1 + rng.uniform(-LIGHT_ERROR, LIGHT_ERROR)),
        spot=spot,
        spot_power_reported=spot[0] * (1 + rng.uniform(-LIGHT_ERROR, LIGHT_ERROR)),
        bodies=bodies,
        moon_mode=moon_mode,
        exposure=float(math.exp(rng.uniform(-EXPOSURE_JITTER, EXPOSURE_JITTER))),
        hazard=hazard,
        hazard_size=size,
        region=(az, el),
    )


def hazard_poses(frame: Frame, geo: Geometry, radius: float, rng: np.random.Generator):
    """Candidate hazard placements (centre, rotation) in view, in front of the station."""
    pos = frame.c2w_true[:3, 3]
    rot = frame.c2w_true[:3, :3]
    for _ in range(400):
        u = rng.uniform(0.12 * WIDTH, 0.88 * WIDTH)
        v = rng.uniform(0.15 * HEIGHT, 0.85 * HEIGHT)
        d = rot @ np.array([(u - WIDTH / 2) / FOCAL, -(v - HEIGHT / 2) / FOCAL, -1.0])
        d /= np.linalg.norm(d)
        depth = geo.cast(pos, d)
        if not math.isfinite(depth):
            continue
        t_lo = max(1.5, 3.0 * radius)
        t_hi = min(depth - radius - 0.5, FOCAL * radius / 12.0)
        if t_hi <= t_lo:
            continue
        centre = pos + d * rng.uniform(t_lo, t_hi)
        if geo.nearest(centre) < radius + 0.1:
            continue
        yield centre, ib.random_rotation(rng)


# ============================================================================================
# make
# ============================================================================================


class Scene:
    """The opened station.blend plus a camera, lights, world, Moon and Earth."""

    def __init__(self, root: Path) -> None:
        bpy = ib.import_bpy()
        quiet_stdout = ib.quiet_stdout
        self.bpy = bpy
        bpy.ops.wm.read_factory_settings(use_empty=True)
        bpy.context.preferences.filepaths.use_scripts_auto_execute = False
        with quiet_stdout():
            bpy.ops.wm.open_mainfile(
                filepath=str(root / "station.blend"), load_ui=False, use_scripts=False
            )
        self.scene = scene = bpy.context.scene
        self.station = [o for o in scene.objects if o.type == "MESH"]
        ib.configure_cycles(scene, WIDTH, HEIGHT)
        coll = scene.collection
        cam = bpy.data.cameras.new("camera")
        cam.sensor_fit = "HORIZONTAL"
        cam.angle = math.radians(FOV_X_DEG)
        cam.shift_x = cam.shift_y = 0.0
        cam.clip_start, cam.clip_end = 0.05, 1.0e9
        self.camera = bpy.data.objects.new("camera", cam)
        coll.objects.link(self.camera)
        scene.camera = self.camera
        sun = bpy.data.lights.new("sun", "SUN")
        sun.angle = math.radians(SUN_ANGLE_DEG)
        self.sun = bpy.data.objects.new("sun", sun)
        coll.objects.link(self.sun)
        spot = bpy.data.lights.new("spotlight", "SPOT")
        spot.shadow_soft_size = 0.0
        self.spot = bpy.data.objects.new("spotlight", spot)
        coll.objects.link(self.spot)
        world = bpy.data.worlds.new("space")
        world.use_nodes = True
        bg = world.node_tree.nodes["Background"]
        bg.inputs["Color"].default_value = (0.0, 0.0, 0.0, 1.0)
        bg.inputs["Strength"].default_value = 0.0
        scene.world = world
        world.cycles_visibility.camera = False
        self.bodies = {}
        for name, color in (("moon", MOON_COLOR), ("earth", EARTH_COLOR)):
            self.bodies[name] = self._body(name, color)
        self.hazard = None

    def _body(self, name: str, color: tuple[float, float, float]) -> Any:
        import bmesh

        bpy = self.bpy
        mesh = bpy.data.meshes.new(name)
        bm = bmesh.new()
        bmesh.ops.create_icosphere(bm, subdivisions=6, radius=1.0)
        bm.to_mesh(mesh)
        bm.free()
        for p in mesh.polygons:
            p.use_smooth = True
        mat = ib.principled(bpy, name, color, 0.0, 1.0, specular_level=0.0)
        mesh.materials.append(mat)
        obj = bpy.data.objects.new(name, mesh)
        self.scene.collection.objects.link(obj)
        obj.pass_index = ib.STATION_LABEL
        return obj

    def set_view(self, c2w: np.ndarray, sun: np.ndarray, sun_strength: float, spot) -> None:
        m = ib.as_matrix(c2w)
        self.camera.matrix_world = m
        self.spot.matrix_world = m  # a spot lamp shines along its local -z, like the camera
        power, angle, blend = spot
        self.spot.data.energy = float(power)
        self.spot.data.spot_size = math.radians(angle)
        self.spot.data.spot_blend = float(blend)
        self.sun.data.energy = ib.SUN_STRENGTH * float(sun_strength)
        self.sun.matrix_world = ib.as_matrix(ib.affine(ib.rot_z_to(sun), (0.0, 0.0, 0.0)))

    def set_bodies(self, bodies) -> None:
        for name, centre, radius, _ in bodies:
            obj = self.bodies[name]
            obj.matrix_world = ib.as_matrix(ib.affine(None, centre, radius))

    def add_hazard(self, kind: str, rng: np.random.Generator, size: float) -> float:
        self.hazard, radius = ib.build_hazard(self.bpy, self.scene.collection, kind, rng, size)
        return radius

    def place_hazard(self, centre: np.ndarray, rotation: np.ndarray) -> None:
        self.hazard.matrix_world = ib.as_matrix(ib.affine(rotation, centre))

    def show_hazard(self, visible: bool) -> None:
        if self.hazard is not None:
            self.hazard.hide_render = not visible

    def remove_hazard(self) -> None:
        if self.hazard is not None:
            mesh = self.hazard.data
            self.bpy.data.objects.remove(self.hazard)
            self.bpy.data.meshes.remove(mesh)
            self.hazard = None


def material_table() -> dict[str, Any]:
    return {
        "0": "space",
        **{str(v): k for k, v in ib.MATERIAL_IDS.items()},
    }


def write_frame(root: Path, frame: Frame, out: dict[str, Any]) -> dict[str, Any]:
    """Write a frame's files; return its record (transforms entry + truth entry)."""
    rel = f"test/{frame.camera}/images/{frame.name}.png"
    cam_dir = root / "test" / frame.camera
    write_png(cam_dir / "images" / f"{frame.name}.png", out["query"])
    write_png(cam_dir / "masks" / f"{frame.name}.png", out["mask"])
    write_png(cam_dir / "references" / f"{frame.name}.png", out["reference"])
    for v in out["linear"]:
        vdir = root / "variants" / v / "test" / frame.camera
        for kind in ("images", "masks"):
            dst = vdir / kind / f"{frame.name}.png"
            dst.parent.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_name(f".{dst.name}.link")
            if tmp.exists():
                tmp.unlink()
            os.link(cam_dir / kind / f"{frame.name}.png", tmp)
            os.replace(tmp, dst)
        write_png(
            vdir / "references" / f"{frame.name}.png", srgb_encode(out["linear"][v] * BASE_EXPOSURE)
        )
        atomic_npy(root / "linear" / v / f"{frame.name}.npy", out["linear"][v])
    atomic_npy(root / "linear" / "query" / f"{frame.name}.npy", out["query_linear"])
    atomic_npy(root / "linear" / "mask" / f"{frame.name}.npy", out["labels_nohazard"])
    atomic_npy(root / "linear" / "material" / f"{frame.name}.npy", out["materials_nohazard"])
    bodies = [
        {"name": n, "center": to_gltf_vec(c), "radius": r, "color": list(col)}
        for n, c, r, col in frame.bodies
    ]
    sun = to_gltf_vec(frame.sun)
    spot_rep = {
        "at_camera": True,
        "power_w": frame.spot_power_reported,
        "spot_angle_deg": frame.spot[1],
        "blend": frame.spot[2],
    }
    transforms = {
        "file_path": rel,
        "transform_matrix": to_gltf_matrix(frame.c2w_reported).tolist(),
        "sun_direction": sun,
        "sun_strength": frame.sun_strength_reported,
        "spotlight": spot_rep,
        "bodies": bodies,
    }
    truth = {
        "file_path": rel,
        "camera": frame.camera,
        "transform_matrix": to_gltf_matrix(frame.c2w_true).tolist(),
        "reported_transform_matrix": transforms["transform_matrix"],
        "sun_direction": sun,
        "sun_mode": frame.sun_mode,
        "sun_strength": frame.sun_strength,
        "sun_strength_reported": frame.sun_strength_reported,
        "spotlight": {**spot_rep, "power_w": frame.spot[0]},
        "spotlight_power_reported": frame.spot_power_reported,
        "bodies": bodies,
        "moon_mode": frame.moon_mode,
        "moon_angular_diameter_deg": math.degrees(
            2 * math.asin(MOON_RADIUS / np.linalg.norm(frame.bodies[0][1]))
        ),
        "exposure": frame.exposure,
        "base_exposure": BASE_EXPOSURE,
        "region_az_el_deg": list(frame.region),
        "hazard": out["hazard"],
        "seconds": out["seconds"],
    }
    return {"index": frame.index, "transforms": transforms, "truth": truth}


def rendered_variants(root: Path) -> list[str]:
    return [v for v in VARIANTS if (root / "variants" / v).is_dir()]


def write_indexes(root: Path, seed: int, set_name: str, info: dict[str, Any]) -> int:
    records = [json.loads(p.read_text()) for p in sorted((root / "frames").glob("*.json"))]
    records.sort(key=lambda r: r["index"])
    intrinsics = {
        "camera_model": "OPENCV",
        "w": WIDTH,
        "h": HEIGHT,
        "fl_x": FOCAL,
        "fl_y": FOCAL,
        "cx": WIDTH / 2,
        "cy": HEIGHT / 2,
        "k1": 0.0,
        "k2": 0.0,
        "p1": 0.0,
        "p2": 0.0,
    }
    transforms = {**intrinsics, "cad": "station.glb", "frames": [r["transforms"] for r in records]}
    atomic_json(root / "transforms.json", transforms)
    atomic_json(
        root / "truth.json",
        {
            "set": set_name,
            "seed": seed,
            "intrinsics": intrinsics,
            "pixel_centres": "cx = w / 2 is the image centre (pixel centres at +0.5)",
            "frame": "glTF file frame of station.glb (+Y up), metres; OpenGL camera axes",
            "base_exposure": BASE_EXPOSURE,
            "sensor": {
                "full_well_e_per_unit": FULL_WELL,
                "read_noise": READ_NOISE,
                "encoding": "sRGB (IEC 61966-2-1), 8 bit",
                "exposure_jitter": f"exp(U(-{EXPOSURE_JITTER}, {EXPOSURE_JITTER}))",
            },
            "pose_error": {
                "position_sigma_m_per_axis": POS_SIGMA_M,
                "rotation_sigma_deg_per_axis": ROT_SIGMA_DEG,
            },
            "render": {
                "engine": "CYCLES",
                "samples": SAMPLES,
                "adaptive_threshold": 0.01,
                "denoiser": "OPENIMAGEDENOISE (prefilter FAST)",
                "max_bounces": 4,
                "diffuse_bounces": 4,
                "glossy_bounces": 4,
                "clamp_indirect": 10.0,
                "filter_glossy": 1.0,
                "pixel_filter": "BLACKMAN_HARRIS 1.5 px",
                "sun_angle_deg": SUN_ANGLE_DEG,
                "variants": {v: VARIANTS[v] for v in rendered_variants(root)},
            },
            "station": {k: v for k, v in info.items() if k != "glb"},
            "frames": [r["truth"] for r in records],
        },
    )
    for v in rendered_variants(root):
        vroot = root / "variants" / v
        shutil.copyfile(root / "transforms.json", vroot / ".transforms.json.tmp")
        os.replace(vroot / ".transforms.json.tmp", vroot / "transforms.json")
        if not (vroot / "station.glb").exists():
            os.link(root / "station.glb", vroot / "station.glb")
    atomic_json(root / "linear" / "materials.json", material_table())
    return len(records)


def render_frame(
    sc: Scene, frame: Frame, geo: Geometry, tmp: Path, seed: int, variants: list[str]
) -> dict[str, Any]:
    bpy, scene = sc.bpy, sc.scene
    times: dict[str, float] = {}
    rng = np.random.default_rng([seed, frame.index, 7])

    def timed(key: str, fn, *a, **k):
        t = time.perf_counter()
        r = fn(*a, **k)
        times[key] = round(time.perf_counter() - t, 2)
        return r

    sc.set_bodies(frame.bodies)
    sc.set_view(frame.c2w_true, frame.sun, frame.sun_strength, frame.spot)
    hazard = None
    labels_q = None
    if frame.hazard:
        radius = sc.add_hazard(frame.hazard, rng, frame.hazard_size)
        for tries, (centre, rotation) in enumerate(hazard_poses(frame, geo, radius, rng), 1):
            sc.place_hazard(centre, rotation)
            ob, ma = timed("labels_query", ib.render_labels, bpy, scene, tmp / "lab")
            pixels = int(np.sum(ob == ib.HAZARD_LABEL))
            if pixels >= MIN_HAZARD_PIXELS:
                labels_q = (ob, ma)
                hazard = {
                    "kind": frame.hazard,
                    "pixels": pixels,
                    "size_m": frame.hazard_size,
                    "radius_m": radius,
                    "center": to_gltf_vec(centre),
                    "distance_m": float(np.linalg.norm(centre - frame.c2w_true[:3, 3])),
                    "materials": sorted(
                        {ib_name(int(m)) for m in np.unique(ma[ob == ib.HAZARD_LABEL])}
                    ),
                    "placement_tries": tries,
                }
                break
            if tries >= 40:
                break
        if labels_q is None:  # could not place it visibly: the frame stays normal
            sc.remove_hazard()
    set_bounce = ib.set_bounces
    set_bounce(scene, *VARIANTS["true_all"])
    if hazard is not None:
        query_lin = timed(
            "query",
            ib.render_beauty,
            bpy,
            scene,
            tmp / "b",
            samples=SAMPLES,
            seed=frame.index * 16 + 1,
        )
        sc.show_hazard(False)
    labels = timed("labels", ib.render_labels, bpy, scene, tmp / "lab")
    linear: dict[str, np.ndarray] = {}
    for k, (v, bounces) in enumerate(VARIANTS.items()):
        if v not in variants and v != "true_all":  # true_all is a normal frame's query
            continue
        set_bounce(scene, *bounces)
        linear[v] = timed(
            v,
            ib.render_beauty,
            bpy,
            scene,
            tmp / "b",
            samples=SAMPLES,
            seed=frame.index * 16 + 2 + k,
        )
    if hazard is None:
        query_lin = linear["true_all"]
        labels_q = labels
    set_bounce(scene, *VARIANTS["true_all"])
    spot_rep = (frame.spot_power_reported, frame.spot[1], frame.spot[2])
    sc.set_view(frame.c2w_reported, frame.sun, frame.sun_strength_reported, spot_rep)
    ref_lin = timed(
        "reference",
        ib.render_beauty,
        bpy,
        scene,
        tmp / "b",
        samples=SAMPLES,
        seed=frame.index * 16 + 9,
    )
    sc.remove_hazard()
    noise_rng = np.random.default_rng([seed, frame.index, 11])
    query = sensor(query_lin * (BASE_EXPOSURE * frame.exposure), noise_rng)
    mask = np.where(labels_q[0] >= ib.HAZARD_LABEL, 2, np.minimum(labels_q[0], 1)).astype(np.uint8)
    return {
        "query": query,
        "mask": mask,
        "reference": srgb_encode(ref_lin * BASE_EXPOSURE),
        "linear": linear,
        "query_linear": query_lin,
        "labels_nohazard": np.minimum(labels[0], 1).astype(np.uint8),
        "materials_nohazard": labels[1],
        "hazard": hazard,
        "seconds": times,
    }


def ib_name(material_id: int) -> str:
    return material_table().get(str(material_id), f"id{material_id}")


def _silence_exit() -> None:
    """Hide Blender's memory report at exit ("Error: Not freed memory blocks"): not an error."""
    sys.stdout.flush()
    sys.stderr.flush()
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)


def make(args: argparse.Namespace) -> None:
    import atexit

    root = Path(args.out) / args.set
    root.mkdir(parents=True, exist_ok=True)
    info = ensure_station(root)
    regions = REGIONS[args.regions or ("heldout" if args.set == "heldout" else "dev")]
    print(
        f"station: {info['triangles']} triangles, {len(info['objects'])} objects; "
        f"glTF extensions used: {info['glb']['extensionsUsed']}",
        flush=True,
    )
    sc = Scene(root)
    geo = Geometry(sc.bpy, sc.station)
    interest = np.asarray(info["interest_blender"], np.float64)
    total = time.perf_counter()
    done = 0
    with tempfile.TemporaryDirectory(prefix="indep-render-") as tmpdir:
        tmp = Path(tmpdir)
        for index in range(args.frames):
            name = f"f{index:04d}"
            record_path = root / "frames" / f"{name}.json"
            if record_path.is_file():
                continue
            t0 = time.perf_counter()
            frame = draw_frame(index, args.seed, regions, geo, interest)
            t_draw = time.perf_counter() - t0
            out = render_frame(sc, frame, geo, tmp, args.seed, args.variants)
            out["seconds"]["draw"] = round(t_draw, 2)
            record = write_frame(root, frame, out)
            out["seconds"]["total"] = round(time.perf_counter() - t0, 2)
            record["truth"]["seconds"] = out["seconds"]
            atomic_json(record_path, record)
            n = write_indexes(root, args.seed, args.set, info)
            done += 1
            hz = out["hazard"]
            hz_text = f"{hz['kind']} {hz['pixels']} px" if hz else "none"
            renders = ", ".join(f"{k} {v:.1f}" for k, v in out["seconds"].items())
            print(
                f"[{args.set}] {name} {frame.camera} hazard: {hz_text}; sun {frame.sun_mode}, "
                f"moon {frame.moon_mode} {record['truth']['moon_angular_diameter_deg']:.1f} deg; "
                f"s: {renders}; {n}/{args.frames} done",
                flush=True,
            )
    write_indexes(root, args.seed, args.set, info)
    print(f"[{args.set}] finished: {done} frames rendered in {time.perf_counter() - total:.0f} s")
    print(f"DONE {root}", flush=True)
    atexit.register(_silence_exit)  # registered last: runs first, after Blender's own handlers


# ============================================================================================
# check: conventions against spacead
# ============================================================================================


def check(args: argparse.Namespace) -> None:
    from spacead.data import AlloDataset, read_transforms
    from spacead.render import ReferenceRenderer, Sphere, Spotlight
    from spacead.scene import Intrinsics, camera_from_matrix, load_model

    root = Path(args.root)
    assert np.allclose(_gltf_to_blender(), G2B), "spacead's glTF axis convention changed"
    info = json.loads((root / "station.json").read_text())
    summary = glb_summary(root / "station.glb")
    print(f"station.glb: {summary['bytes'] / 1e6:.1f} MB, {summary['meshes']} meshes")
    print(f"  extensionsUsed: {summary['extensionsUsed']}")
    print(f"  extensionsRequired: {summary['extensionsRequired']}")
    print(f"  images: {summary['images']}")
    for m in summary["materials"]:
        print(
            f"  material {m['name']}: base {m['baseColorFactor']}, metallic {m['metallicFactor']}, "
            f"roughness {m['roughnessFactor']}, baseColorTexture {m['baseColorTexture']}, "
            f"normalTexture {m['normalTexture']}, extensions {m['extensions']}"
        )
    model = load_model(root / "station.glb")
    lo, hi = np.asarray(info["bounds_blender"])
    corners = np.array(
        [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
    )
    g = corners @ B2G[:3, :3].T
    expect = np.stack([g.min(0), g.max(0)])
    print(
        f"load_model: {len(model.parts)} parts, {model.n_triangles} triangles "
        f"(Blender: {info['triangles']}), {sum(p.normals is not None for p in model.parts)} with "
        f"normals, {sum(p.uv is not None for p in model.parts)} with UVs; materials "
        f"{sorted({m.name for m in model.materials})}"
    )
    print(f"  bounds (glTF frame) {model.bounds.round(3).tolist()}")
    print(f"  expected from Blender bounds {expect.round(3).tolist()}")
    print(f"  max bound difference {np.abs(model.bounds - expect).max():.2e} m")
    for m in model.materials:
        print(
            f"  spacead reads {m.name}: base {tuple(round(c, 3) for c in m.base_color)}, "
            f"metallic {m.metallic}, roughness {m.roughness}, textured {m.textured}"
        )
    transforms = read_transforms(root)
    ds = AlloDataset(root, need_reference=True)
    print(
        f"read_transforms: {len(transforms.frames)} frames, cad {transforms.cad}; AlloDataset: "
        f"{len(ds.items)} items, {len(ds.problems)} problems"
    )
    truth = json.loads((root / "truth.json").read_text())
    renderer = ReferenceRenderer(model)
    k = Intrinsics(WIDTH, HEIGHT, FOCAL, FOCAL, WIDTH / 2, HEIGHT / 2)
    ious, ious_rep, frames = [], [], truth["frames"][: args.frames or None]
    ratios: dict[int, list[float]] = {}
    by_path = transforms.by_path()
    for fr in frames:
        name = Path(fr["file_path"]).stem
        cam = camera_from_matrix(np.asarray(fr["transform_matrix"]), k, convention="opengl")
        spot = fr["spotlight"]
        bodies = [
            Sphere(b["name"], tuple(b["center"]), b["radius"], tuple(b["color"]))
            for b in fr["bodies"]
        ]
        out = renderer.render(
            cam,
            sun_direction=fr["sun_direction"],
            sun_strength=fr["sun_strength"],
            spotlight=Spotlight(spot["power_w"], spot["spot_angle_deg"], spot["blend"]),
            bodies=bodies,
        )
        ours = np.load(root / "linear" / "mask" / f"{name}.npy") >= 1
        theirs = out.mask >= 1
        iou = np.sum(ours & theirs) / max(1, np.sum(ours | theirs))
        rep = renderer.render(
            by_path[fr["file_path"]].camera,
            sun_direction=fr["sun_direction"],
            spotlight=None,
            bodies=bodies,
        )
        iou_rep = np.sum(ours & (rep.mask >= 1)) / max(1, np.sum(ours | (rep.mask >= 1)))
        ious.append(iou)
        ious_rep.append(iou_rep)
        # units: Cycles' direct light vs spacead's Sun + spot components, per material
        direct = np.load(root / "linear" / "direct" / f"{name}.npy").mean(-1)
        theirs_direct = (out.radiance[:, :, 0] + out.radiance[:, :, 1]).mean(-1)
        material = np.load(root / "linear" / "material" / f"{name}.npy")
        for mid in UNIT_MATERIALS:
            sel = (material == mid) & (out.mask >= 1) & (theirs_direct > 0.02)
            if sel.sum() >= 50:
                ratios.setdefault(mid, []).append(
                    float(np.median(direct[sel] / theirs_direct[sel]))
                )
        print(
            f"  {fr['file_path']}: IoU true pose {iou:.4f} ({np.sum(ours ^ theirs)} px differ), "
            f"reported pose {iou_rep:.4f}"
        )
    ious, ious_rep = np.array(ious), np.array(ious_rep)
    print(
        f"silhouette IoU (spacead ReferenceRenderer vs Cycles, true pose): min {ious.min():.4f}, "
        f"median {np.median(ious):.4f} over {len(ious)} frames; at the reported pose: min "
        f"{ious_rep.min():.4f}, median {np.median(ious_rep):.4f}"
    )
    names = material_table()
    for mid, values in ratios.items():
        print(
            f"direct radiance Cycles / spacead (Sun + spot) on {names[str(mid)]}: median "
            f"{np.median(values):.3f} over {len(values)} frames (range {min(values):.3f}-"
            f"{max(values):.3f})"
        )
    if ious.min() <= 0.98:
        raise SystemExit("convention check FAILED: a true-pose IoU is <= 0.98")


# ============================================================================================
# run: MRAD metrics
# ============================================================================================


def _spacead_references(root: Path, setting: dict[str, Any], out: Path) -> Path:
    """A copy of ``root`` (hard links) whose references spacead renders with ``setting``."""
    import dataclasses

    from spacead.data import read_image, read_transforms, write_image
    from spacead.reference import ReferenceParams, ReferencePipeline, reference_path
    from spacead.render import LightPaths
    from spacead.scene import camera_from_matrix

    params = ReferenceParams(
        **{k: v for k, v in setting.items() if k not in ("paths", "true_pose")}
    )
    truth = {f["file_path"]: f for f in json.loads((root / "truth.json").read_text())["frames"]}
    pipe = ReferencePipeline(root / "station.glb", params)
    if "paths" in setting:
        pipe.renderer.paths = dataclasses.replace(LightPaths(), **setting["paths"])
    shutil.copytree(root, out, copy_function=os.link,
                    ignore=shutil.ignore_patterns("variants", "linear", "references", "frames"))  # fmt: skip
    for frame in read_transforms(root).frames:
        query = read_image(root / frame.file_path)
        if setting.get("true_pose"):  # what the pose error costs
            matrix = np.array(truth[frame.file_path]["transform_matrix"])
            true = camera_from_matrix(matrix, frame.camera.intrinsics, convention="opengl")
            frame = dataclasses.replace(frame, camera=true)
        write_image(out / reference_path(frame.file_path), pipe.reference(query, frame).image)
    return out


def run(args: argparse.Namespace) -> None:
    from spacead.bench import evaluate
    from spacead.detect import MRADParams

    rows = {k: v for k, v in ROWS.items() if not args.rows or any(r in k for r in args.rows)}
    for root in (Path(r) for r in args.roots):
        print(f"\n## {root}\n")
        print("| reference | I.AUROC | P.AUROC | P.AP | P.FPR95 | images (anomalous) | s |")
        print("|---|---|---|---|---|---|---|")
        notes = []
        for name, (sub, setting) in rows.items():
            if sub and not (root / sub).is_dir():
                notes.append(f"{name}: not rendered for this set (`make --variants`)")
                continue
            t0 = time.perf_counter()
            with tempfile.TemporaryDirectory() as tmp:
                data = root / sub
                if setting is not None:  # spacead's references, rendered first (timed too)
                    data = _spacead_references(root, setting, Path(tmp) / "data")
                result = evaluate(
                    data,
                    "mrad",
                    params=MRADParams(),
                    references="files",
                    workers=args.workers,
                    progress=False,
                    resume_dir=Path(tmp) / "partial",
                )
            m = result.metrics
            cells = []
            for key in ("image_auroc", "pixel_auroc", "pixel_ap", "pixel_fpr95"):
                v = m.get(key)
                cells.append("n/a" if v is None else f"{100 * v:.1f}")
            cells.append(f"{m['n_images']} ({m['n_anomalous']})")
            print(f"| {name} | {' | '.join(cells)} | {time.perf_counter() - t0:.0f} |", flush=True)
            problems = m.get("problems") or []
            if problems:
                notes.append(f"{name}: {len(problems)} image(s) not evaluated, e.g. {problems[0]}")
        for note in notes:
            print(f"\n{note}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make", help="build the station and render a test set")
    m.add_argument("--out", default="/work/data/independent")
    m.add_argument("--set", default="dev")
    m.add_argument("--frames", type=int, default=32)
    m.add_argument("--seed", type=int, default=101)
    m.add_argument(
        "--variants",
        nargs="*",
        choices=list(VARIANTS),
        default=list(VARIANTS),
        help="light-path variants to render (true_all always; fewer: a faster set for `run`)",
    )
    m.add_argument(
        "--regions",
        choices=sorted(REGIONS),
        default=None,
        help="viewpoint regions (default: heldout for --set heldout, else dev)",
    )
    m.set_defaults(func=make)
    c = sub.add_parser("check", help="convention checks against spacead")
    c.add_argument("root")
    c.add_argument("--frames", type=int, default=0, help="frames to check (0: all)")
    c.set_defaults(func=check)
    r = sub.add_parser("run", help="MRAD metrics per reference kind")
    r.add_argument("roots", nargs="+")
    r.add_argument("--workers", type=int, default=1)
    r.add_argument("--rows", nargs="*", default=[], help="only rows whose name contains one")
    r.set_defaults(func=run)
    s = sub.add_parser("_station", help=argparse.SUPPRESS)
    s.add_argument("root")
    args = parser.parse_args()
    if args.cmd == "_station":
        code = 0
        try:
            build_station_files(Path(args.root))
        except Exception as exc:  # the child reports and exits without Blender's teardown
            import traceback

            traceback.print_exc()
            print(f"error: {exc}", file=sys.stderr)
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    args.func(args)


if __name__ == "__main__":
    main()
