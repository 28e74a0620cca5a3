"""Per-frame cost of MRAD against a reference rendered from the CAD model, idle and loaded.

The live loop of :class:`spacead.reference.LiveDetector`: render the light
components of the station model (loaded once) at the frame's reported pose,
refine the pose (optional), fit light scales and exposure to the frame, apply
the tone curve, run MRAD. The model is spacead's procedural station exported
to GLB (34.5 k triangles, 5 glTF materials), seen from test pose 43 with the
Sun, the spotlight, the Moon and the Earth; the frame is a render of it with
other light levels, a reported-pose error and sensor noise.

Each configuration runs ``--runs`` frames after two warm-up frames, first on
an idle machine, then beside two busy processes this script starts (each
spins a core in a Python loop), and prints the median and 95th percentile of
every step, side by side.

    python benchmarks/bench_reference.py [--runs 15] [--sizes 1920x1080,480x270]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from _load import busy
from spacead import get_threads
from spacead.data import FrameSpec
from spacead.detect import mrad
from spacead.reference import ReferenceParams, ReferencePipeline, to_uint8
from spacead.render import LightPaths, ReferenceRenderer, Spotlight
from spacead.scene import (
    base_poses,
    build_station,
    celestial_bodies,
    save_model,
    sky_geometry,
    with_resolution,
)

TARGETS = {  # seconds, median on an idle machine: the live loop (render + match + MRAD)
    (1920, 1080): 0.5,
    (480, 270): 0.08,
}
HIGH_TARGET = 2.0  # seconds: quality=high render + match of a 1080p frame (offline `render`)
STEPS = ("refine", "render", "match", "mrad", "total")


def _frame(width: int, height: int, glb: Path) -> tuple[np.ndarray, FrameSpec]:
    from spacead.render import Sphere
    from spacead.scene import MATERIALS, perturb

    station = build_station()
    cam = with_resolution(base_poses(station, width=1920, height=1080)[42], width, height)
    geo = sky_geometry(120)
    bodies = tuple(
        Sphere(b.name, tuple(float(v) for v in b.center), b.radius, MATERIALS[b.material].albedo)
        for b in celestial_bodies(geo)
    )
    spot = Spotlight(1500.0, 70.0, 0.3)
    truth = ReferenceRenderer(glb, paths=LightPaths.preset("high")).render(
        cam, sun_direction=geo.sun_direction, spotlight=spot, bodies=bodies
    )
    lin = truth.combine([0.8, 1.3, 0.02, 1.0, 0.8, 0.8])  # bounce light: mostly sunlight
    lin = lin + np.random.default_rng(0).normal(0, 0.004, lin.shape).astype(np.float32)
    query = to_uint8(np.clip(lin, 0, None), "srgb")
    reported = perturb(cam, np.random.default_rng(1), 0.05, 0.005)
    sun = tuple(float(v) for v in geo.sun_direction)
    return query, FrameSpec("bench.png", reported, sun, 1.0, bodies, spot)


def _measure(
    pipe: ReferencePipeline, query: np.ndarray, frame: FrameSpec, runs: int
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {k: [] for k in STEPS}
    for i in range(runs + 2):
        t0 = time.perf_counter()
        ref = pipe.reference(query, frame)
        t1 = time.perf_counter()
        mrad(query, ref.image)
        t2 = time.perf_counter()
        if i < 2:
            continue  # warm-up: numba's cached kernels, the pixel-ray cache
        for k in ("refine", "render", "match"):
            out[k].append(ref.seconds[k])
        out["mrad"].append(t2 - t1)
        out["total"].append(t2 - t0)
    return out


def _cell(values: list[float]) -> str:
    return f"{1e3 * np.median(values):.0f} / {1e3 * np.percentile(values, 95):.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--sizes", default="1920x1080,480x270")
    parser.add_argument("--only", nargs="*", default=[], help="configurations whose name starts so")
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        glb = save_model(build_station(), Path(tmp) / "station.glb")
        configs = {
            "live (defaults)": ReferenceParams(),
            "direct light only (as before)": ReferenceParams(
                quality="direct", psf_sigma=0.0, fit_materials=False, max_lines=0
            ),
            "live + refine": ReferenceParams(refine=True),
            "high (offline render)": ReferenceParams(quality="high"),
        }  # fmt: skip
        pipes = {
            name: ReferencePipeline(glb, params)
            for name, params in configs.items()
            if not args.only or any(name.startswith(o) for o in args.only)
        }
        frames = {size: _frame(*size, glb) for size in sizes}
        results = {}
        for load, condition in ((0, "idle"), (2, "2 busy processes")):
            with busy(load):
                for size in sizes:
                    for name, pipe in pipes.items():
                        if name.startswith("high") and (load or size[1] < 1080):
                            continue  # offline: its target is 1080p on an idle machine
                        runs = max(3, args.runs // 3) if name.startswith("high") else args.runs
                        results[(size, name, condition)] = _measure(pipe, *frames[size], runs)
    print(f"ms per frame, median / 95th percentile of {args.runs} frames; threads {get_threads()}")
    print("| size | reference | machine | " + " | ".join(STEPS) + " | render + match |")
    print("|---|---|---|" + "---|" * (len(STEPS) + 1))
    for (size, name, condition), r in results.items():
        rm = [a + b for a, b in zip(r["render"], r["match"], strict=True)]
        cells = " | ".join(_cell(r[k]) for k in STEPS)
        print(f"| {size[0]} x {size[1]} | {name} | {condition} | {cells} | {_cell(rm)} |")
    print(
        "\ntargets (median, idle): live loop "
        + "; ".join(f"{w} x {h} <= {t} s" for (w, h), t in TARGETS.items())
        + f"; high render + match at 1920 x 1080 <= {HIGH_TARGET} s"
    )


if __name__ == "__main__":
    main()
