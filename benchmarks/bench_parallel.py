"""Images per second of generate and evaluate with 1 and 2 local workers and on a local Dask cluster.

    python benchmarks/bench_parallel.py [--images 40] [--width 480 --height 270]

Generates into a temporary folder each time (same seed, so the same images)
and evaluates MRAD on the result; one run per setting (these are minutes-long
jobs, not micro-benchmarks), after a warm-up that fills the numba cache.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from spacead.bench import evaluate
from spacead.data import GenerateConfig, generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--width", type=int, default=480)
    parser.add_argument("--height", type=int, default=270)
    args = parser.parse_args()
    cfg = GenerateConfig(train=0, test=args.images, width=args.width, height=args.height, seed=42)
    with tempfile.TemporaryDirectory() as tmp:
        warm = generate(
            Path(tmp) / "warm",
            GenerateConfig(train=0, test=2, width=64, height=36),
            workers=1,
            progress=False,
        )
        evaluate(warm, "mrad", workers=1, progress=False)
        print(f"{args.images} test images at {args.width} x {args.height}")
        print(f"{'backend':24s} {'generate img/s':>15s} {'evaluate img/s':>15s}")
        for label, workers, scheduler in (
            ("1 worker", 1, None),
            ("2 workers (pool)", 2, None),
            ("2 workers (Dask local)", 2, "local"),
        ):
            out = Path(tmp) / label.replace(" ", "_")
            start = time.perf_counter()
            generate(out, cfg, workers=workers, scheduler=scheduler, progress=False)
            gen = args.images / (time.perf_counter() - start)
            start = time.perf_counter()
            evaluate(out, "mrad", workers=workers, scheduler=scheduler, progress=False)
            ev = args.images / (time.perf_counter() - start)
            print(f"{label:24s} {gen:15.2f} {ev:15.1f}", flush=True)


if __name__ == "__main__":
    main()
