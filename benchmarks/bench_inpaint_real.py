"""The image-completion detector on real terrain photographs with planted hardware.

    python benchmarks/bench_inpaint_real.py [--frames moon,gravel] [--seed 0] [--out inpaint-real]
        [--train-args "--width 8 --tile 128 ..."] [--scan-args "--fine-scope frame ..."]

A held-out check of `spacead inpaint train` / `spacead inpaint scan` (the Mars HiRISE
article's method) on images that the synthetic terrain generator did not make. The
frames are fixed:

* ``moon``: ``skimage.data.moon()``, a 512×512 photograph of the lunar surface;
* ``gravel``: ``skimage.data.gravel()``, a 512×512 photograph of gravel (grey uint8).

Each is upscaled ×4 to 2048×2048 with OpenCV's bicubic interpolation (clipped to uint8),
and six hardware-like objects are planted on it by ``spacead.simulate.plant_objects(frame,
6, rng=SEED)``. The frame is written as ``OUT/NAME/frame.tif`` and the objects' boxes as
``OUT/NAME/frame.objects.csv``. Then the CLI runs exactly as a user would run it, in a
subprocess (this checkout's ``src`` first on PYTHONPATH):

    python -m spacead inpaint train OUT/NAME/frame.tif --out OUT/NAME/model.pt [TRAIN ARGS] --quiet
    python -m spacead inpaint scan OUT/NAME/frame.tif --model OUT/NAME/model.pt --out OUT/NAME/scan [SCAN ARGS] --quiet

with ``--train-args`` / ``--scan-args`` (shell-split) appended; empty by default, i.e. the
CLI's own defaults. Each command is timed (wall seconds). From ``OUT/NAME/scan/tiles.csv``
(``y,x,size,score,z,flagged``; ``y,x`` a tile's top-left) it counts, for k = 3, 4, 5:

* found: objects overlapped by at least one tile with z > k;
* false tiles: tiles with z > k overlapping no object, and their share of all scanned tiles;
* found in top 20: objects overlapped by one of the 20 tiles of highest z (whatever k).

It prints one row per (frame, k), each object's highest z, and writes all figures with the
exact commands and timings to ``OUT/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SRC = Path(__file__).resolve().parents[1] / "src"
if str(SRC) not in sys.path:  # this checkout's spacead, not an installed one
    sys.path.insert(0, str(SRC))

import spacead  # noqa: E402
from spacead._fileio import write_csv  # noqa: E402
from spacead.simulate import PlantedObject, plant_objects  # noqa: E402
from spacead.tiles import write_tiff  # noqa: E402

FRAMES = ("moon", "gravel")
N_OBJECTS = 6
UPSCALE = 4
KS = (3.0, 4.0, 5.0)
TOP = 20


def real_frame(name: str) -> np.ndarray:
    """The scikit-image photograph `name` as grey uint8, upscaled ×4 (bicubic)."""
    import cv2
    from skimage import color, data, util

    image = getattr(data, name)()
    if image.ndim == 3:
        image = color.rgb2gray(image[..., :3])
    image = util.img_as_ubyte(image)
    h, w = image.shape
    big = cv2.resize(
        image.astype(np.float32), (w * UPSCALE, h * UPSCALE), interpolation=cv2.INTER_CUBIC
    )
    return np.clip(np.rint(big), 0, 255).astype(np.uint8)


def cli_env() -> dict[str, str]:
    """The environment with this checkout's ``src`` first on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


def cli_spacead() -> str:
    """Where the subprocesses import spacead from."""
    cmd = [sys.executable, "-c", "import spacead; print(spacead.__file__)"]
    return subprocess.run(
        cmd, env=cli_env(), capture_output=True, text=True, check=True
    ).stdout.strip()


def run_cli(cmd: list[str], log: Path) -> float:
    """Run `cmd` with this checkout's spacead; its output goes to `log`. Wall seconds."""
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=cli_env(), capture_output=True, text=True)
    wall = time.perf_counter() - t
    log.write_text(f"$ {shlex.join(cmd)}\n{proc.stdout}{proc.stderr}")
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {shlex.join(cmd)}\n{proc.stderr}")
    return wall


