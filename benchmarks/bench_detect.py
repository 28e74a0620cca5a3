"""Milliseconds per 1920 x 1080 RGB pair for RXD, PAD and MRAD, idle and beside a competing load.

Default parameters, one process, spacead's thread setting (``--threads``,
default ``auto``: each call uses the cores idle at that moment). Every method
runs ``--runs`` times after a warm-up, first on an idle machine, then beside
two busy processes that this script starts (each spins a core in a Python
loop); the median and the 95th percentile of both are printed side by side.
MRAD is timed twice: the ``mrad`` function (new buffers every call) and one
``MRADDetector`` fed the stream (buffers kept). The pair is a toy station
scene with one hazard (spacead.simulate.make_pair); the time of decoding two PNG
frames is printed beside it, the floor that any detector pays when fed from files.

    python benchmarks/bench_detect.py [--runs 41] [--threads auto|N] [--height 1080 --width 1920]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import spacead
from _load import busy
from spacead.data import read_image, write_image
from spacead.detect import MRADDetector, mrad, pad, rxd
from spacead.simulate import make_pair

# (median idle, 95th percentile beside two busy processes), ms; None: no target.
TARGETS_MS: dict[str, tuple[float, float | None]] = {
    "rxd": (15.0, None),
    "pad": (15.0, None),
    "mrad": (25.0, 60.0),
    "mrad stream": (25.0, 60.0),
}
CONDITIONS = ((0, "idle"), (2, "2 busy processes"))


def timings(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm-up: JIT cache load, buffers
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1e3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=41)
    parser.add_argument("--threads", default="auto")
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--width", type=int, default=1920)
    args = parser.parse_args()
    spacead.set_threads(args.threads)

    pair = make_pair(args.height, args.width, hazard="blanket", gain=1.1, shift=2, rng=1)
    q, r = pair.query, pair.reference
    stream = MRADDetector()
    methods: dict[str, Callable[[], object]] = {
        "rxd": lambda: rxd(q),
        "pad": lambda: pad(q, r),
        "mrad": lambda: mrad(q, r),
        "mrad stream": lambda: stream(q, r),
    }
    with tempfile.TemporaryDirectory() as tmp:
        qp = write_image(Path(tmp) / "q.png", q)
        rp = write_image(Path(tmp) / "r.png", r)
        read_ms = statistics.median(timings(lambda: (read_image(qp), read_image(rp)), 11))
    results: dict[tuple[str, str], list[float]] = {}
    for load, condition in CONDITIONS:
        with busy(load):
            for name, fn in methods.items():
                results[(name, condition)] = timings(fn, args.runs)

    print(
        f"spacead detect benchmark: {args.width} x {args.height} RGB uint8, {args.runs} runs per "
        f"cell, {os.cpu_count()} CPUs, threads {spacead.get_threads()}"
    )
    print("ms per pair, median / 95th percentile")
    print("| method | idle | 2 busy processes | target | verdict |")
    print("|---|---|---|---|---|")
    for name in methods:
        cells = []
        for _, condition in CONDITIONS:
            t = results[(name, condition)]
            cells.append(f"{statistics.median(t):.1f} / {np.percentile(t, 95):.1f}")
        med_target, p95_target = TARGETS_MS[name]
        idle_med = statistics.median(results[(name, "idle")])
        busy_p95 = float(np.percentile(results[(name, "2 busy processes")], 95))
        ok = idle_med <= med_target and (p95_target is None or busy_p95 <= p95_target)
        target = f"median <= {med_target:.0f} idle" + (
            f", p95 <= {p95_target:.0f} busy" if p95_target is not None else ""
        )
        print(f"| {name} | {cells[0]} | {cells[1]} | {target} | {'meets' if ok else 'MISSES'} |")
    print(f"\ndecoding the two frames from PNG: {read_ms:.1f} ms (not included above)")


if __name__ == "__main__":
    main()
