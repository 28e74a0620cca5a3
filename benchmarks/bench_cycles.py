"""Seconds per image of the two renderers side by side: Blender Cycles and the ray caster.

The scene is the real procedural station (``build_station``, ~36 k triangles)
with a hazard placed in view, the Moon and the Earth from the ephemeris of one
day, seen from a test pose (``base_poses``). Each renderer renders the same
scene and camera at 1920 x 1080 and at the test resolution 480 x 270; every
render builds its scene from scratch (for Cycles: Blender factory settings,
meshes, BVH, the path-traced image and the one-sample label render for the
mask and depth), and the sensor model is applied by both. Cycles runs on the
CPU unless ``--device GPU``. Wall-clock seconds, median over ``--runs`` after
one warm-up render per size.

    python benchmarks/bench_cycles.py [--samples 16] [--runs 3] [--device CPU] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from spacead._threads import tile_threads
from spacead.render import CyclesRenderer, RaycastRenderer
from spacead.scene import (
    ANOMALY,
    TEST_POSES,
    Camera,
    Scene,
    base_poses,
    build_station,
    make_hazard,
    make_scene,
    place_hazard,
    sky_geometry,
    with_resolution,
)

SIZES = ((1920, 1080), (480, 270))


def station_scene() -> tuple[Scene, Camera]:
    """The default station with a cubesat hazard in view of the first test pose."""
    station = build_station()
    camera = base_poses(station)[TEST_POSES[0] - 1]
    hazard = place_hazard(make_hazard("cubesat_3u", rng=0), camera, station, rng=0)
    return make_scene(station, hazard, sky_geometry(100), rng=0), camera


def seconds(
    renderer: CyclesRenderer | RaycastRenderer, scene: Scene, cam: Camera, runs: int
) -> tuple[list[float], int]:
    """Wall-clock seconds of ``runs`` renders after one warm-up, and the anomaly's pixel count."""
    out = renderer.render(scene, cam, rng=0)
    wall = []
    for k in range(runs):
        start = time.perf_counter()
        renderer.render(scene, cam, rng=k)
        wall.append(time.perf_counter() - start)
    return wall, int(np.sum(out.mask == ANOMALY))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--device", choices=("CPU", "GPU"), default="CPU")
    parser.add_argument("--no-denoise", action="store_true")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--sizes", default="1920x1080,480x270")
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    scene, base = station_scene()
    n_tri = sum(len(p.mesh.faces) for p in scene.parts)
    renderers: dict[str, CyclesRenderer | RaycastRenderer] = {
        "raycast": RaycastRenderer(threads=args.threads),
        "cycles": CyclesRenderer(
            samples=args.samples,
            device=args.device,
            denoise=not args.no_denoise,
            threads=args.threads,
        ),
    }
    print(f"scene: {len(scene.parts)} parts, {n_tri} triangles, {len(scene.bodies)} bodies")
    print(
        f"cycles: {args.samples} samples/pixel, denoise {not args.no_denoise}, "
        f"device {args.device}; threads: {args.threads or tile_threads()}; runs: {args.runs}"
    )
    print(f"{'size':>11}  {'renderer':>8}  {'median s':>9}  {'best s':>7}  anomaly px")
    for width, height in sizes:
        cam = with_resolution(base, width, height)
        for name, renderer in renderers.items():
            wall, anomalous = seconds(renderer, scene, cam, args.runs)
            print(
                f"{width:>5} x {height:<4}  {name:>8}  {statistics.median(wall):9.3f}  "
                f"{min(wall):7.3f}  {anomalous}"
            )


if __name__ == "__main__":
    main()
