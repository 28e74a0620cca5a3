"""Median seconds per frame of the default ray-casting renderer (image + mask + depth).

The scene is synthetic and station-like, about 50 k triangles (the size of the
procedural station): a row of pressurised modules (cylinders) with end cones,
a truss of thin boxes, solar-array wings and radiators (flat boxes), a few
hundred small boxes and cylinders of equipment, one hazard (label 2), the Moon
and the Earth as analytic spheres, the Sun at an angle and the camera
spotlight. The camera looks at the station from about 25 m. Each run renders a
new frame from scratch (Embree scene build, primary and shadow rays, shading,
texture, sensor noise and glare). Wall-clock and process CPU seconds are both
printed: on a shared machine the CPU time is the steadier figure (with two
threads, wall ~ CPU / 2 on two idle cores).

    python benchmarks/bench_render.py [--runs 7] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import trimesh

from spacead._threads import tile_threads
from spacead.render import RaycastRenderer
from spacead.scene import ANOMALY, Body, Camera, Lighting, Part, Scene

TARGET_S = 1.0  # 1920 x 1080 with its mask, on the 2-core development machine


def _place(
    mesh: trimesh.Trimesh, rotation: np.ndarray, offset: tuple[float, ...]
) -> trimesh.Trimesh:
    transform = np.eye(4)
    transform[:3, :3] = rotation
    transform[:3, 3] = offset
    mesh.apply_transform(transform)
    return mesh


def station_scene(seed: int = 0) -> Scene:
    """A synthetic station of roughly 50 k triangles with a hazard, Moon and Earth."""
    rng = np.random.default_rng(seed)
    along_x = trimesh.geometry.align_vectors([0, 0, 1], [1, 0, 0])[:3, :3]
    parts: list[Part] = []
    for i in range(6):  # pressurised modules along x, foil-covered or painted
        x = -20.0 + 8.0 * i
        body = trimesh.creation.cylinder(radius=2.1, height=7.0, sections=96)
        parts.append(
            Part(
                f"module_{i}", _place(body, along_x, (x, 0, 0)), ("white_paint", "gold_mli")[i % 2]
            )
        )
        ring = trimesh.creation.cylinder(radius=2.3, height=0.3, sections=96)
        parts.append(Part(f"ring_{i}", _place(ring, along_x, (x - 3.6, 0, 0)), "grey_metal"))
    truss = trimesh.creation.box(extents=(60.0, 1.2, 1.2))
    parts.append(Part("truss", _place(truss, np.eye(3), (0, 0, -5.0)), "grey_metal"))
    for side in (-1, 1):  # solar wings and radiators
        for k in range(4):
            wing = trimesh.creation.box(extents=(3.5, 14.0, 0.05))
            parts.append(
                Part(
                    f"wing_{side}_{k}",
                    _place(wing, np.eye(3), (side * (7.0 + 4.0 * k), 0, -6.0)),
                    "solar_cell",
                )
            )
        rad = trimesh.creation.box(extents=(6.0, 3.0, 0.05))
        parts.append(
            Part(f"radiator_{side}", _place(rad, np.eye(3), (side * 10.0, -6.0, -3.0)), "radiator")
        )
    materials = ("silver_mli", "grey_metal", "dark_metal", "white_fabric", "gold_mli")
    for j in range(300):  # equipment: handrails, boxes, antennas
        rot = trimesh.transformations.random_rotation_matrix(rng.random(3))[:3, :3]
        pos = (rng.uniform(-24, 24), rng.uniform(-3, 3), rng.uniform(-6, 3))
        if j % 2:
            mesh = trimesh.creation.cylinder(
                radius=rng.uniform(0.05, 0.4), height=rng.uniform(0.5, 3), sections=64
            )
        else:
            mesh = trimesh.creation.box(extents=rng.uniform(0.2, 1.5, 3))
        parts.append(Part(f"equipment_{j}", _place(mesh, rot, pos), materials[j % len(materials)]))
    hazard = trimesh.creation.box(extents=(0.8, 0.3, 0.5))
    parts.append(
        Part("hazard:toolbox", _place(hazard, np.eye(3), (3.0, -1.0, 10.0)), "orange_tool", ANOMALY)
    )
    sun = np.array([0.5, -0.6, 0.62])
    lighting = Lighting(sun / np.linalg.norm(sun), 1.0, spotlight_intensity=150.0, ambient=0.01)
    bodies = (
        Body("moon", np.array([-4000.0, -2500.0, -30000.0]), 4000.0, "moon"),
        Body("earth", np.array([9000.0, -6000.0, -40000.0]), 1200.0, "earth"),
    )
    return Scene(tuple(parts), lighting, bodies)


def camera(width: int, height: int) -> Camera:
    """Camera 25 m in front of the station (+z side), looking back at it (-z)."""
    rotation = np.diag([-1.0, 1.0, -1.0])  # x right, y down, z forward = -z world
    return Camera(np.array([2.0, -2.0, 25.0]), rotation, width, height, 60.0)


def timings(
    renderer: RaycastRenderer, scene: Scene, cam: Camera, runs: int
) -> tuple[list[float], list[float]]:
    """Wall-clock and process CPU seconds of ``runs`` renders (after one warm-up)."""
    renderer.render(scene, cam, rng=0)  # warm-up: numba cache load / JIT
    wall, cpu = [], []
    for k in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        renderer.render(scene, cam, rng=k)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    scene = station_scene()
    renderer = RaycastRenderer(threads=args.threads)
    n_tri = sum(len(p.mesh.faces) for p in scene.parts)
    print(f"scene: {len(scene.parts)} parts, {n_tri} triangles, {len(scene.bodies)} bodies")
    print(f"threads: {args.threads or tile_threads()}")
    for width, height in ((1920, 1080), (960, 540)):
        cam = camera(width, height)
        wall, cpu = timings(renderer, scene, cam, args.runs)
        covered = float(np.mean(renderer.render(scene, cam, rng=0).mask > 0))
        note = f"  (target <= {TARGET_S:.1f} s)" if width == 1920 else ""
        print(
            f"{width} x {height}: median {statistics.median(wall):.3f} s, best {min(wall):.3f} s "
            f"(CPU median {statistics.median(cpu):.3f} s) over {args.runs} runs, "
            f"{covered:.0%} of pixels hit{note}"
        )


if __name__ == "__main__":
    main()
