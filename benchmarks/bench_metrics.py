"""Throughput of the streaming pixel metrics on 1920 × 1080 score maps.

Prints, for uint8 and float32 maps, the median over ``--runs`` runs of the
throughput of ``PixelMetricAccumulator.update`` (M pixels/s, each run updating
``--maps`` times), and the median time of ``compute()``.

    python benchmarks/bench_metrics.py [--runs 7] [--maps 20] [--threads N]

The kernel runs on numba's threads; on a machine whose cores are busy with other
work, ``--threads 1`` shows the single-thread figure (spinning OpenMP threads
degrade badly when oversubscribed).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numba
import numpy as np
import numpy.typing as npt

from spacead.metrics import PixelMetricAccumulator

H, W = 1080, 1920


def _maps(rng: np.random.Generator) -> dict[str, npt.NDArray[np.generic]]:
    blurred = np.abs(rng.normal(0.0, 40.0, (H, W)))
    mrad = np.where(blurred < 30, 0.0, np.round(blurred.clip(0, 255) * 2) / 2)
    return {
        "uint8 uniform random": rng.integers(0, 256, (H, W), dtype=np.uint8),
        "float32 uniform random [0, 255)": (rng.random((H, W)) * 255).astype(np.float32),
        "float32 half-integer, mostly 0 (MRAD-like)": mrad.astype(np.float32),
    }


def _median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--maps", type=int, default=20, help="updates per run")
    parser.add_argument("--threads", type=int, default=None, help="numba threads (default: all)")
    args = parser.parse_args()
    if args.threads is not None:
        numba.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    mask = np.zeros((H, W), dtype=bool)
    mask[400:520, 900:1100] = True  # 1.2 % anomalous pixels
    print(f"{H} x {W} maps, {numba.get_num_threads()} numba threads, median of {args.runs} runs")
    for name, score_map in _maps(rng).items():
        acc = PixelMetricAccumulator()
        acc.update(score_map, mask)  # compile / allocate outside the timing

        def run(acc: PixelMetricAccumulator = acc, m: object = score_map) -> None:
            for _ in range(args.maps):
                acc.update(m, mask)

        per_map = _median_time(run, args.runs) / args.maps
        compute = _median_time(acc.compute, args.runs)
        print(
            f"{name:44s} update {H * W / per_map / 1e6:7.0f} M pixels/s "
            f"({per_map * 1e3:.2f} ms/map)   compute() {compute * 1e3:.2f} ms"
        )


if __name__ == "__main__":
    main()
