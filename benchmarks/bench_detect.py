"""Median milliseconds per 1920 x 1080 RGB query/reference pair for RXD, PAD and MRAD.

Default parameters, one process (numba and OpenCV use the machine's cores
inside it). The pair is a toy station scene with one hazard (spacead.data.make_pair);
the time of reading two PNG frames from disk is printed beside it as the floor
that any detector pays when fed from files.

    python benchmarks/bench_detect.py [--runs 21] [--height 1080 --width 1920]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numba

from spacead.data import make_pair, read_image, write_image
from spacead.detect import mrad, pad, rxd

TARGETS_MS = {"rxd": 20.0, "pad": 20.0, "mrad": 50.0}


def median_ms(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    fn()  # warm-up: JIT compile / cache load
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--width", type=int, default=1920)
    args = parser.parse_args()

    pair = make_pair(args.height, args.width, hazard="blanket", gain=1.1, shift=2, rng=1)
    q, r = pair.query, pair.reference
    with tempfile.TemporaryDirectory() as tmp:
        qp = write_image(Path(tmp) / "q.png", q)
        rp = write_image(Path(tmp) / "r.png", r)
        read_ms, _ = median_ms(lambda: (read_image(qp), read_image(rp)), args.runs)

    print(
        f"spacead detect benchmark: {args.width} x {args.height} RGB uint8, median of {args.runs} runs, "
        f"{os.cpu_count()} CPUs, numba threads {numba.get_num_threads()}, OpenCV threads {cv2.getNumThreads()}"
    )
    print(
        f"{'method':8s} {'median ms':>10s} {'min ms':>8s} {'frames/s':>9s} {'target ms':>10s}  verdict"
    )
    for name, fn in (
        ("rxd", lambda: rxd(q)),
        ("pad", lambda: pad(q, r)),
        ("mrad", lambda: mrad(q, r)),
    ):
        med, best = median_ms(fn, args.runs)
        target = TARGETS_MS[name]
        verdict = "meets" if med <= target else "MISSES"
        print(f"{name:8s} {med:10.1f} {best:8.1f} {1e3 / med:9.1f} {target:10.0f}  {verdict}")
    print(
        f"{'read 2 PNG':8s} {read_ms:10.1f}   (decoding the two frames from disk, not included above)"
    )


if __name__ == "__main__":
    main()
