"""Seconds and images per second of evaluate and generate with 1 and 2 workers, and on Dask.

    python benchmarks/bench_parallel.py [--runs 3] [--images 200] [--generate 40]

``evaluate`` runs MRAD on the bench set that ``spacead bench`` makes (200
test images at 480 x 270, seed 0; generated once into a temporary folder);
``generate`` makes ``--generate`` images into a fresh folder each run (same
seed, so the same bytes). Every setting runs ``--runs`` times after a warm-up
that fills the numba cache; the median and the slowest run are printed. With
N local workers this process is one of them (see spacead._parallel), so a
second worker only adds its start-up (about 1-2 s) to a job that it shortens.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from spacead.bench import evaluate
from spacead.simulate import GenerateConfig, generate

BACKENDS = (("1 worker", 1, None), ("2 workers", 2, None), ("2 workers, Dask local", 2, "local"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--generate", type=int, default=40)
    parser.add_argument("--width", type=int, default=480)
    parser.add_argument("--height", type=int, default=270)
    args = parser.parse_args()
    bench = GenerateConfig(train=0, test=args.images, width=args.width, height=args.height, seed=0)
    small = GenerateConfig(
        train=0, test=args.generate, width=args.width, height=args.height, seed=42
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = generate(Path(tmp) / "bench", bench, progress=False)
        evaluate(root, "mrad", workers=1, progress=False)  # warm-up
        rows = []
        for label, workers, scheduler in BACKENDS:
            ev, gen = [], []
            for k in range(args.runs):
                start = time.perf_counter()
                evaluate(root, "mrad", workers=workers, scheduler=scheduler, progress=False)
                ev.append(time.perf_counter() - start)
                out = Path(tmp) / f"gen-{workers}-{scheduler}-{k}"
                start = time.perf_counter()
                generate(out, small, workers=workers, scheduler=scheduler, progress=False)
                gen.append(time.perf_counter() - start)
            rows.append((label, ev, gen))
    print(
        f"evaluate MRAD on {args.images} images and generate {args.generate} images, "
        f"{args.width} x {args.height}; median (slowest) of {args.runs} runs"
    )
    print("| backend | evaluate s | evaluate img/s | generate s | generate img/s |")
    print("|---|---|---|---|---|")
    for label, ev, gen in rows:
        e, g = statistics.median(ev), statistics.median(gen)
        print(
            f"| {label} | {e:.2f} ({max(ev):.2f}) | {args.images / e:.1f} | "
            f"{g:.2f} ({max(gen):.2f}) | {args.generate / g:.2f} |"
        )


if __name__ == "__main__":
    main()
