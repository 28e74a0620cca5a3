"""Throughput of ``spacead detect-bag``: frames per second and where the time goes.

A dataset with ``transforms.json`` and a CAD model (by default the path-traced
independent station's held-out set that ``bench_independent.py`` builds; any
dataset works) is written as recordings with ``export_bag``: raw ``rgb8`` and JPEG
images, at the dataset's size (480 × 270) and resized to 1920 × 1080 (the same
path-traced frames, intrinsics scaled). Each recording goes through
:func:`spacead.ros.detect_bag` (read, decode, TF, render, match, MRAD, write the
MCAP output) once on an idle machine and once beside two busy processes.

Per frame: the time between consecutive frames' results (the whole loop, reading
and writing included), median and 95th percentile over the frames after the
first two (the first run's kernel compilation is reported apart, as ``first``).
Stage shares come from the run's summary: ``read`` (storage and
deserialisation), ``decode``, ``tf``, ``render``, ``match``, ``detect``, ``write``.

    python benchmarks/bench_detect_bag.py [--dataset ROOT] [--frames 12]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from _load import busy
from spacead import get_threads
from spacead.data import read_image, write_image
from spacead.ros import STAGES, BagSource, detect_bag, export_bag

DEFAULT = Path("/work/data/independent/heldout")
SIZES = ((480, 270), (1920, 1080))


def _subset(root: Path, out: Path, frames: int, size: tuple[int, int]) -> Path:
    """The first ``frames`` frames of a dataset, resized to ``size`` (intrinsics scaled)."""
    data = json.loads((root / "transforms.json").read_text())
    data["frames"] = data["frames"][:frames]
    sx, sy = size[0] / data["w"], size[1] / data["h"]
    data.update(
        w=size[0],
        h=size[1],
        fl_x=data["fl_x"] * sx,
        fl_y=data["fl_y"] * sy,
        cx=data["cx"] * sx,
        cy=data["cy"] * sy,
    )
    for frame in data["frames"]:
        image = read_image(root / frame["file_path"])[..., :3]
        if image.shape[:2] != (size[1], size[0]):
            image = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
        write_image(out / frame["file_path"], image)
    shutil.copy(root / data["cad"], out / data["cad"])
    (out / "transforms.json").write_text(json.dumps(data))
    return out


def _run(bag: Path, cad: Path, topic: str, out: Path) -> tuple[list[float], dict[str, float]]:
    stamps: list[float] = []
    source = BagSource(bag, image_topic=topic, sun_topic="/sun_direction")
    start = time.perf_counter()
    done = detect_bag(
        source,
        cad,
        out,
        overwrite=True,
        progress=False,
        on_frame=lambda _: stamps.append(time.perf_counter()),
    )
    gaps = np.diff([start, *stamps]).tolist()
    return gaps, done.seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", type=Path, default=DEFAULT)
    parser.add_argument("--frames", type=int, default=12)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for size in SIZES:
            data = _subset(args.dataset, work / f"data{size[0]}", args.frames, size)
            cad = data / json.loads((data / "transforms.json").read_text())["cad"]
            for images in ("raw", "jpeg"):
                bag = export_bag(data, work / f"bag{size[0]}{images}", images=images).out
                topic = "/camera/image_raw" + ("" if images == "raw" else "/compressed")
                for load, condition in ((0, "idle"), (2, "2 busy processes")):
                    with busy(load):
                        gaps, seconds = _run(bag, cad, topic, work / "out")
                    rows.append((size, images, condition, gaps, seconds))
    print(f"detect-bag, {args.frames} frames of {args.dataset}; threads {get_threads()}")
    print(
        "| size | images | machine | first ms | ms/frame median / p95 | frames/s | "
        + " | ".join(STAGES)
        + " | read+decode+write |"
    )
    print("|---|---|---|---|---|---|" + "---|" * (len(STAGES) + 1))
    for size, images, condition, gaps, seconds in rows:
        steady = np.array(gaps[2:]) * 1e3
        loop = sum(seconds[s] for s in STAGES)
        shares = [100 * seconds[s] / loop for s in STAGES]
        io = 100 * (seconds["read"] + seconds["decode"] + seconds["write"]) / loop
        print(
            f"| {size[0]} x {size[1]} | {images} | {condition} | {gaps[0] * 1e3:.0f} | "
            f"{np.median(steady):.0f} / {np.percentile(steady, 95):.0f} | "
            f"{1e3 / np.median(steady):.1f} | "
            + " | ".join(f"{s:.1f} %" for s in shares)
            + f" | {io:.1f} % |"
        )


if __name__ == "__main__":
    main()