def read_tiles(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-left corners, sides and z-scores of the scanned tiles in `tiles.csv`."""
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return table[:, :2].astype(np.int64), table[:, 2].astype(np.int64), table[:, 4]


def overlap_matrix(
    coords: np.ndarray, sizes: np.ndarray, objects: list[PlantedObject]
) -> np.ndarray:
    """``hits[i, j]``: tile i overlaps object j's box (PlantedObject.overlaps, vectorised)."""
    y, x, s = coords[:, 0:1], coords[:, 1:2], sizes[:, None]
    y0, x0, y1, x1 = (
        np.array([getattr(o, a) for o in objects])[None] for a in ("y0", "x0", "y1", "x1")
    )
    return (y < y1) & (y + s > y0) & (x < x1) & (x + s > x0)


def evaluate(scan_dir: Path, objects: list[PlantedObject]) -> dict:
    """Objects found and false tiles at each k, objects in the top tiles, each object's best z."""
    coords, sizes, z = read_tiles(scan_dir / "tiles.csv")
    hits = overlap_matrix(coords, sizes, objects)
    on_object = hits.any(axis=1)
    rows = []
    for k in KS:
        flag = z > k
        false = int((flag & ~on_object).sum())
        rows.append(
            {
                "k": k,
                "found": int(hits[flag].any(axis=0).sum()),
                "flagged_tiles": int(flag.sum()),
                "false_tiles": false,
                "false_pct": 100.0 * false / len(z),
            }
        )
    top = np.argsort(-z, kind="stable")[:TOP]
    best = [float(z[hits[:, j]].max()) if hits[:, j].any() else None for j in range(len(objects))]
    return {
        "tiles": len(z),
        "by_k": rows,
        f"found_top{TOP}": int(hits[top].any(axis=0).sum()),
        f"false_in_top{TOP}": int((~on_object[top]).sum()),
        "objects": [o.to_dict() | {"max_z": b} for o, b in zip(objects, best, strict=True)],
    }


def bench_frame(name: str, args: argparse.Namespace) -> dict:
    folder = Path(args.out) / name
    folder.mkdir(parents=True, exist_ok=True)
    real = real_frame(name)
    image, objects = plant_objects(real, N_OBJECTS, rng=args.seed)
    frame = write_tiff(folder / "frame.tif", image)
    write_csv(
        folder / "frame.objects.csv",
        ["kind", "y0", "x0", "y1", "x1"],
        ([o.kind, o.y0, o.x0, o.y1, o.x1] for o in objects),
    )
    model, scan_dir = folder / "model.pt", folder / "scan"
    py = [sys.executable, "-m", "spacead", "inpaint"]
    train = [
        *py,
        "train",
        str(frame),
        "--out",
        str(model),
        *shlex.split(args.train_args),
        "--quiet",
    ]
    scan = [
        *py,
        "scan",
        str(frame),
        "--model",
        str(model),
        "--out",
        str(scan_dir),
        *shlex.split(args.scan_args),
        "--quiet",
    ]
    print(
        f"{name}: {image.shape[0]}×{image.shape[1]}, {len(objects)} objects; training ...",
        flush=True,
    )
    train_s = run_cli(train, folder / "train.log")
    print(f"{name}: trained in {train_s:.0f} s; scanning ...", flush=True)
    scan_s = run_cli(scan, folder / "scan.log")
    print(f"{name}: scanned in {scan_s:.0f} s", flush=True)
    return {
        "frame": str(frame),
        # 0 is no-data to plant_objects and to the scan (centres holding one are skipped).
        "zero_pixels": int((real == 0).sum()),
        "commands": {"train": shlex.join(train), "scan": shlex.join(scan)},
        "seconds": {"train": round(train_s, 1), "scan": round(scan_s, 1)},
        **evaluate(scan_dir, objects),
    }


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--frames", default=",".join(FRAMES), help="comma-separated, among moon, gravel")
    p.add_argument("--seed", type=int, default=0, help="plant_objects seed (default 0)")
    p.add_argument("--train-args", default="", help="appended to `inpaint train` (shell-split)")
    p.add_argument("--scan-args", default="", help="appended to `inpaint scan` (shell-split)")
    p.add_argument("--out", default="inpaint-real")
    args = p.parse_args()
    names = [n.strip() for n in args.frames.split(",") if n.strip()]
    bad = [n for n in names if n not in FRAMES]
    if bad or not names:
        p.error(f"--frames must be among {', '.join(FRAMES)}, got {args.frames!r}")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    imported = cli_spacead()
    print(f"spacead: {spacead.__file__} (subprocesses: {imported})", flush=True)
    results = {name: bench_frame(name, args) for name in names}

    print(f"\nframe   k   found  false tiles  % false  found in top {TOP}   train s  scan s")
    for name, r in results.items():
        for row in r["by_k"]:
            print(
                f"{name:6s} {row['k']:3.0f}  {row['found']:2d}/{N_OBJECTS}  {row['false_tiles']:11d}  "
                f"{row['false_pct']:7.2f}  {r[f'found_top{TOP}']:12d}/{N_OBJECTS}  "
                f"{r['seconds']['train']:8.0f}  {r['seconds']['scan']:6.0f}"
            )
    for name, r in results.items():
        print(
            f"{name}: {r['tiles']} tiles scanned, {r['zero_pixels']} zero (no-data) pixels before planting"
        )
        for o in r["objects"]:
            mz = "none" if o["max_z"] is None else f"{o['max_z']:.2f}"
            print(f"  {o['kind']:12s} box y {o['y0']}-{o['y1']} x {o['x0']}-{o['x1']}: max z {mz}")
    report = {
        "spacead": spacead.__file__,
        "spacead_subprocess": imported,
        "seed": args.seed,
        "objects_per_frame": N_OBJECTS,
        "upscale": UPSCALE,
        "train_args": args.train_args,
        "scan_args": args.scan_args,
        "frames": results,
    }
    out = Path(args.out) / "results.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
